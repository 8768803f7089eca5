#!/usr/bin/env python3
"""Golden vectors for hamburger from an independent reference: Hugging Face `transformers`.

What it does
------------
Loads `models/SmolLM2-135M-Instruct.Q4_1.gguf` with `transformers` (`gguf_file=`), which dequantizes
every tensor to float32 and de-permutes the Q/K weights back to the Hugging Face layout, then runs
PyTorch on the CPU in float32 (2 threads, deterministic algorithms) and writes into `Tests/Fixtures/`:

- `tokenizer-ids.json`  {"source", "cases": [{"text", "ids"}]}: >= 200 varied strings encoded with
  `add_special_tokens=False` (no BOS/EOS added); special tokens written in the text (`<|im_start|>`,
  `<|endoftext|>`, ...) are parsed as their special ids.
- `chat-template.json`  {"source", "default_system_message", "cases": [{"messages",
  "add_generation_prompt", "text", "ids"}]}: conversations rendered with the Jinja chat template stored
  in the GGUF (`tokenizer.apply_chat_template`), and their ids.
- `logits.json`  {"source", "cases": [{"name", "kind", "prompt", "prompt_ids", "top5_ids",
  "top5_logits", "float64_max_abs_diff", "logits"}]}: float32 logits (rounded to 5 decimals) at the
  last prompt position over the whole vocabulary (49152), for 2 plain-text and 2 chat-rendered prompts.
  `float64_max_abs_diff` is how far the float32 reference is from the same model run in float64: a
  measure of float32 rounding noise, to set a test tolerance against.
- `greedy.json`  {"source", "max_new_tokens", "eos_id", "cases": [{"messages", "prompt_ids",
  "generated_ids", "text", "finish", "min_top2_margin"}]}: greedy (argmax) continuations of chat
  prompts (template + generation prompt) with a KV-cached `generate` in float32. Generation stops at
  the end-of-sequence id (`finish: "eos"`) or after `max_new_tokens` tokens (`finish: "length"`); the
  EOS token counts towards `max_new_tokens` but is NOT included in `generated_ids`. `min_top2_margin`
  is the smallest gap between the best and second-best logit over the steps: a small one means the
  continuation is sensitive to float rounding.

The tokenizer: transformers builds it from the GGUF's vocabulary and merges, but it does not know the
`tokenizer.ggml.pre = "smollm"` pre-tokenizer and falls back to the plain GPT-2 split. SmolLM2's own
`tokenizer.json` and llama.cpp both isolate every Unicode number (\\p{N}) first, then apply the GPT-2
split. This script restores that (a `Split(\\p{N}, isolated)` before the byte-level GPT-2 split) and
records in the "source" field which fixture strings would have been tokenized differently without it.

Regenerate (from the repository root, after `make setup` has fetched the model):

    python3 -m venv /work/venv-ref
    /work/venv-ref/bin/pip install -r scripts/requirements-fixtures.txt
    /work/venv-ref/bin/python scripts/make_fixtures.py

It takes a few minutes on 2 cores. The outputs are deterministic for the pinned versions.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import platform
import sys
from pathlib import Path

import gguf
import tokenizers
import torch
import transformers
from tokenizers import Regex, pre_tokenizers
from transformers import AutoModelForCausalLM, AutoTokenizer

ROOT = Path(__file__).resolve().parent.parent
MODEL_DIR = ROOT / "models"
MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
OUT_DIR = ROOT / "Tests" / "Fixtures"
MAX_NEW_TOKENS = 40

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fixture_inputs import tokenizer_texts  # noqa: E402

# --------------------------------------------------------------------------------------------------
# Reference
# --------------------------------------------------------------------------------------------------

def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def gguf_metadata(path: Path) -> dict:
    reader = gguf.GGUFReader(str(path))
    wanted = ["tokenizer.ggml.pre", "tokenizer.ggml.add_bos_token", "tokenizer.ggml.bos_token_id",
              "tokenizer.ggml.eos_token_id", "tokenizer.ggml.unknown_token_id",
              "tokenizer.ggml.padding_token_id", "tokenizer.chat_template"]
    return {key: reader.fields[key].contents() for key in wanted if key in reader.fields}


def smollm_pre_tokenizer() -> pre_tokenizers.PreTokenizer:
    """llama.cpp's `smollm`: every \\p{N} isolated, then the GPT-2 byte-level split."""
    return pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(r"\p{N}"), behavior="isolated"),
        pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=True),
    ])


