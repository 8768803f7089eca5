"""Writes a Hugging Face tokenizer directory for lm-evaluation-harness from the GGUF's own vocabulary
and merges (no hub access here): byte-level BPE with SmolLM2's pre-tokenizer (single digits, then
GPT-2's byte-level split). Usage: python export_tokenizer.py MODEL.gguf OUT_DIR"""

import sys

import gguf
from tokenizers import Tokenizer, decoders, models, pre_tokenizers
from transformers import PreTrainedTokenizerFast

reader = gguf.GGUFReader(sys.argv[1])


def field(name):
    f = reader.fields[name]
    return [bytes(f.parts[i]).decode("utf-8") for i in f.data]


def scalar(name):
    f = reader.fields.get(name)
    return None if f is None else int(f.parts[f.data[0]][0])


tokens, merges = field("tokenizer.ggml.tokens"), field("tokenizer.ggml.merges")
vocab = {t: i for i, t in enumerate(tokens)}
bpe = Tokenizer(models.BPE(vocab=vocab, merges=[tuple(m.split(" ", 1)) for m in merges], fuse_unk=False))
bpe.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Digits(individual_digits=True),
                                             pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)])
bpe.decoder = decoders.ByteLevel()
eos = scalar("tokenizer.ggml.eos_token_id")
fast = PreTrainedTokenizerFast(tokenizer_object=bpe, eos_token=tokens[eos] if eos is not None else None)
fast.save_pretrained(sys.argv[2])
print(f"{len(tokens)} tokens, {len(merges)} merges -> {sys.argv[2]}")
