"""Export/import round trip, the GGUF Q/K layout, rejection of bad files, and reference decoding."""
import json

import pytest
import torch

from hamburger_train.adapter import HamburgerAdapter
from hamburger_train.decoder import HamburgerDecoder
from hamburger_train.export import (AdapterFormatError, adapter_tensors, export, load_adapter, permute_from_gguf,
                                    permute_to_gguf)
from hamburger_train.llama import apply_rope, rope_cos_sin

from conftest import randomize, tiny_cfg


def rope_adjacent(x, pos, theta):
    """RoPE rotating adjacent pairs (2i, 2i+1): the GGUF / llama.cpp convention."""
    d = x.shape[-1]
    inv = 1.0 / (theta ** (torch.arange(0, d, 2, dtype=torch.float32) / d))
    ang = pos.float()[:, None] * inv
    c, s = ang.cos()[:, None], ang.sin()[:, None]  # [T, 1, d/2]
    x0, x1 = x[..., 0::2], x[..., 1::2]
    out = torch.empty_like(x)
    out[..., 0::2] = x0 * c - x1 * s
    out[..., 1::2] = x0 * s + x1 * c
    return out


def test_permutation_round_trip_and_rope_equivalence():
    heads, hd, d = 3, 8, 12
    w = torch.randn(heads * hd, d)
    assert torch.equal(permute_from_gguf(permute_to_gguf(w, heads), heads), w)
    x = torch.randn(5, d)
    pos = torch.tensor([0, 1, 2, 7, 30])
    q_hf = (x @ w.T).view(5, heads, hd).transpose(0, 1)[None]  # [1, H, T, hd]
    cos, sin = rope_cos_sin(pos[None], hd, 10000.0)
    r_hf = apply_rope(q_hf, cos, sin)[0].transpose(0, 1)  # [T, H, hd]
    q_gg = (x @ permute_to_gguf(w, heads).T).view(5, heads, hd)
    r_gg = rope_adjacent(q_gg, pos, 10000.0)
    # same rotated vectors up to the per-head permutation: dot products (attention scores) agree
    assert torch.allclose(torch.einsum("thd,shd->hts", r_hf, r_hf), torch.einsum("thd,shd->hts", r_gg, r_gg), atol=1e-4)


def _export(tiny_base, tmp_path, dtype=torch.float32):
    torch.manual_seed(0)
    ad = randomize(HamburgerAdapter(tiny_base, tiny_cfg()))
    fake_base = tmp_path / "base.gguf"
    fake_base.write_bytes(b"not really a gguf, but it has a sha256")
    from hamburger_train.base import sha256_file

    st, js = export(ad, tiny_base, tmp_path / "adapter", 0.8, dtype=dtype, base_sha256=sha256_file(fake_base),
                    base_file="base.gguf")
    return ad, st, js, fake_base


def test_round_trip_is_exact_in_fp32(tiny_base, tmp_path):
    ad, st, js, fake = _export(tiny_base, tmp_path)
    back = load_adapter(js, tiny_base, fake)
    a, b = adapter_tensors(ad, tiny_base.shape), adapter_tensors(back, tiny_base.shape)
    assert set(a) == set(b)
    for k in a:
        assert torch.equal(a[k], b[k]), k
    for (n1, p1), (n2, p2) in zip(ad.state_dict().items(), back.state_dict().items()):
        assert n1 == n2 and torch.equal(p1, p2), n1
    meta = json.loads(js.read_text())
    assert meta["format_version"] == 1 and meta["default_confidence"] == 0.8 and meta["rope_layout"] == "gguf"
    names = {t["name"] for t in meta["tensors"]}
    assert "micro.blk.0.attn_q.weight" in names and "lora.blk.0.attn_k.b" in names and "embedder.w_out" in names


def test_exported_qk_rows_are_in_gguf_layout(tiny_base, tmp_path):
    from safetensors.torch import load_file

    ad, st, js, _ = _export(tiny_base, tmp_path)
    t = load_file(str(st))
    s = tiny_base.shape
    assert torch.equal(t["micro.blk.0.attn_q.weight"], permute_to_gguf(ad.micro.layers[0].attn_q.detach(), s.heads))
    assert torch.equal(t["micro.blk.1.attn_k.weight"], permute_to_gguf(ad.micro.layers[1].attn_k.detach(), s.kv_heads))
    assert torch.equal(t["lora.blk.2.attn_q.b"], permute_to_gguf(ad.lora[2]["attn_q"].b.detach(), s.heads))
    assert torch.equal(t["micro.blk.0.attn_v.weight"], ad.micro.layers[0].attn_v.detach())  # V untouched