def write_json(name: str, payload: dict) -> None:
    path = OUT_DIR / name
    with path.open("w", encoding="utf-8") as handle:
        json.dump(payload, handle, ensure_ascii=False, separators=(",", ":"))
        handle.write("\n")
    print(f"wrote {path.relative_to(ROOT)} ({path.stat().st_size / 1e6:.2f} MB)")


def main() -> None:
    torch.set_num_threads(2)
    torch.manual_seed(0)
    torch.use_deterministic_algorithms(True)
    OUT_DIR.mkdir(parents=True, exist_ok=True)

    model_path = MODEL_DIR / MODEL_FILE
    meta = gguf_metadata(model_path)
    if meta.get("tokenizer.ggml.pre") != "smollm":
        sys.exit(f"expected tokenizer.ggml.pre == 'smollm', got {meta.get('tokenizer.ggml.pre')!r}")

    tokenizer = AutoTokenizer.from_pretrained(MODEL_DIR, gguf_file=MODEL_FILE)
    default_adds_bos = tokenizer("Hello").input_ids != tokenizer("Hello", add_special_tokens=False).input_ids
    hf_default_pre = str(tokenizer.backend_tokenizer.pre_tokenizer)
    texts = tokenizer_texts()
    hf_default_ids = [tokenizer(t, add_special_tokens=False).input_ids for t in texts]
    tokenizer.backend_tokenizer.pre_tokenizer = smollm_pre_tokenizer()

    versions = (f"transformers {transformers.__version__}, tokenizers {tokenizers.__version__}, "
                f"torch {torch.__version__}, gguf {importlib.metadata.version('gguf')}, python {platform.python_version()}")
    model_desc = f"{MODEL_FILE} (sha256 {sha256(model_path)})"
    tok_source = (
        f"Hugging Face AutoTokenizer.from_pretrained(gguf_file=...) on {model_desc}; {versions}. "
        f"Encoded with add_special_tokens=False; the GGUF says tokenizer.ggml.add_bos_token="
        f"{meta.get('tokenizer.ggml.add_bos_token')} and the HF tokenizer's default "
        f"{'adds' if default_adds_bos else 'adds no'} BOS/EOS. bos_id={tokenizer.bos_token_id} "
        f"({tokenizer.bos_token}), eos_id={tokenizer.eos_token_id} ({tokenizer.eos_token}), "
        f"unk_id={tokenizer.unk_token_id}, pad_id={tokenizer.pad_token_id}. The 17 CONTROL tokens "
        f"(ids 0-16) written in text are matched as special ids. Pre-tokenizer: tokenizer.ggml.pre="
        f"'smollm', i.e. Split(\\p{{N}}, isolated) then ByteLevel GPT-2 regex (as SmolLM2's "
        f"tokenizer.json and llama.cpp); transformers' GGUF loader itself falls back to "
        f"{hf_default_pre}, which is overridden here."
    )

    # 1. Tokenizer ids.
    cases = []
    divergent = []
    for text, raw_ids in zip(texts, hf_default_ids):
        ids = tokenizer(text, add_special_tokens=False).input_ids
        if ids != raw_ids:
            divergent.append(text)
        cases.append({"text": text, "ids": ids})
    write_json("tokenizer-ids.json", {
        "source": tok_source,
        "texts_where_plain_gpt2_split_differs": divergent,
        "cases": cases,
    })

    # 2. Chat template.
    template = meta.get("tokenizer.chat_template")
    default_system = "You are a helpful AI assistant named SmolLM, trained by Hugging Face"
    if tokenizer.chat_template != template or default_system not in template:
        sys.exit("the tokenizer's chat template is not the GGUF's, or its default system message changed")
    chat_cases = []
    for messages in CHAT_TEMPLATE_CONVERSATIONS:
        for add_generation_prompt in (True, False):
            if not add_generation_prompt and messages is not CHAT_TEMPLATE_CONVERSATIONS[2]:
                continue
            text = tokenizer.apply_chat_template(messages, add_generation_prompt=add_generation_prompt,
                                                 tokenize=False)
            ids = tokenizer(text, add_special_tokens=False).input_ids
            chat_cases.append({"messages": messages, "add_generation_prompt": add_generation_prompt,
                               "text": text, "ids": ids})
    write_json("chat-template.json", {
        "source": f"tokenizer.apply_chat_template with the GGUF's tokenizer.chat_template; ids as in "
                  f"tokenizer-ids.json. {versions}",
        "chat_template": template,
        "default_system_message": default_system,
        "cases": chat_cases,
    })

    # 3. Model.
    model = AutoModelForCausalLM.from_pretrained(MODEL_DIR, gguf_file=MODEL_FILE, dtype=torch.float32)
    model.eval()
    model64 = AutoModelForCausalLM.from_pretrained(MODEL_DIR, gguf_file=MODEL_FILE, dtype=torch.float32)
    model64 = model64.to(torch.float64).eval()
    model_source = (
        f"transformers AutoModelForCausalLM.from_pretrained(gguf_file=..., dtype=float32) on {model_desc} "
        f"(weights dequantized to float32, Q/K de-permuted to HF layout, tied LM head), attention "
        f"'{model.config._attn_implementation}', torch CPU float32, 2 threads, deterministic; {versions}"
    )

    def render(messages) -> str:
        return tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)

    logit_cases = []
    with torch.no_grad():
        for name, kind, prompt in LOGIT_PROMPTS:
            text = prompt if kind == "plain" else render(prompt)
            ids = tokenizer(text, add_special_tokens=False).input_ids
            input_ids = torch.tensor([ids])
            logits = model(input_ids).logits[0, -1].to(torch.float32)
            logits64 = model64(input_ids).logits[0, -1]
            diff = (logits.double() - logits64).abs().max().item()
            top = torch.topk(logits, 5)
            logit_cases.append({
                "name": name,
                "kind": kind,
                "prompt": prompt,
                "prompt_ids": ids,
                "top5_ids": top.indices.tolist(),
                "top5_logits": [round(v, 5) for v in top.values.tolist()],
                "float64_max_abs_diff": diff,
                "logits": [round(v, 5) for v in logits.tolist()],
            })
            print(f"{name}: {len(ids)} tokens, top5 {top.indices.tolist()}, |f32-f64| max {diff:.2e}, "
                  f"logits in [{logits.min().item():.2f}, {logits.max().item():.2f}]")
    write_json("logits.json", {
        "source": model_source,
        "position": "last prompt position",
        "rounding": "5 decimals",
        "cases": logit_cases,
    })

    # 4. Greedy continuations.
    eos_id = tokenizer.eos_token_id
    greedy_cases = []
    with torch.no_grad():
        for messages in GREEDY_CONVERSATIONS:
            ids = tokenizer(render(messages), add_special_tokens=False).input_ids
            out = model.generate(
                torch.tensor([ids]),
                attention_mask=torch.ones(1, len(ids), dtype=torch.long),
                max_new_tokens=MAX_NEW_TOKENS,
                do_sample=False,
                temperature=None,
                top_p=None,
                top_k=None,
                repetition_penalty=1.0,
                eos_token_id=eos_id,
                pad_token_id=eos_id,
                use_cache=True,
                output_logits=True,
                return_dict_in_generate=True,
            )
            new = out.sequences[0, len(ids):].tolist()
            margins = []
            for step in out.logits:
                two = torch.topk(step[0].float(), 2).values
                margins.append((two[0] - two[1]).item())
            finish = "eos" if new and new[-1] == eos_id else "length"
            generated = new[:-1] if finish == "eos" else new
            if eos_id in generated:
                sys.exit("EOS inside a continuation: generate did not stop at it")
            text = tokenizer.decode(generated, skip_special_tokens=False)
            greedy_cases.append({
                "messages": messages,
                "prompt_ids": ids,
                "generated_ids": generated,
                "text": text,
                "finish": finish,
                "min_top2_margin": round(min(margins), 5),
            })
            print(f"greedy {messages[-1]['content']!r}: {finish}, {len(generated)} tokens, "
                  f"min margin {min(margins):.4f}: {text!r}")
    write_json("greedy.json", {
        "source": model_source + "; model.generate(do_sample=False, repetition_penalty=1.0, "
                                 "use_cache=True) from the chat-template prompt with generation prompt",
        "max_new_tokens": MAX_NEW_TOKENS,
        "eos_id": eos_id,
        "generated_ids_exclude_eos": True,
        "cases": greedy_cases,
    })


if __name__ == "__main__":
    main()

