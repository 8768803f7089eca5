"""Command-line options of the harness, with the defaults of the full benchmark and `--quick`."""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _ints(text: str) -> list[int]:
    values = [int(v) for v in text.split(",") if v.strip()]
    if not values or any(v < 1 for v in values):
        raise argparse.ArgumentTypeError("expected a comma-separated list of positive integers")
    return values


def _names(text: str) -> list[str]:
    values = [v.strip() for v in text.split(",") if v.strip()]
    if not values:
        raise argparse.ArgumentTypeError("expected a comma-separated list")
    return values


def parse(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="hbench",
        description="Benchmark `hamburger serve` against llama-cpp-python's server on the same GGUF.")
    p.add_argument("--quick", action="store_true",
                   help="smoke run: concurrency 1,4, max_tokens 32, one repetition, fewer requests")
    p.add_argument("--concurrency", type=_ints, default=None, help="default 1,4,16,32 (quick: 1,4)")
    p.add_argument("--max-tokens", type=int, default=None, help="tokens per request (default 128, quick 32)")
    p.add_argument("--repetitions", type=int, default=None,
                   help="A/B repetitions; each starts both servers afresh (default 3, quick 1)")
    p.add_argument("--requests-per-stream", type=int, default=2,
                   help="requests per run = max(min-requests, this x concurrency) (default 2)")
    p.add_argument("--min-requests", type=int, default=None, help="default 8 (quick 4)")
    p.add_argument("--modes", type=_names, default=["autoregressive"],
                   help="decoding modes, comma-separated (autoregressive,hamburger); a mode a server "
                        "refuses with 4xx is skipped for it (the peer only does autoregressive)")
    p.add_argument("--servers", type=_names, default=["ours", "peer"], help="ours,peer (default both)")
    p.add_argument("--prefill-tokens", type=int, default=512, help="prompt length of the prefill test")
    p.add_argument("--prefill-samples", type=int, default=None, help="prefill requests per session (default 3, quick 2)")
    p.add_argument("--threads", type=int, default=2, help="compute threads for both servers (default 2)")
    p.add_argument("--n-ctx", type=int, default=8192,
                   help="peer context length; ours uses its max_model_len default (the model's 8192)")
    p.add_argument("--max-num-seqs", type=int, default=64, help="our server's --max-num-seqs")
    p.add_argument("--model", type=Path, default=REPO / "models/SmolLM2-135M-Instruct.Q4_1.gguf")
    p.add_argument("--hamburger-bin", type=Path,
                   default=Path(os.environ.get("HAMBURGER_BIN", REPO / ".build/release/hamburger")))
    p.add_argument("--peer-python", default=sys.executable,
                   help="Python with llama-cpp-python[server] installed (default: this one)")
    p.add_argument("--ours-arg", action="append", default=[], help="extra flag for hamburger serve (repeatable)")
    p.add_argument("--peer-arg", action="append", default=[], help="extra flag for llama_cpp.server (repeatable)")
    p.add_argument("--out-dir", type=Path, default=REPO / "bench",
                   help="where RESULTS.md, results.json and the PNG plots go (default bench/)")
    p.add_argument("--work-dir", type=Path, default=REPO / "bench/.work", help="server logs")
    p.add_argument("--request-timeout", type=float, default=1800.0, help="seconds per request at most")
    p.add_argument("--start-timeout", type=float, default=300.0, help="seconds for a server to become ready")
    p.add_argument("--note", default=None, help="a line to put at the top of RESULTS.md")
    args = p.parse_args(argv)
    quick = args.quick
    if args.concurrency is None:
        args.concurrency = [1, 4] if quick else [1, 4, 16, 32]
    if args.max_tokens is None:
        args.max_tokens = 32 if quick else 128
    if args.repetitions is None:
        args.repetitions = 1 if quick else 3
    if args.min_requests is None:
        args.min_requests = 4 if quick else 8
    if args.prefill_samples is None:
        args.prefill_samples = 2 if quick else 3
    for name in args.servers:
        if name not in ("ours", "peer"):
            p.error(f"unknown server '{name}' (use ours and/or peer)")
    if args.max_tokens < 2 or args.repetitions < 1 or args.prefill_tokens < 8:
        p.error("--max-tokens must be >= 2, --repetitions >= 1, --prefill-tokens >= 8")
    return args
