"""A small functional Llama forward used by training, the reference decoder and evaluation.

Why not the `transformers` forward: HAMburger feeds merged inputs whose RoPE positions jump
(prompt 0..n-1, then the flat position of each group's last token) and stores one KV entry per input.
Here the attention mask is always explicit (causal over *input slots*, never inferred from positions),
KV slots are dense, and merge-only LoRA deltas are applied per row. The weights are the Hugging Face
ones (Q/K rows in the "rotate halves" RoPE layout); export.py converts to the GGUF layout.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn


@dataclass
class LlamaShape:
    hidden: int
    intermediate: int
    layers: int
    heads: int
    kv_heads: int
    head_dim: int
    vocab: int
    rms_eps: float
    rope_theta: float

    @staticmethod
    def from_hf(cfg) -> "LlamaShape":
        theta = getattr(cfg, "rope_theta", None)
        if theta is None:
            theta = (getattr(cfg, "rope_parameters", None) or {}).get("rope_theta", 10000.0)
        head_dim = getattr(cfg, "head_dim", None) or cfg.hidden_size // cfg.num_attention_heads
        return LlamaShape(cfg.hidden_size, cfg.intermediate_size, cfg.num_hidden_layers,
                          cfg.num_attention_heads, cfg.num_key_value_heads, head_dim, cfg.vocab_size,
                          float(cfg.rms_norm_eps), float(theta))


def rms_norm(x: torch.Tensor, weight: torch.Tensor, eps: float) -> torch.Tensor:
    xf = x.float()
    y = xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + eps)
    return (y * weight.float()).to(x.dtype)


def rope_cos_sin(positions: torch.Tensor, head_dim: int, theta: float) -> tuple[torch.Tensor, torch.Tensor]:
    """cos/sin [B, T, head_dim] for the halves layout (pair i = dims i and i + head_dim/2)."""
    inv = 1.0 / (theta ** (torch.arange(0, head_dim, 2, dtype=torch.float32, device=positions.device) / head_dim))
    ang = positions.float()[..., None] * inv  # [B, T, hd/2]
    ang = torch.cat([ang, ang], dim=-1)
    return ang.cos(), ang.sin()


def apply_rope(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """x [B, H, T, D]; cos/sin [B, T, D]."""
    half = x.shape[-1] // 2
    rot = torch.cat([-x[..., half:], x[..., :half]], dim=-1)
    c = cos[:, None].to(x.dtype)
    s = sin[:, None].to(x.dtype)
    return x * c + rot * s


class LoRA(nn.Module):
    """Low-rank delta `scaling * B (A x)` applied only where `row_mask` is 1 (merged inputs)."""

    def __init__(self, d_in: int, d_out: int, rank: int, scaling: float):
        super().__init__()
        self.a = nn.Parameter(torch.randn(rank, d_in) / math.sqrt(d_in))
        self.b = nn.Parameter(torch.zeros(d_out, rank))
        self.scaling = scaling

    def forward(self, x: torch.Tensor, row_mask: torch.Tensor) -> torch.Tensor:
        delta = F.linear(F.linear(x, self.a.to(x.dtype)), self.b.to(x.dtype)) * self.scaling
        return delta * row_mask[..., None].to(delta.dtype)


class LlamaLayerWeights(nn.Module):
    """One decoder layer's weights (HF naming inside, GGUF naming in export)."""

    def __init__(self, s: LlamaShape):
        super().__init__()
        d = s.hidden
        self.attn_norm = nn.Parameter(torch.ones(d))
        self.attn_q = nn.Parameter(torch.zeros(s.heads * s.head_dim, d))
        self.attn_k = nn.Parameter(torch.zeros(s.kv_heads * s.head_dim, d))
        self.attn_v = nn.Parameter(torch.zeros(s.kv_heads * s.head_dim, d))
        self.attn_output = nn.Parameter(torch.zeros(d, s.heads * s.head_dim))
        self.ffn_norm = nn.Parameter(torch.ones(d))
        self.ffn_gate = nn.Parameter(torch.zeros(s.intermediate, d))
        self.ffn_up = nn.Parameter(torch.zeros(s.intermediate, d))
        self.ffn_down = nn.Parameter(torch.zeros(d, s.intermediate))

    @staticmethod
    def from_hf(layer, s: LlamaShape) -> "LlamaLayerWeights":
        w = LlamaLayerWeights(s)
        with torch.no_grad():
            w.attn_norm.copy_(layer.input_layernorm.weight)
            w.attn_q.copy_(layer.self_attn.q_proj.weight)
            w.attn_k.copy_(layer.self_attn.k_proj.weight)
            w.attn_v.copy_(layer.self_attn.v_proj.weight)
            w.attn_output.copy_(layer.self_attn.o_proj.weight)
            w.ffn_norm.copy_(layer.post_attention_layernorm.weight)
            w.ffn_gate.copy_(layer.mlp.gate_proj.weight)
            w.ffn_up.copy_(layer.mlp.up_proj.weight)
            w.ffn_down.copy_(layer.mlp.down_proj.weight)
        return w


