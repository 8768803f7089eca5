"""The grafted HAMburger modules: compositional embedder, micro-step decoder, stop head, merge-only LoRA.

Shapes follow HAMBURGER.md; the math here is what the Swift engine implements (see ../FORMAT.md).
Weights are kept in the Hugging Face (rotate-halves) RoPE layout; export.py converts to GGUF layout.
"""
from __future__ import annotations

import copy
import math

import torch
import torch.nn.functional as F
from torch import nn

from .config import AdapterConfig
from .llama import BaseLlama, LlamaLayerWeights, LlamaShape, LoRA, causal_mask, layer_forward, rms_norm, rope_cos_sin


class Embedder(nn.Module):
    """C(t_1..t_k): k = 1 is E[t]; k > 1 is mean + W_out · Attn(W_q m; W_k [e_i;P_i], W_v [e_i;P_i])."""

    def __init__(self, d: int, max_steps: int, head_dim: int):
        super().__init__()
        if d % head_dim != 0 or d % 2 != 0:
            raise ValueError(f"hidden size {d} must be even and a multiple of head_dim {head_dim}")
        self.d, self.K, self.head_dim, self.heads = d, max_steps, head_dim, d // head_dim
        self.pos = nn.Parameter(torch.randn(max_steps, d // 2) * 0.02)
        self.w_q = nn.Parameter(torch.randn(d, d) / math.sqrt(d))
        self.w_k = nn.Parameter(torch.randn(d, d + d // 2) / math.sqrt(d + d // 2))
        self.w_v = nn.Parameter(torch.randn(d, d + d // 2) / math.sqrt(d + d // 2))
        self.w_out = nn.Parameter(torch.zeros(d, d))

    def forward(self, e: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """e [N, K, d] token embeddings (rows >= length are ignored), lengths [N] in 1..K -> [N, d]."""
        N, K, d = e.shape
        valid = torch.arange(K, device=e.device)[None] < lengths[:, None]  # [N, K]
        vf = valid.to(e.dtype)[..., None]
        m = (e * vf).sum(1) / lengths[:, None].to(e.dtype)
        kv_in = torch.cat([e, self.pos[:K][None].expand(N, K, d // 2).to(e.dtype)], dim=-1)
        q = F.linear(m, self.w_q.to(e.dtype)).view(N, self.heads, self.head_dim)
        k = F.linear(kv_in, self.w_k.to(e.dtype)).view(N, K, self.heads, self.head_dim)
        v = F.linear(kv_in, self.w_v.to(e.dtype)).view(N, K, self.heads, self.head_dim)
        sc = torch.einsum("nhd,nkhd->nhk", q.float(), k.float()) / math.sqrt(self.head_dim)
        sc = sc.masked_fill(~valid[:, None, :], float("-inf"))
        w = sc.softmax(-1).to(e.dtype)
        a = torch.einsum("nhk,nkhd->nhd", w, v).reshape(N, d)
        out = m + F.linear(a, self.w_out.to(e.dtype))
        single = (lengths == 1)[:, None]
        return torch.where(single, e[:, 0], out)


class StopHead(nn.Module):
    """sigmoid(fc3(silu(fc2(silu(fc1(h)))))): probability that the macro step ends after this token."""

    def __init__(self, d: int):
        super().__init__()
        self.fc1 = nn.Linear(d, d)
        self.fc2 = nn.Linear(d, d)
        self.fc3 = nn.Linear(d, 1)

    def logit(self, h: torch.Tensor) -> torch.Tensor:
        return self.fc3(F.silu(self.fc2(F.silu(self.fc1(h))))).squeeze(-1)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.logit(h).float())


class MicroDecoder(nn.Module):
    """L_mu Llama layers + final RMSNorm over [F features, E[t_1..t_{K-1}]] at positions 0..F+K-2."""

    def __init__(self, base: BaseLlama, n_layers: int):
        super().__init__()
        s = base.shape
        self.shape = s
        self.layers = nn.ModuleList([copy.deepcopy(base.layers[s.layers - n_layers + i]) for i in range(n_layers)])
        self.norm = nn.Parameter(base.norm.detach().clone())
        self.layers.requires_grad_(True)

    def forward(self, x: torch.Tensor, valid: torch.Tensor, caches: list | None = None,
                start_pos: int = 0) -> torch.Tensor:
        """x [N, T, d]; valid bool [N, T]; returns raw outputs h [N, T, d] (not normed).

        With caches (batch 1 decoding), x holds the new rows only, at positions start_pos.."""
        N, T, _ = x.shape
        pos = torch.arange(start_pos, start_pos + T, device=x.device)[None].expand(N, T)
        cos, sin = rope_cos_sin(pos, self.shape.head_dim, self.shape.rope_theta)
        if caches is None:
            mask = causal_mask(valid)
        else:
            total = start_pos + T
            mask = torch.ones(T, total, dtype=torch.bool, device=x.device).tril(diagonal=start_pos)[None, None]
        h = x
        for i, w in enumerate(self.layers):
            h = layer_forward(w, self.shape, h, cos, sin, mask, None if caches is None else caches[i])
        return h

    def normed(self, h: torch.Tensor) -> torch.Tensor:
        return rms_norm(h, self.norm, self.shape.rms_eps)


def lora_dims(s: LlamaShape, target: str) -> tuple[int, int]:
    """(d_in, d_out) of a LoRA target."""
    q, kv = s.heads * s.head_dim, s.kv_heads * s.head_dim
    return {"attn_q": (s.hidden, q), "attn_k": (s.hidden, kv), "attn_v": (s.hidden, kv),
            "attn_output": (q, s.hidden), "ffn_gate": (s.hidden, s.intermediate),
            "ffn_up": (s.hidden, s.intermediate), "ffn_down": (s.intermediate, s.hidden)}[target]


class HamburgerAdapter(nn.Module):
    """Everything trained: embedder, micro decoder, stop head, merge-only LoRA per base layer."""

    def __init__(self, base: BaseLlama, cfg: AdapterConfig):
        super().__init__()
        s = base.shape
        for l in cfg.feature_layers:
            if not 0 <= l < s.layers - 1:
                raise ValueError(f"feature layer {l} out of range 0..{s.layers - 2}")
        self.cfg = cfg
        self.embedder = Embedder(s.hidden, cfg.max_steps, cfg.head_dim)
        self.micro = MicroDecoder(base, cfg.micro_layers)
        self.stop = StopHead(s.hidden)
        layers = range(s.layers) if cfg.lora_layers is None else cfg.lora_layers
        self.lora_layer_ids = list(layers)
        self.lora = nn.ModuleList()
        for i in range(s.layers):
            md = nn.ModuleDict()
            if i in self.lora_layer_ids and cfg.lora_rank > 0:
                for t in cfg.lora_targets:
                    din, dout = lora_dims(s, t)
                    md[t] = LoRA(din, dout, cfg.lora_rank, cfg.lora_scaling)
            self.lora.append(md)

    def features(self, final_normed: torch.Tensor, layer_outs: dict) -> torch.Tensor:
        """[..., F, d]: outputs of the feature layers, then the final normed hidden state."""
        return torch.stack([layer_outs[l] for l in self.cfg.feature_layers] + [final_normed], dim=-2)


def grow(ad: HamburgerAdapter, base: BaseLlama, lora_rank: int | None = None,
         micro_layers: int | None = None) -> HamburgerAdapter:
    """A larger adapter that computes exactly what `ad` computes (more capacity to train from there).

    lora_rank > the current rank: the old A rows and B columns are kept, new A rows are random and new B
    columns zero (alpha grows with the rank, so the scaling alpha/rank stays). micro_layers > the current
    count: the old layers stay first, each new one is a copy of the base's last layer with its attention
    output and FFN down projections zeroed (an identity on the residual stream until trained)."""
    cfg = ad.cfg
    r0, l0 = cfg.lora_rank, cfg.micro_layers
    r1 = r0 if lora_rank is None else lora_rank
    l1 = l0 if micro_layers is None else micro_layers
    if r1 < r0 or l1 < l0:
        raise ValueError(f"grow only grows: LoRA rank {r0} -> {r1}, micro layers {l0} -> {l1}")
    d = cfg.to_dict()
    d.update(lora_rank=r1, lora_alpha=cfg.lora_scaling * r1, micro_layers=l1)
    new = HamburgerAdapter(base, AdapterConfig.from_dict(d)).to(next(ad.parameters()).device)
    old_sd, new_sd = ad.state_dict(), new.state_dict()
    with torch.no_grad():
        for k, v in old_sd.items():
            t = new_sd[k]
            if t.shape == v.shape:
                t.copy_(v)
            elif k.startswith("lora.") and k.endswith(".a"):
                t[:r0].copy_(v)
            elif k.startswith("lora.") and k.endswith(".b"):
                t.zero_()
                t[:, :r0].copy_(v)
            else:
                raise ValueError(f"cannot grow tensor {k}: {tuple(v.shape)} -> {tuple(t.shape)}")
        for i in range(l0, l1):
            lw = new.micro.layers[i]
            lw.load_state_dict(base.layers[base.shape.layers - 1].state_dict())
            lw.attn_output.zero_()
            lw.ffn_down.zero_()
    new.load_state_dict(new_sd)
    new.micro.layers.requires_grad_(True)
    return new
