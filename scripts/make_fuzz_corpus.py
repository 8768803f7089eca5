#!/usr/bin/env python3
"""Writes the small seed corpus of each fuzz target under Fuzz/corpus/<Target>/ (committed; rerun after
changing it). Seeds are valid or nearly valid inputs, so libFuzzer starts from the interesting paths.

The HTTP seeds start with one byte that the targets use to choose how the rest is cut into reads."""

from __future__ import annotations

import json
import struct
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "Fuzz" / "corpus"


def write(target: str, name: str, data: bytes) -> None:
    folder = ROOT / target
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data)


def http_seeds() -> None:
    body = json.dumps({"prompt": "Hi", "max_tokens": 4}).encode()
    requests = {
        "get": b"GET /health HTTP/1.1\r\nHost: a\r\n\r\n",
        "post": b"POST /v1/completions HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: "
        + str(len(body)).encode() + b"\r\n\r\n" + body,
        "chunked": b"POST /v1/completions HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nX-T: 1\r\n\r\n",
        "pipelined": b"GET /a HTTP/1.1\r\nHost: a\r\n\r\nGET /b HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
        "http10": b"GET / HTTP/1.0\r\n\r\n",
        "expect": b"POST /v1/chat/completions HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n{}",
        "bad-version": b"GET / HTTP/9.9\r\n\r\n",
        "both-framings": b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        "folded": b"GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n",
        "bare-lf": b"GET / HTTP/1.1\nHost: a\n\n",
    }
    for index, (name, data) in enumerate(requests.items()):
        write("FuzzHTTPParser", name, bytes([index * 37 % 256]) + data)
    chunked = {
        "one": b"5\r\nhello\r\n0\r\n\r\n",
        "two": b"3\r\nabc\r\n4;ext=1\r\ndefg\r\n0\r\n\r\n",
        "trailers": b"1\r\nz\r\n0\r\nX-Checksum: 9\r\nX-Other: y\r\n\r\n",
        "upper-hex": b"A\r\n0123456789\r\n0\r\n\r\n",
        "too-big": b"FFFFFFFFFFFFFFFFF\r\n",
        "no-crlf": b"2\r\nabX0\r\n\r\n",
    }
    for index, (name, data) in enumerate(chunked.items()):
        write("FuzzChunkedBody", name, bytes([index * 53 % 256]) + data)


def json_seeds() -> None:
    bodies = {
        "completion": {"model": "SmolLM2-135M-Instruct", "prompt": "Once upon", "max_tokens": 8, "temperature": 0.7},
        "completion-tokens": {"prompt": [[1, 2, 3], [4, 5]], "stop": ["\n", "."], "n": 2, "seed": 7, "logprobs": 2},
        "completion-stream": {"prompt": ["a", "b"], "stream": True, "stream_options": {"include_usage": True}, "top_p": 0.9, "top_k": 40},
        "chat": {"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}], "max_tokens": 5},
        "chat-parts": {"messages": [{"role": "user", "content": [{"type": "text", "text": "Hi"}]}], "logprobs": True, "top_logprobs": 3},
        "chat-sampling": {"messages": [{"role": "user", "content": "x"}], "min_p": 0.1, "presence_penalty": 0.5, "frequency_penalty": -1, "stop": "END"},
        "unsupported": {"prompt": "x", "best_of": 2},
        "misfit": {"prompt": "x", "max_tokens": 1.5},
    }
    for name, body in bodies.items():
        write("FuzzRequestJSON", name, json.dumps(body).encode())


def gguf_string(s: str) -> bytes:
    raw = s.encode()
    return struct.pack("<Q", len(raw)) + raw


def gguf_seed() -> bytes:
    """A GGUF v3 file with a tiny gpt2 tokenizer and one F32 tensor."""
    tokens = ["a", "b", "ab", "<|endoftext|>"]
    kv = [
        (gguf_string("general.architecture") + struct.pack("<I", 8) + gguf_string("llama")),
        (gguf_string("tokenizer.ggml.model") + struct.pack("<I", 8) + gguf_string("gpt2")),
        (gguf_string("tokenizer.ggml.pre") + struct.pack("<I", 8) + gguf_string("smollm")),
        (gguf_string("tokenizer.ggml.tokens") + struct.pack("<II", 9, 8) + struct.pack("<Q", len(tokens))
         + b"".join(gguf_string(t) for t in tokens)),
        (gguf_string("tokenizer.ggml.merges") + struct.pack("<II", 9, 8) + struct.pack("<Q", 1) + gguf_string("a b")),
        (gguf_string("tokenizer.ggml.token_type") + struct.pack("<II", 9, 5) + struct.pack("<Q", 4) + struct.pack("<4i", 1, 1, 1, 3)),
        (gguf_string("tokenizer.ggml.eos_token_id") + struct.pack("<I", 4) + struct.pack("<I", 3)),
        (gguf_string("general.alignment") + struct.pack("<I", 4) + struct.pack("<I", 32)),
    ]
    out = b"GGUF" + struct.pack("<IQQ", 3, 1, len(kv)) + b"".join(kv)
    out += gguf_string("w") + struct.pack("<I", 2) + struct.pack("<QQ", 2, 2) + struct.pack("<I", 0) + struct.pack("<Q", 0)
    out += b"\0" * (-len(out) % 32)
    out += struct.pack("<4f", 1, 2, 3, 4)
    return out


def safetensors(tensors: dict[str, tuple[str, list[int], bytes]], metadata: dict[str, str] | None = None) -> bytes:
    header: dict[str, object] = {}
    data = b""
    for name, (dtype, shape, raw) in tensors.items():
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    if metadata:
        header["__metadata__"] = metadata
    text = json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + data


def binary_seeds() -> None:
    write("FuzzGGUF", "tiny-tokenizer.seed", gguf_seed())
    write("FuzzGGUF", "truncated.seed", gguf_seed()[:60])
    write("FuzzSafetensors", "three-dtypes.safetensors", safetensors({
        "f32": ("F32", [2, 2], struct.pack("<4f", 1, -2, 3.5, 0)),
        "f16": ("F16", [3], struct.pack("<3e", 1, 0.5, -4)),
        "bf16": ("BF16", [1, 2], b"\x80\x3f\x00\x40"),
    }, {"format": "hamburger-adapter"}))
    write("FuzzSafetensors", "unknown-dtype.safetensors", safetensors({"q": ("I8", [4], b"\x01\x02\x03\x04")}))
    write("FuzzSafetensors", "empty.safetensors", safetensors({}))


if __name__ == "__main__":
    http_seeds()
    json_seeds()
    binary_seeds()
    print(f"wrote {sum(1 for _ in ROOT.rglob('*') if _.is_file())} seeds under {ROOT}")