def _proj(x, weight, name, lora, row_mask):
    y = F.linear(x, weight.to(x.dtype))
    if lora is not None and name in lora and row_mask is not None:
        y = y + lora[name](x, row_mask)
    return y


def layer_forward(w: LlamaLayerWeights, s: LlamaShape, h: torch.Tensor, cos, sin, mask: torch.Tensor,
                  cache: list | None = None, lora: nn.ModuleDict | None = None,
                  row_mask: torch.Tensor | None = None) -> torch.Tensor:
    """h [B, T, d]; mask bool [B, 1, T, S_total] (True = attend); cache = [k, v] appended in place."""
    B, T, _ = h.shape
    x = rms_norm(h, w.attn_norm, s.rms_eps)
    q = _proj(x, w.attn_q, "attn_q", lora, row_mask).view(B, T, s.heads, s.head_dim).transpose(1, 2)
    k = _proj(x, w.attn_k, "attn_k", lora, row_mask).view(B, T, s.kv_heads, s.head_dim).transpose(1, 2)
    v = _proj(x, w.attn_v, "attn_v", lora, row_mask).view(B, T, s.kv_heads, s.head_dim).transpose(1, 2)
    q = apply_rope(q, cos, sin)
    k = apply_rope(k, cos, sin)
    if cache is not None:
        if cache[0] is not None:
            k = torch.cat([cache[0], k], dim=2)
            v = torch.cat([cache[1], v], dim=2)
        cache[0], cache[1] = k, v
    rep = s.heads // s.kv_heads
    k = k.repeat_interleave(rep, dim=1)
    v = v.repeat_interleave(rep, dim=1)
    a = F.scaled_dot_product_attention(q, k.to(q.dtype), v.to(q.dtype), attn_mask=mask)
    a = a.transpose(1, 2).reshape(B, T, s.heads * s.head_dim)
    h = h + _proj(a, w.attn_output, "attn_output", lora, row_mask)
    x = rms_norm(h, w.ffn_norm, s.rms_eps)
    g = _proj(x, w.ffn_gate, "ffn_gate", lora, row_mask)
    u = _proj(x, w.ffn_up, "ffn_up", lora, row_mask)
    h = h + _proj(F.silu(g) * u, w.ffn_down, "ffn_down", lora, row_mask)
    return h


def causal_mask(valid: torch.Tensor) -> torch.Tensor:
    """valid bool [B, T] (False = padding) -> bool [B, 1, T, T]: slot i attends to valid slots <= i.

    Every query attends at least to itself, so padded rows never produce NaN."""
    T = valid.shape[1]
    tri = torch.ones(T, T, dtype=torch.bool, device=valid.device).tril()
    m = tri[None] & valid[:, None, :]
    m = m | torch.eye(T, dtype=torch.bool, device=valid.device)[None]
    return m[:, None]


class BaseLlama(nn.Module):
    """The frozen base: token embedding E (tied LM head), layers, final norm."""

    def __init__(self, s: LlamaShape):
        super().__init__()
        self.shape = s
        self.embed = nn.Parameter(torch.zeros(s.vocab, s.hidden))
        self.layers = nn.ModuleList([LlamaLayerWeights(s) for _ in range(s.layers)])
        self.norm = nn.Parameter(torch.ones(s.hidden))

    @staticmethod
    def from_hf(model) -> "BaseLlama":
        s = LlamaShape.from_hf(model.config)
        b = BaseLlama(s)
        with torch.no_grad():
            b.embed.copy_(model.model.embed_tokens.weight)
            b.norm.copy_(model.model.norm.weight)
        b.layers = nn.ModuleList([LlamaLayerWeights.from_hf(l, s) for l in model.model.layers])
        b.requires_grad_(False)
        return b

    def logits(self, normed: torch.Tensor) -> torch.Tensor:
        return F.linear(normed, self.embed.to(normed.dtype))

    def forward(self, embeds: torch.Tensor, positions: torch.Tensor, mask: torch.Tensor,
                caches: list | None = None, lora: list | None = None, row_mask: torch.Tensor | None = None,
                keep_layers: str | tuple = "all"):
        """Run the base. embeds [B,T,d], positions [B,T] RoPE positions, mask bool [B,1,T,S].

        Returns (final_normed [B,T,d], layer outputs list (index l = output of layer l) or the requested ones).
        """
        s = self.shape
        cos, sin = rope_cos_sin(positions, s.head_dim, s.rope_theta)
        h = embeds
        outs = {}
        for i, w in enumerate(self.layers):
            h = layer_forward(w, s, h, cos, sin, mask,
                              None if caches is None else caches[i],
                              None if lora is None else lora[i], row_mask)
            if keep_layers == "all" or i in keep_layers:
                outs[i] = h
        return rms_norm(h, self.norm, s.rms_eps), outs


def new_caches(n_layers: int) -> list:
    return [[None, None] for _ in range(n_layers)]
