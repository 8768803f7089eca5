"""Engine-level comparison without HTTP: `hamburger bench` against llama.cpp's `llama-bench`, in
alternating rounds (ours, peer, ours, peer, ...), each a fresh process.

- Single-stream decode. Ours: `hamburger bench --prompt-tokens 32 --decode-tokens 128` (a 32-token prompt,
  then 128 tokens generated one at a time, greedy; decode tok/s = 128 / decode time). Peer: llama-bench's
  `tg128` (128 tokens generated one at a time from an empty context).
- Prefill. Ours: `hamburger bench --prompt-tokens 512 --decode-tokens 1` (one forward pass over 512
  prompt tokens). Peer: llama-bench's `pp512` (512 prompt tokens in one batch).

Each tool takes the median of its own `--runs` / `-r` repetitions within a round; the report takes the
median over rounds."""
from __future__ import annotations

import json
import os
import subprocess
from typing import Callable

from .servers import peer_env
from .stats import median

DECODE_PROMPT_TOKENS = 32


def _run(argv: list[str], timeout: float, env: dict[str, str] | None = None) -> str:
    out = subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                         env={**os.environ, **(env or {})})
    if out.returncode != 0:
        raise RuntimeError(f"{argv[0]} exited with {out.returncode}: {out.stderr[-2000:]}")
    return out.stdout


def _last_json_object(text: str) -> dict:
    for line in reversed(text.strip().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            return json.loads(line)
    raise RuntimeError(f"no JSON object in output: {text[-500:]}")


def ours_argv(args, prompt_tokens: int, decode_tokens: int) -> list[str]:
    return [str(args.hamburger_bin), "bench", "--model", str(args.model), "--threads", str(args.threads),
            "--prompt-tokens", str(prompt_tokens), "--decode-tokens", str(decode_tokens),
            "--runs", str(args.engine_runs), "--json"]


def peer_argv(args) -> list[str]:
    return [str(args.peer_bin_dir / "llama-bench"), "-m", str(args.model), "-p", str(args.prefill_tokens),
            "-n", str(args.max_tokens), "-t", str(args.threads), "-r", str(args.engine_runs), "-o", "json"]


def ours_round(args) -> dict:
    decode = _last_json_object(_run(ours_argv(args, DECODE_PROMPT_TOKENS, args.max_tokens), args.request_timeout))
    prefill = _last_json_object(_run(ours_argv(args, args.prefill_tokens, 1), args.request_timeout))
    return {"decode_tok_per_s": decode["decode_tokens_per_second"],
            "prefill_tok_per_s": prefill["prefill_tokens_per_second"]}


def peer_round(args) -> dict:
    entries = json.loads(_run(peer_argv(args), args.request_timeout, peer_env(args.peer_omp_wait_policy)))
    out: dict = {}
    for e in entries:
        if e.get("n_prompt") == args.prefill_tokens and e.get("n_gen") == 0:
            out["prefill_tok_per_s"] = e["avg_ts"]
            out["prefill_stddev"] = e.get("stddev_ts")
        elif e.get("n_gen") == args.max_tokens and e.get("n_prompt") == 0:
            out["decode_tok_per_s"] = e["avg_ts"]
            out["decode_stddev"] = e.get("stddev_ts")
    if entries:
        first = entries[0]
        out["build"] = {k: first.get(k) for k in ("build_commit", "build_number", "cpu_info", "backends",
                                                    "n_threads", "type_k", "type_v", "n_batch", "n_ubatch",
                                                    "flash_attn", "model_type")}
    return out


def run_rounds(args, log: Callable[[str], None]) -> dict:
    """`args.engine_rounds` rounds, each ours then peer; failures are recorded, not raised."""
    rounds = []
    for i in range(args.engine_rounds):
        for name in args.servers:
            try:
                result = ours_round(args) if name == "ours" else peer_round(args)
                result["error"] = None
            except (RuntimeError, subprocess.SubprocessError, OSError, ValueError, KeyError) as error:
                result = {"error": str(error)}
            result.update({"server": name, "round": i})
            rounds.append(result)
            if result["error"]:
                log(f"engine round {i + 1}: {name} failed: {result['error'][:300]}")
            else:
                log(f"engine round {i + 1}: {name} decode {result.get('decode_tok_per_s', float('nan')):.1f} tok/s, "
                    f"prefill {result.get('prefill_tok_per_s', float('nan')):.1f} tok/s")
    commands = {}
    if "ours" in args.servers:
        commands.update(ours_decode=ours_argv(args, DECODE_PROMPT_TOKENS, args.max_tokens),
                        ours_prefill=ours_argv(args, args.prefill_tokens, 1))
    if "peer" in args.servers:
        commands["peer"] = [f"{k}={v}" for k, v in peer_env(args.peer_omp_wait_policy).items()] + peer_argv(args)
    return {"rounds": rounds, "commands": commands}


def summary(engine: dict) -> dict:
    """server -> median decode and prefill tok/s over rounds, and the number of rounds."""
    table: dict = {}
    for name in ("ours", "peer"):
        rows = [r for r in engine.get("rounds", []) if r["server"] == name and not r.get("error")]
        if rows:
            table[name] = {"decode_tok_per_s": median(r.get("decode_tok_per_s") for r in rows),
                           "prefill_tok_per_s": median(r.get("prefill_tok_per_s") for r in rows),
                           "decode_rounds": [r.get("decode_tok_per_s") for r in rows],
                           "prefill_rounds": [r.get("prefill_tok_per_s") for r in rows],
                           "rounds": len(rows)}
    return table
