#!/usr/bin/env python3
"""Writes Tests/Fixtures/gguf-reference.json: the GGUF header facts and a few dequantized values of the
default model, read by the `gguf` Python package (llama.cpp's own reader), as an independent reference
for the Swift GGUF reader.

Regenerate:  python3 -m venv /tmp/venv-gguf && /tmp/venv-gguf/bin/pip install gguf==0.19.0 numpy \
             && /tmp/venv-gguf/bin/python scripts/make_gguf_fixture.py
"""
import json
import pathlib

import numpy as np
from gguf import GGUFReader
from gguf.quants import dequantize

ROOT = pathlib.Path(__file__).resolve().parent.parent
MODEL = ROOT / "models" / "SmolLM2-135M-Instruct.Q4_1.gguf"
OUT = ROOT / "Tests" / "Fixtures" / "gguf-reference.json"

reader = GGUFReader(str(MODEL))
tensors = []
samples = {}
for t in reader.tensors:
    tensors.append({"name": t.name, "dimensions": [int(d) for d in t.shape], "type": t.tensor_type.name})
by_type = {}
for t in reader.tensors:
    by_type.setdefault(t.tensor_type.name, t)
wanted = {t.name: t for t in by_type.values()}
for name in ["token_embd.weight", "blk.0.attn_q.weight", "blk.29.ffn_down.weight", "output_norm.weight"]:
    for t in reader.tensors:
        if t.name == name:
            wanted[name] = t
for name, t in wanted.items():
    values = dequantize(t.data, t.tensor_type).reshape(-1).astype(np.float32)
    samples[name] = {
        "type": t.tensor_type.name,
        "first": [float(v) for v in values[:64]],
        "last": [float(v) for v in values[-32:]],
        "sum": float(values.astype(np.float64).sum()),
        "count": int(values.size),
    }

fields = {}
for key in ["general.architecture", "llama.block_count", "llama.embedding_length", "llama.feed_forward_length",
            "llama.attention.head_count", "llama.attention.head_count_kv", "llama.context_length",
            "llama.rope.freq_base", "llama.attention.layer_norm_rms_epsilon", "tokenizer.ggml.pre",
            "tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id", "general.alignment"]:
    f = reader.fields.get(key)
    if f is None:
        continue
    v = f.contents()
    fields[key] = v
tokens = reader.fields["tokenizer.ggml.tokens"].contents()
json.dump({
    "version": int(reader.fields["GGUF.version"].contents()),
    "metadata_count": len([k for k in reader.fields if not k.startswith("GGUF.")]),
    "tensor_count": len(reader.tensors),
    "fields": fields,
    "token_count": len(tokens),
    "tokens_sample": {str(i): tokens[i] for i in [0, 1, 2, 100, 1000, 49151]},
    "tensors": tensors,
    "samples": samples,
}, open(OUT, "w"), indent=1)
print("wrote", OUT)
