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


def ratios(decode: dict, prefill: dict, memory: dict, engine: dict) -> list[tuple[str, Optional[float], Optional[float], Optional[float], str, str]]:
    """The comparisons issue 14 asks for, as (what, ours, peer, ours / peer, unit, which way is better)."""
    rows = []

    def add(name: str, ours: Optional[float], peer: Optional[float], unit: str, better: str) -> None:
        rows.append((name, ours, peer, ratio(ours, peer), unit, better))

    e_ours, e_peer = engine.get("ours") or {}, engine.get("peer") or {}
    add("single-stream decode: `hamburger bench` 32-token prompt + 128 tokens vs `llama-bench` tg128",
        e_ours.get("decode_tok_per_s"), e_peer.get("decode_tok_per_s"), "tok/s", "higher")
    add("prefill 512: `hamburger bench` 512-token forward vs `llama-bench` pp512",
        e_ours.get("prefill_tok_per_s"), e_peer.get("prefill_tok_per_s"), "tok/s", "higher")
    levels = sorted({c for (_, mode, c) in decode if mode == "autoregressive"})
    for c in levels:
        o, p = decode.get(("ours", "autoregressive", c)), decode.get(("peer", "autoregressive", c))
        add(f"server aggregate decode, {c} stream(s) (peer: --parallel {c})",
            o and o["tok_per_s"], p and p["tok_per_s"], "tok/s", "higher")
    for c in levels:
        o, p = decode.get(("ours", "autoregressive", c)), decode.get(("peer", "autoregressive", c))
        add(f"server TTFT p50, {c} stream(s)", o and o["ttft_p50_s"] and o["ttft_p50_s"] * 1000,
            p and p["ttft_p50_s"] and p["ttft_p50_s"] * 1000, "ms", "lower")
    add("server prefill (~512-token prompt, max_tokens 1, over HTTP)",
        (prefill.get("ours") or {}).get("tok_per_s"), (prefill.get("peer") or {}).get("tok_per_s"), "prompt tok/s", "higher")
    add("server peak RSS (peer: its largest --parallel)",
        (memory.get("ours") or {}).get("peak_rss_mib"), (memory.get("peer") or {}).get("peak_rss_mib"), "MiB", "lower")
    return rows
