"""Reference decoder CLI and the parity fixture for the Swift engine.

    python -m hamburger_train.generate --adapter models/hamburger-smollm2-135m.json \
        --fixture Tests/Fixtures/hamburger-greedy.json
    python -m hamburger_train.generate --adapter models/hamburger-smollm2-135m.json --prompt "Hi!" --confidence 0.9
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from .base import DEFAULT_GGUF, chat_ids, chat_prompt, load_base, sha256_file
from .decoder import HamburgerDecoder
from .export import load_adapter

FIXTURE_PROMPTS = [
    "What is the capital of France?",
    "Write a haiku about the sea.",
    "Explain photosynthesis in one sentence.",
    "Give me three tips for staying focused while studying.",
    "What is 17 + 25?",
    "Write a Python function that reverses a string.",
    "Translate to French: Good morning, how are you?",
    "Why is the sky blue?",
]


def parse_setting(text: str) -> tuple[float, float]:
    """"0.6" -> (0.6, 0.0); "0.2/p0.9" -> (0.2, 0.9)."""
    conf, _, floor = text.partition("/")
    if floor and not floor.startswith("p"):
        raise ValueError(f"a setting is CONFIDENCE or CONFIDENCE/pMIN_PROBABILITY, got {text!r}")
    return float(conf), float(floor[1:]) if floor else 0.0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--adapter", default="models/hamburger-smollm2-135m.json")
    ap.add_argument("--gguf", default=str(DEFAULT_GGUF))
    ap.add_argument("--prompt", action="append", help="user message (repeatable)")
    ap.add_argument("--setting", action="append",
                    help="CONFIDENCE or CONFIDENCE/pMIN_PROBABILITY, repeatable; default: the adapter's default, 0.5, 0.1, "
                         "0.2/p0.9 and 0.1/p0.5")
    ap.add_argument("--max-new-tokens", type=int, default=48)
    ap.add_argument("--fixture", help="write the parity fixture JSON here")
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args(argv)
    torch.set_num_threads(a.threads)
    base, tok, _ = load_base(a.gguf)
    ad = load_adapter(a.adapter, base, a.gguf)
    meta = json.loads(Path(a.adapter).read_text())
    default = (meta["default_confidence"], meta.get("default_min_probability", 0.0))
    settings = ([parse_setting(x) for x in a.setting] if a.setting
                else list(dict.fromkeys([default, (0.5, 0.0), (0.1, 0.0), (0.2, 0.9), (0.1, 0.5)])))
    prompts = a.prompt or FIXTURE_PROMPTS
    dec = HamburgerDecoder(base, ad)
    cases = []
    for p in prompts:
        ids = chat_ids(tok, p)
        ar = dec.generate(ids, a.max_new_tokens, None)
        for c, pmin in settings:
            g = dec.generate(ids, a.max_new_tokens, c, pmin)
            text = tok.decode(g.tokens)
            print(f"[conf {c} p_min {pmin}] {p!r} -> {len(g.tokens) / len(g.group_sizes):.2f} tok/step: {text!r}", flush=True)
            cases.append({"prompt": p, "chat": chat_prompt(tok, p), "prompt_ids": ids, "confidence": c, "min_probability": pmin,
                          "tokens": g.tokens, "group_sizes": g.group_sizes, "kv_entries": g.kv_entries,
                          "text": text, "base_tokens": ar.tokens})
    if a.fixture:
        st = Path(a.adapter).parent / meta["weights_file"]
        why = [f"confidence {default[0]} with min_probability {default[1]} is the adapter's default"]
        if (0.5, 0.0) in settings:
            why.append("0.5 merges often")
        if (0.1, 0.0) in settings:
            why.append("0.1 is far below any useful setting (degraded text), included only because it exercises "
                       "merged inputs, LoRA and the micro decoder on almost every step")
        if any(pmin > 0 for _, pmin in settings):
            why.append("the settings with min_probability > 0 exercise the quality-first floor (micro tokens dropped)")
        fx = {"description": "HAMburger greedy parity fixture: the Swift engine must produce these token ids "
                             "and group sizes (one per macro step) for prompt_ids at each confidence; "
                             + ", ".join(why),
              "generator": "python -m hamburger_train.generate (training/hamburger_train/decoder.py), fp32",
              "adapter_json": Path(a.adapter).name, "adapter_weights_sha256": sha256_file(st),
              "base_model": Path(a.gguf).name, "base_sha256": sha256_file(a.gguf),
              "max_new_tokens": a.max_new_tokens, "eos_token_ids": [2],
              "settings": [{"confidence": c, "min_probability": pmin} for c, pmin in settings], "cases": cases}
        Path(a.fixture).parent.mkdir(parents=True, exist_ok=True)
        Path(a.fixture).write_text(json.dumps(fx, indent=1) + "\n")
        print(f"generate: wrote {a.fixture} ({len(cases)} cases)")


if __name__ == "__main__":
    main()
