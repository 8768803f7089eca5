"""Loading the frozen base model (dequantized from the GGUF the server uses) and its tokenizer."""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

import torch

from .llama import BaseLlama

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_GGUF = REPO_ROOT / "models" / "SmolLM2-135M-Instruct.Q4_1.gguf"
EOS_IDS = (2,)  # <|im_end|>; the GGUF's eos token


def device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def sha256_file(path: str | os.PathLike) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def load_hf(gguf_path: str | os.PathLike = DEFAULT_GGUF, dtype=torch.float32):
    """(transformers model, tokenizer) loaded from the GGUF file, weights dequantized."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    p = Path(gguf_path)
    if not p.exists():
        raise FileNotFoundError(f"base model {p} not found: run `make setup` to fetch it")
    tok = AutoTokenizer.from_pretrained(str(p.parent), gguf_file=p.name)
    model = AutoModelForCausalLM.from_pretrained(str(p.parent), gguf_file=p.name, dtype=dtype)
    model.eval()
    return model, tok


def load_base(gguf_path: str | os.PathLike = DEFAULT_GGUF):
    """(BaseLlama fp32, tokenizer, hf model)."""
    model, tok = load_hf(gguf_path)
    return BaseLlama.from_hf(model), tok, model


def tiny_hf_model(seed: int = 0, vocab: int = 96, layers: int = 4):
    """A tiny random Llama with SmolLM2's structure (GQA, tied embeddings) for tests."""
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    cfg = LlamaConfig(vocab_size=vocab, hidden_size=64, intermediate_size=96, num_hidden_layers=layers,
                      num_attention_heads=4, num_key_value_heads=2, head_dim=16, rms_norm_eps=1e-5,
                      rope_theta=100000.0, tie_word_embeddings=True, max_position_embeddings=512)
    m = LlamaForCausalLM(cfg)
    with torch.no_grad():
        for p in m.parameters():
            p.normal_(0, 0.2)
        for l in m.model.layers:
            l.input_layernorm.weight.fill_(1.0)
            l.post_attention_layernorm.weight.fill_(1.0)
        m.model.norm.weight.fill_(1.0)
    m.eval()
    return m


def chat_prompt(tok, user: str) -> str:
    """The GGUF chat template (ChatML, with its default system message) applied to one user turn."""
    return tok.apply_chat_template([{"role": "user", "content": user}], tokenize=False,
                                   add_generation_prompt=True)


def chat_ids(tok, user: str) -> list[int]:
    return tok(chat_prompt(tok, user), add_special_tokens=False).input_ids