def test_fp16_export_decodes_like_the_loaded_file(tiny_base, tmp_path):
    _, st, js, fake = _export(tiny_base, tmp_path, dtype=torch.float16)
    assert json.loads(js.read_text())["dtype"] == "F16"
    a = load_adapter(js, tiny_base, fake)
    b = load_adapter(js, tiny_base, fake)
    ga = HamburgerDecoder(tiny_base, a, eos_ids=(95,)).generate([1, 2, 3, 4], 12, 0.5)
    gb = HamburgerDecoder(tiny_base, b, eos_ids=(95,)).generate([1, 2, 3, 4], 12, 0.5)
    assert ga.tokens == gb.tokens and sum(ga.group_sizes) == len(ga.tokens) == 12


def test_rejects_unknown_version(tiny_base, tmp_path):
    _, _, js, fake = _export(tiny_base, tmp_path)
    meta = json.loads(js.read_text())
    meta["format_version"] = 99
    js.write_text(json.dumps(meta))
    with pytest.raises(AdapterFormatError, match="version"):
        load_adapter(js, tiny_base, fake)


def test_rejects_a_different_base(tiny_base, tmp_path):
    _, _, js, _ = _export(tiny_base, tmp_path)
    other = tmp_path / "other.gguf"
    other.write_bytes(b"another model")
    with pytest.raises(AdapterFormatError, match="sha256"):
        load_adapter(js, tiny_base, other)


def test_rejects_missing_or_misshapen_tensors(tiny_base, tmp_path):
    from safetensors.torch import load_file, save_file

    _, st, js, fake = _export(tiny_base, tmp_path)
    t = load_file(str(st))
    t2 = dict(t)
    del t2["stop.fc3.bias"]
    save_file(t2, str(st))
    with pytest.raises(AdapterFormatError, match="missing"):
        load_adapter(js, tiny_base, fake)
    t3 = dict(t)
    t3["embedder.pos"] = torch.zeros(3, 3)
    save_file(t3, str(st))
    with pytest.raises(AdapterFormatError, match="shape"):
        load_adapter(js, tiny_base, fake)
    st.write_bytes(b"garbage")
    with pytest.raises(AdapterFormatError):
        load_adapter(js, tiny_base, fake)


def test_untrained_adapter_keeps_the_base_first_token_and_kv_count(tiny_base):
    torch.manual_seed(0)
    ad = HamburgerAdapter(tiny_base, tiny_cfg())  # W_out = 0, LoRA B = 0
    dec = HamburgerDecoder(tiny_base, ad, eos_ids=(95,))
    prompt = [3, 1, 4, 1, 5]
    ar = dec.generate(prompt, 10, None)
    hb = dec.generate(prompt, 10, 0.5)
    assert hb.tokens[0] == ar.tokens[0]
    assert ar.group_sizes == [1] * 10 and ar.kv_entries == len(prompt) + 9
    assert hb.kv_entries == len(prompt) + len(hb.group_sizes) - 1
    assert all(1 <= k <= 4 for k in hb.group_sizes)
    # confidence 1.0 never continues a step: one token per step, the base's own greedy output
    one = dec.generate(prompt, 10, 1.0)
    assert one.tokens == ar.tokens


def test_min_probability_drops_unsure_micro_tokens(tiny_base):
    torch.manual_seed(0)
    ad = HamburgerAdapter(tiny_base, tiny_cfg())
    dec = HamburgerDecoder(tiny_base, ad, eos_ids=(95,))
    prompt = [3, 1, 4, 1, 5]
    free = dec.generate(prompt, 12, 0.01)
    assert max(free.group_sizes) > 1, "the untrained micro decoder continues groups at confidence 0.01"
    # A floor of (almost) 1 drops every micro token: one token per step, the base's own greedy output.
    strict = dec.generate(prompt, 12, 0.01, min_probability=0.999999)
    assert strict.group_sizes == [1] * 12
    assert strict.tokens == dec.generate(prompt, 12, None).tokens
    # A floor of 0 is off.
    assert dec.generate(prompt, 12, 0.01, min_probability=0.0).tokens == free.tokens
