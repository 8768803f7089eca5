"""Medians across repetitions: decode runs per (server, mode, concurrency), prefill and memory per
server, and the ratios ours / peer that the issue's targets are stated in."""
from __future__ import annotations

from collections import defaultdict
from typing import Optional

from .stats import median, ratio

DECODE_METRICS = ("tok_per_s", "ttft_p50_s", "ttft_p99_s", "itl_p50_s")


def decode_table(sessions: list[dict]) -> dict[tuple[str, str, int], dict]:
    """(server, mode, concurrency) -> medians of the decode metrics over repetitions, plus counts."""
    groups: dict[tuple[str, str, int], list[dict]] = defaultdict(list)
    for session in sessions:
        for run in session.get("runs", []):
            groups[(run["server"], run["mode"], run["concurrency"])].append(run)
    table = {}
    for key, runs in sorted(groups.items()):
        row = {m: median(r[m] for r in runs) for m in DECODE_METRICS}
        row["repetitions"] = len(runs)
        row["requests"] = sum(r["requests"] for r in runs)
        row["early_stops"] = sum(r["early_stops"] for r in runs)
        row["errors"] = sum(len(r["errors"]) for r in runs)
        table[key] = row
    return table


def prefill_table(sessions: list[dict]) -> dict[str, dict]:
    """server -> median prompt tokens, latency and tokens/s of the prefill requests."""
    samples: dict[str, list[dict]] = defaultdict(list)
    for session in sessions:
        samples[session["server"]].extend(session.get("prefill", []))
    return {server: {"prompt_tokens": median(s["prompt_tokens"] for s in rows if s["prompt_tokens"]),
                     "latency_s": median(s["latency_s"] for s in rows),
                     "tok_per_s": median(s["tok_per_s"] for s in rows if s["tok_per_s"]),
                     "samples": len(rows)}
            for server, rows in sorted(samples.items()) if rows}


def memory_table(sessions: list[dict]) -> dict[str, dict]:
    """server -> median idle RSS (after load) and median / max peak RSS (VmHWM), in MiB."""
    rows: dict[str, list[dict]] = defaultdict(list)
    for session in sessions:
        if session.get("peak_rss_kib"):
            rows[session["server"]].append(session)
    def mib(v: Optional[float]) -> Optional[float]:
        return None if v is None else v / 1024
    return {server: {"idle_rss_mib": mib(median(s["idle_rss_kib"] for s in ss if s.get("idle_rss_kib"))),
                     "peak_rss_mib": mib(median(s["peak_rss_kib"] for s in ss)),
                     "peak_rss_max_mib": mib(max(s["peak_rss_kib"] for s in ss)),
                     "load_seconds": median(s["load_seconds"] for s in ss if s.get("load_seconds"))}
            for server, ss in sorted(rows.items())}


def targets(decode: dict, prefill: dict, memory: dict) -> list[tuple[str, Optional[float], float, str]]:
    """The issue's targets as (description, measured ratio, required, verdict)."""
    def tps(server: str, c: int) -> Optional[float]:
        row = decode.get((server, "autoregressive", c))
        return row["tok_per_s"] if row else None

    out = []
    def add(name: str, measured: Optional[float], required: float, higher_is_better: bool = True) -> None:
        if measured is None:
            verdict = "not measured"
        elif (measured >= required) if higher_is_better else (measured < required):
            verdict = "met"
        else:
            verdict = "not met"
        out.append((name, measured, required, verdict))

    add("single-stream decode (c=1), ours / peer tok/s", ratio(tps("ours", 1), tps("peer", 1)), 1.0)
    add("aggregate decode at c=16, ours / peer tok/s", ratio(tps("ours", 16), tps("peer", 16)), 1.5)
    add("prefill, ours / peer prompt tok/s",
        ratio((prefill.get("ours") or {}).get("tok_per_s"), (prefill.get("peer") or {}).get("tok_per_s")), 1.0)
    add("peak RSS, ours / peer (must be below 1)",
        ratio((memory.get("ours") or {}).get("peak_rss_mib"), (memory.get("peer") or {}).get("peak_rss_mib")),
        1.0, higher_is_better=False)
    return out
