"""Loading the frozen base model (dequantized from the GGUF the server uses) and its tokenizer."""
from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import torch

from .llama import BaseLlama

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_GGUF = REPO_ROOT / "models" / "SmolLM2-135M-Instruct.Q4_1.gguf"
EOS_IDS = (2,)  # <|im_end|>; the GGUF's eos token


def device(prefer: str = "auto") -> torch.device:
    """"auto": CUDA when torch sees a GPU, else the CPU; "cpu" / "cuda" force one (cuda fails without a GPU)."""
    if prefer == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if prefer == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("--device cuda: torch sees no CUDA device")
    if prefer not in ("cpu", "cuda"):
        raise ValueError(f"unknown device {prefer!r} (auto, cpu or cuda)")
    return torch.device(prefer)


def autocast_dtype(dev: torch.device) -> torch.dtype:
    """bf16 on the CPU (AVX-512 BF16) and on GPUs that support it; fp16 on older GPUs."""
    if dev.type == "cuda" and not torch.cuda.is_bf16_supported():
        return torch.float16
    return torch.bfloat16


def sha256_file(path: str | os.PathLike) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def hf_cache_dir(gguf_path: str | os.PathLike) -> Path:
    """Where the dequantized copy of a GGUF is kept: models/.cache/<file stem>-<sha256 prefix>-hf, or under
    $HAMBURGER_HF_CACHE. Keyed by content, so a replaced GGUF never reuses a stale copy."""
    p = Path(gguf_path)
    root = Path(os.environ.get("HAMBURGER_HF_CACHE", p.parent / ".cache"))
    return root / f"{p.stem}-{sha256_file(p)[:16]}-hf"


def load_hf(gguf_path: str | os.PathLike = DEFAULT_GGUF, dtype=torch.float32):
    """(transformers model, tokenizer) loaded from the GGUF file, weights dequantized.

    Dequantizing the GGUF takes transformers most of a minute on two cores, and every stage of a run (data,
    training, export, evaluation, fixture) loads the base again: the first load saves the float32 model and
    tokenizer in `hf_cache_dir` (safetensors) and later loads read that copy in about a second."""
    from transformers import AutoModelForCausalLM

    p = Path(gguf_path)
    if not p.exists():
        raise FileNotFoundError(f"base model {p} not found: run `make setup` to fetch it")
    cache = hf_cache_dir(p)
    tok = load_tokenizer(p, cache)
    if (cache / "config.json").exists():
        model = AutoModelForCausalLM.from_pretrained(str(cache), dtype=torch.float32)
    else:
        model = AutoModelForCausalLM.from_pretrained(str(p.parent), gguf_file=p.name, dtype=torch.float32)
        tmp = cache.with_name(f"{cache.name}.tmp{os.getpid()}")
        try:  # a cache is an optimisation: a read-only or full disk only costs the next load its time
            # the weights are plain float32 tensors by now; only the loader's "gguf" mark stops saving them
            model.hf_quantizer = None
            if hasattr(model.config, "quantization_config"):
                del model.config.quantization_config
            model.save_pretrained(str(tmp))
            tok.save_pretrained(str(tmp))
            tmp.rename(cache)
        except OSError:
            shutil.rmtree(tmp, ignore_errors=True)
    model.to(dtype)
    model.eval()
    return model, tok


def load_tokenizer(gguf_path: str | os.PathLike = DEFAULT_GGUF, cache: Path | None = None):
    """The tokenizer alone (from the dequantized cache when there is one)."""
    from transformers import AutoTokenizer

    p = Path(gguf_path)
    cache = cache or hf_cache_dir(p)
    if (cache / "config.json").exists():
        return AutoTokenizer.from_pretrained(str(cache))
    return AutoTokenizer.from_pretrained(str(p.parent), gguf_file=p.name)


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
