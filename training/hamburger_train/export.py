"""The exported adapter: one safetensors file + one JSON config (specified in ../FORMAT.md).

    python -m hamburger_train.export --ckpt training/runs/full/best.pt \
        --out models/hamburger-smollm2-135m --confidence 0.9

Q/K rows (micro decoder attn_q/attn_k weights, LoRA B matrices of attn_q/attn_k) are written in the
GGUF layout (RoPE rotates adjacent pairs), the layout of the base's own GGUF tensors; `load_adapter`
converts them back to the halves layout this package computes in.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from .adapter import HamburgerAdapter
from .base import DEFAULT_GGUF, sha256_file
from .config import BASE_FILE_NAME, BASE_SHA256, FORMAT_VERSION, AdapterConfig
from .llama import BaseLlama

LAYER_TENSORS = ("attn_norm", "attn_q", "attn_k", "attn_v", "attn_output", "ffn_norm", "ffn_gate", "ffn_up", "ffn_down")


class AdapterFormatError(ValueError):
    """An adapter file that this loader cannot use; the message says what to do."""


def permute_to_gguf(w: torch.Tensor, n_head: int) -> torch.Tensor:
    """HF (rotate halves) -> GGUF (adjacent pairs) row order of a Q or K projection (llama.cpp's permute)."""
    rows = w.shape[0]
    return w.reshape(n_head, 2, rows // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def permute_from_gguf(w: torch.Tensor, n_head: int) -> torch.Tensor:
    """GGUF -> HF row order (inverse of permute_to_gguf)."""
    rows = w.shape[0]
    return w.reshape(n_head, rows // n_head // 2, 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def _heads_for(target: str, s) -> int | None:
    return {"attn_q": s.heads, "attn_k": s.kv_heads}.get(target)


def adapter_tensors(ad: HamburgerAdapter, s) -> dict[str, torch.Tensor]:
    """Name -> tensor in the exported (GGUF) layout, fp32."""
    t: dict[str, torch.Tensor] = {}
    e = ad.embedder
    t["embedder.pos"] = e.pos
    t["embedder.w_q"] = e.w_q
    t["embedder.w_k"] = e.w_k
    t["embedder.w_v"] = e.w_v
    t["embedder.w_out"] = e.w_out
    for i, layer in enumerate(ad.micro.layers):
        for name in LAYER_TENSORS:
            w = getattr(layer, name).detach()
            h = _heads_for(name, s)
            t[f"micro.blk.{i}.{name}.weight"] = permute_to_gguf(w, h) if h else w
    t["micro.output_norm.weight"] = ad.micro.norm
    for k in ("fc1", "fc2", "fc3"):
        lin = getattr(ad.stop, k)
        t[f"stop.{k}.weight"] = lin.weight
        t[f"stop.{k}.bias"] = lin.bias
    for l, md in enumerate(ad.lora):
        for target, lo in md.items():
            h = _heads_for(target, s)
            t[f"lora.blk.{l}.{target}.a"] = lo.a
            t[f"lora.blk.{l}.{target}.b"] = permute_to_gguf(lo.b.detach(), h) if h else lo.b
    return {k: v.detach().float().contiguous().cpu() for k, v in t.items()}


def export(ad: HamburgerAdapter, base: BaseLlama, out_stem: Path, confidence: float, dtype=torch.float16,
           training_info: dict | None = None, base_sha256: str = BASE_SHA256, base_file: str = BASE_FILE_NAME,
           min_probability: float = 0.0):
    s = base.shape
    cfg = ad.cfg
    tensors = {k: v.to(dtype) for k, v in adapter_tensors(ad, s).items()}
    out_stem = Path(out_stem)
    out_stem.parent.mkdir(parents=True, exist_ok=True)
    st_path = out_stem.with_suffix(".safetensors")
    save_file(tensors, str(st_path), metadata={"format": "hamburger-adapter", "format_version": str(FORMAT_VERSION)})
    dt_name = {torch.float16: "F16", torch.float32: "F32"}[dtype]
    meta = {
        "format": "hamburger-adapter",
        "format_version": FORMAT_VERSION,
        "weights_file": st_path.name,
        "base_model": {"file": base_file, "sha256": base_sha256, "architecture": "llama", "hidden_size": s.hidden,
                       "layers": s.layers, "heads": s.heads, "kv_heads": s.kv_heads, "head_dim": s.head_dim,
                       "intermediate_size": s.intermediate, "vocab_size": s.vocab, "rms_norm_eps": s.rms_eps,
                       "rope_theta": s.rope_theta},
        "rope_layout": "gguf",
        "rope_layout_note": "attn_q/attn_k rows of micro.blk.* and the B matrices of lora.*.attn_q/attn_k are "
                            "permuted like the base's GGUF tensors: RoPE rotates adjacent pairs (2i, 2i+1)",
        "max_steps": cfg.max_steps,
        "num_features": cfg.num_features,
        "feature_layers": list(cfg.feature_layers),
        "feature_final": "final RMSNorm output of the last base layer (the vector the LM head reads)",
        "micro_layers": cfg.micro_layers,
        "micro_positions": "features at 0..F-1, E[t_1..t_{K-1}] at F..F+K-2, causal attention",
        "embedder": {"heads": s.hidden // cfg.head_dim, "head_dim": cfg.head_dim, "position_dim": s.hidden // 2},
        "stop_head": {"sizes": [s.hidden, s.hidden, s.hidden, 1], "activation": "silu", "output": "sigmoid"},
        "lora": {"rank": cfg.lora_rank, "alpha": cfg.lora_alpha, "scaling": cfg.lora_scaling,
                 "targets": list(cfg.lora_targets) if cfg.lora_rank > 0 else [],
                 "layers": list(ad.lora_layer_ids) if cfg.lora_rank > 0 else [],
                 "applies_to": "base input rows that merge k >= 2 tokens only"},
        "default_confidence": confidence,
        "default_min_probability": min_probability,
        "stop_rule": "end the macro step after micro token i when 1 - s_i < confidence, or i = max_steps, or EOS; "
                     "drop micro token i >= 2 (ending the step before it) when its softmax probability under the "
                     "micro decoder is below min_probability",
        "eos_token_ids": [2],
        "dtype": dt_name,
        "tensors": [{"name": k, "shape": list(v.shape), "dtype": dt_name} for k, v in sorted(tensors.items())],
        "training": training_info or {},
    }
    js_path = out_stem.with_suffix(".json")
    js_path.write_text(json.dumps(meta, indent=1) + "\n")
    return st_path, js_path


def load_adapter(json_path: str | Path, base: BaseLlama, base_gguf: str | Path | None = None,
                 check_base_sha: bool = True) -> HamburgerAdapter:
    """Load an exported adapter for `base`. Rejects an unknown format version, a base whose sha256 differs
    from the one recorded (when base_gguf is given and check_base_sha), and tensors that do not match."""
    json_path = Path(json_path)
    try:
        meta = json.loads(json_path.read_text())
    except (OSError, json.JSONDecodeError) as e:
        raise AdapterFormatError(f"cannot read adapter config {json_path}: {e}; re-export the adapter") from e
    if meta.get("format") != "hamburger-adapter" or meta.get("format_version") != FORMAT_VERSION:
        raise AdapterFormatError(f"{json_path}: format {meta.get('format')!r} version {meta.get('format_version')!r} "
                                 f"is not supported (expected hamburger-adapter version {FORMAT_VERSION}); "
                                 "use a matching trainer or re-export")
    if check_base_sha and base_gguf is not None:
        actual = sha256_file(base_gguf)
        if actual != meta["base_model"]["sha256"]:
            raise AdapterFormatError(f"{json_path} was trained for base sha256 {meta['base_model']['sha256']}, "
                                     f"but {base_gguf} has sha256 {actual}; use the matching base model file")
    s = base.shape
    bm = meta["base_model"]
    if (bm["hidden_size"], bm["layers"], bm["heads"], bm["kv_heads"], bm["vocab_size"]) != \
            (s.hidden, s.layers, s.heads, s.kv_heads, s.vocab):
        raise AdapterFormatError(f"{json_path}: base shape in the config does not match the loaded base")
    lo = meta["lora"]
    cfg = AdapterConfig(max_steps=meta["max_steps"], feature_layers=tuple(meta["feature_layers"]),
                        micro_layers=meta["micro_layers"], head_dim=meta["embedder"]["head_dim"],
                        lora_rank=lo["rank"], lora_alpha=lo["alpha"],
                        lora_targets=tuple(lo["targets"]) if lo["targets"] else AdapterConfig.lora_targets,
                        lora_layers=tuple(lo["layers"]), default_confidence=meta["default_confidence"])
    st_path = json_path.parent / meta["weights_file"]
    try:
        tensors = load_file(str(st_path))
    except Exception as e:  # safetensors raises several types for damaged files
        raise AdapterFormatError(f"cannot read adapter weights {st_path}: {e}; re-export the adapter") from e
    listed = {t["name"]: t for t in meta["tensors"]}
    if set(listed) != set(tensors):
        missing, extra = sorted(set(listed) - set(tensors)), sorted(set(tensors) - set(listed))
        raise AdapterFormatError(f"{st_path}: tensors differ from the config (missing {missing[:5]}, extra {extra[:5]})")
    ad = HamburgerAdapter(base, cfg)
    expected = adapter_tensors(ad, s)
    if set(expected) != set(tensors):
        raise AdapterFormatError(f"{st_path}: tensor names do not match this format's layout")
    for k, v in tensors.items():
        if list(v.shape) != listed[k]["shape"] or v.shape != expected[k].shape:
            raise AdapterFormatError(f"{st_path}: tensor {k} has shape {list(v.shape)}, expected {list(expected[k].shape)}")
    with torch.no_grad():
        e = ad.embedder
        for name in ("pos", "w_q", "w_k", "w_v", "w_out"):
            getattr(e, name).copy_(tensors[f"embedder.{name}"].float())
        for i, layer in enumerate(ad.micro.layers):
            for name in LAYER_TENSORS:
                w = tensors[f"micro.blk.{i}.{name}.weight"].float()
                h = _heads_for(name, s)
                getattr(layer, name).copy_(permute_from_gguf(w, h) if h else w)
        ad.micro.norm.copy_(tensors["micro.output_norm.weight"].float())
        for k in ("fc1", "fc2", "fc3"):
            getattr(ad.stop, k).weight.copy_(tensors[f"stop.{k}.weight"].float())
            getattr(ad.stop, k).bias.copy_(tensors[f"stop.{k}.bias"].float())
        for l, md in enumerate(ad.lora):
            for target, lo_m in md.items():
                h = _heads_for(target, s)
                lo_m.a.copy_(tensors[f"lora.blk.{l}.{target}.a"].float())
                b = tensors[f"lora.blk.{l}.{target}.b"].float()
                lo_m.b.copy_(permute_from_gguf(b, h) if h else b)
    ad.requires_grad_(False)
    ad.eval()
    return ad


def check_gguf_layout(base: BaseLlama, gguf_path: str | Path, layer: int = 0) -> float:
    """Max |permute_to_gguf(HF q/k) - GGUF tensor| for one base layer: proves the export permutation is the
    GGUF file's own (0 up to float rounding)."""
    import numpy as np
    from gguf import GGUFReader
    from gguf.quants import dequantize

    r = GGUFReader(str(gguf_path))
    by_name = {t.name: t for t in r.tensors}
    err = 0.0
    s = base.shape
    for name, h in (("attn_q", s.heads), ("attn_k", s.kv_heads)):
        t = by_name[f"blk.{layer}.{name}.weight"]
        g = dequantize(t.data, t.tensor_type).reshape(getattr(base.layers[layer], name).shape)
        mine = permute_to_gguf(getattr(base.layers[layer], name).detach(), h).numpy()
        err = max(err, float(np.abs(mine - g).max()))
    return err


def main(argv=None):
    from .base import load_base

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ckpt", required=True)
    ap.add_argument("--out", default="models/hamburger-smollm2-135m", help="output path without extension")
    ap.add_argument("--gguf", default=str(DEFAULT_GGUF))
    ap.add_argument("--confidence", type=float, default=0.9, help="default confidence written into the JSON")
    ap.add_argument("--min-probability", type=float, default=0.0,
                    help="default micro-token probability floor written into the JSON (0 = off)")
    ap.add_argument("--confidence-from", help="eval summary JSON (evaluate/heldout report --json): use its default_confidence "
                                              "and default_min_probability")
    ap.add_argument("--dtype", choices=["f16", "f32"], default="f16")
    a = ap.parse_args(argv)
    if a.confidence_from:
        summary = json.loads(Path(a.confidence_from).read_text())
        a.confidence = float(summary["default_confidence"])
        a.min_probability = float(summary.get("default_min_probability", 0.0))
    base, _, _ = load_base(a.gguf)
    err = check_gguf_layout(base, a.gguf)
    if err > 1e-5:
        raise SystemExit(f"export: GGUF permutation check failed (max err {err}); the layout code is wrong")
    ck = torch.load(a.ckpt, map_location="cpu", weights_only=False)
    ad = HamburgerAdapter(base, AdapterConfig.from_dict(ck["adapter_cfg"]))
    ad.load_state_dict(ck["adapter"])
    info = {"checkpoint_step": ck["step"], "segment": ck["segment_cfg"], "train_seconds": round(ck.get("elapsed", 0))}
    st, js = export(ad, base, Path(a.out), a.confidence, torch.float16 if a.dtype == "f16" else torch.float32,
                    training_info=info, base_sha256=sha256_file(a.gguf), base_file=Path(a.gguf).name,
                    min_probability=a.min_probability)
    print(f"export: {st} ({st.stat().st_size / 1e6:.1f} MB), {js}; GGUF layout check max err {err:.2e}")


if __name__ == "__main__":
    main()
