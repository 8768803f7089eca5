"""Greedy HAMburger decoding, batch 1, KV-cached, exactly per HAMBURGER.md "One macro step".

This is the Python reference the Swift engine must match token for token (fp32 throughout).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch

from .adapter import HamburgerAdapter
from .llama import BaseLlama, causal_mask, new_caches


@dataclass
class Generation:
    tokens: list[int] = field(default_factory=list)
    group_sizes: list[int] = field(default_factory=list)  # tokens emitted by each macro step
    kv_entries: int = 0  # base KV entries written (prompt + merged inputs)


class HamburgerDecoder:
    def __init__(self, base: BaseLlama, ad: HamburgerAdapter | None, eos_ids=(2,)):
        self.base, self.ad, self.eos = base, ad, set(eos_ids)
        self.feature_layers = tuple(ad.cfg.feature_layers) if ad is not None else ()

    def _base_step(self, embeds, positions, caches, merged: bool):
        T = embeds.shape[1]
        past = 0 if caches[0][0] is None else caches[0][0].shape[2]
        if past == 0:
            mask = causal_mask(torch.ones(1, T, dtype=torch.bool))
        else:
            mask = torch.ones(T, past + T, dtype=torch.bool).tril(diagonal=past)[None, None]
        lora = self.ad.lora if (self.ad is not None and merged) else None
        row_mask = torch.ones(1, T) if lora is not None else None
        final, outs = self.base(embeds, positions, mask, caches=caches, lora=lora, row_mask=row_mask,
                                keep_layers=self.feature_layers)
        return final[:, -1], {l: o[:, -1] for l, o in outs.items()}

    @torch.no_grad()
    def generate(self, prompt_ids: list[int], max_new: int, confidence: float | None,
                 min_probability: float = 0.0) -> Generation:
        """confidence None = autoregressive mode (k = 1 forever, no micro decoder).

        min_probability: the quality-first floor. A micro token (i >= 2) whose softmax probability
        under the micro decoder (temperature 1, whole vocabulary) is below it is dropped and its group
        ends before it; the next base pass predicts that position itself. 0 = off."""
        base, ad = self.base, self.ad
        E = base.embed
        n = len(prompt_ids)
        caches = new_caches(base.shape.layers)
        final, outs = self._base_step(E[torch.tensor([prompt_ids])], torch.arange(n)[None], caches, merged=False)
        g = Generation(kv_entries=n)
        pos = n - 1
        K = ad.cfg.max_steps if (ad is not None and confidence is not None) else 1
        while len(g.tokens) < max_new:
            group: list[int] = []
            t = int(base.logits(final).argmax(-1))
            group.append(t)
            done = t in self.eos or len(g.tokens) + 1 >= max_new
            if K > 1 and not done:
                s = float(ad.stop(final))
                if not (1 - s < confidence):
                    feats = ad.features(final, outs)  # [1, F, d]
                    mcache = new_caches(len(ad.micro.layers))
                    x = torch.cat([feats, E[torch.tensor([[t]])]], dim=1)
                    start = 0
                    while True:
                        h = ad.micro(x, torch.ones(1, x.shape[1], dtype=torch.bool), caches=mcache, start_pos=start)[:, -1]
                        start += x.shape[1]
                        logits = base.logits(ad.micro.normed(h))
                        t = int(logits.argmax(-1))
                        if min_probability > 0 and float(torch.softmax(logits.float(), -1).reshape(-1)[t]) < min_probability:
                            break  # dropped: the group ends before it
                        group.append(t)
                        if t in self.eos or len(g.tokens) + len(group) >= max_new or len(group) == K:
                            done = t in self.eos or len(g.tokens) + len(group) >= max_new
                            break
                        if 1 - float(ad.stop(h)) < confidence:
                            break
                        x = E[torch.tensor([[t]])]
            g.tokens.extend(group)
            g.group_sizes.append(len(group))
            if done or group[-1] in self.eos or len(g.tokens) >= max_new:
                break
            k = len(group)
            if k == 1:
                inp = E[torch.tensor([group])]
            else:
                gt = torch.tensor([group + [0] * (ad.cfg.max_steps - k)])
                inp = ad.embedder(E[gt], torch.tensor([k]))[:, None]
            pos += k
            final, outs = self._base_step(inp, torch.tensor([[pos]]), caches, merged=k >= 2)
            g.kv_entries += 1
        return g
