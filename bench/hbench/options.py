"""Command-line options of the harness, with the defaults of the full benchmark and `--quick`."""
from __future__ import annotations

import argparse
import os
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
        description="Benchmark `hamburger serve` and `hamburger bench` against llama.cpp's llama-server (--parallel N) and llama-bench on the same GGUF.")
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
    p.add_argument("--peer-slot-ctx", type=int, default=1024,
                   help="llama-server context per slot: it is started with -c PARALLEL x this (default 1024, "
                        "enough for the prefill prompt and prompt + max_tokens); ours pages its KV on demand")
    p.add_argument("--peer-omp-wait-policy", default="",
                   help="OMP_WAIT_POLICY for llama-server and llama-bench (default: unset, llama.cpp's own "
                        "behaviour, OpenMP threads spinning at barriers). `passive` makes them sleep: on this "
                        "machine ~2.7x slower when idle, ~2.5x faster while another process holds a core")
    p.add_argument("--engine-rounds", type=int, default=None,
                   help="alternating rounds of `hamburger bench` against `llama-bench` (default 3, quick 1; 0 skips)")
    p.add_argument("--engine-runs", type=int, default=3,
                   help="repetitions inside each engine round (`--runs` / `-r`; default 3)")
    p.add_argument("--max-num-seqs", type=int, default=64, help="our server's --max-num-seqs")
    p.add_argument("--model", type=Path, default=REPO / "models/SmolLM2-135M-Instruct.Q4_1.gguf")
    p.add_argument("--hamburger-bin", type=Path,
                   default=Path(os.environ.get("HAMBURGER_BIN", REPO / ".build/release/hamburger")))
    p.add_argument("--peer-bin-dir", type=Path, default=Path(os.environ["PEER_BIN"]) if os.environ.get("PEER_BIN") else None,
                   help="directory with llama-server and llama-bench (scripts/build-llama-peer.sh prints it; "
                        "default $PEER_BIN)")
    p.add_argument("--ours-arg", action="append", default=[], help="extra flag for hamburger serve (repeatable)")
    p.add_argument("--peer-arg", action="append", default=[], help="extra flag for llama-server (repeatable)")
    p.add_argument("--time-budget-min", type=float, default=None,
                   help="start no further repetition (pair of server sessions) after this many minutes (the report lists the sessions "
                        "not run); for shared machines where a full run may not finish in time")
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
    if args.engine_rounds is None:
        args.engine_rounds = 1 if quick else 3
    if "peer" in args.servers:
        if args.peer_bin_dir is None:
            p.error("the peer needs --peer-bin-dir or $PEER_BIN (run scripts/build-llama-peer.sh)")
        for tool in ("llama-server", "llama-bench"):
            if not (args.peer_bin_dir / tool).exists():
                p.error(f"{args.peer_bin_dir / tool} not found (run scripts/build-llama-peer.sh)")
    if args.peer_slot_ctx < args.prefill_tokens + 8 or args.peer_slot_ctx < args.max_tokens + 64:
        p.error("--peer-slot-ctx must hold the prefill prompt and a decode prompt plus --max-tokens")
    for name in args.servers:
        if name not in ("ours", "peer"):
            p.error(f"unknown server '{name}' (use ours and/or peer)")
    if args.max_tokens < 2 or args.repetitions < 1 or args.prefill_tokens < 8:
        p.error("--max-tokens must be >= 2, --repetitions >= 1, --prefill-tokens >= 8")
    return args
