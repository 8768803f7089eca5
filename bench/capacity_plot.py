#!/usr/bin/env python3
"""Plots `hamburger bench --capacity --json` results (and the llama-server peer's rows, same fields) as
one PNG: sequences in memory (mean bar, peak marker) and aggregate tok/s per configuration.

Usage: capacity_plot.py OUT.png RESULTS.jsonl [MORE.jsonl ...]
Each input line is one JSON object with at least: decoding, kv_cache_dtype, prefix_caching, mean_running,
peak_running, tokens_per_second; an optional `label` overrides the derived configuration name, and an
optional `confidence` is appended to HAMburger's name.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def label(row: dict) -> str:
    if "label" in row:
        return row["label"]
    mode = "AR" if row["decoding"] == "autoregressive" else "HAM"
    if row.get("confidence") is not None and mode == "HAM":
        mode += f" {row['confidence']}"
    prefix = "prefix" if row["prefix_caching"] else "no prefix"
    return f"{mode}\n{row['kv_cache_dtype']}\n{prefix}"


def main(argv: list[str]) -> int:
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [json.loads(line) for path in argv[2:] for line in Path(path).read_text().splitlines() if line.strip()]
    if not rows:
        print("capacity_plot: no rows", file=sys.stderr)
        return 1
    names = [label(r) for r in rows]
    x = list(range(len(rows)))
    figure, (seqs, speed) = plt.subplots(2, 1, figsize=(max(8, 1.1 * len(rows)), 7.5), sharex=True)
    colours = ["#888888" if r.get("peer") else "#1f77b4" if r["decoding"] == "autoregressive" else "#d62728" for r in rows]
    seqs.bar(x, [r["mean_running"] for r in rows], color=colours, label="mean running")
    seqs.scatter(x, [r["peak_running"] for r in rows], color="black", marker="_", s=300, label="peak running", zorder=3)
    seqs.set_ylabel("sequences in memory")
    seqs.legend(loc="upper left")
    budget = rows[0].get("kv_budget_bytes")
    title = "Capacity: concurrent chat requests into one KV budget"
    if budget:
        title += f" ({budget >> 20} MiB)"
    seqs.set_title(title)
    speed.bar(x, [r["tokens_per_second"] for r in rows], color=colours)
    speed.set_ylabel("aggregate tok/s")
    speed.set_xticks(x, names, fontsize=8)
    figure.tight_layout()
    figure.savefig(argv[1], dpi=110)
    print(f"capacity_plot: {argv[1]} ({len(rows)} configurations)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
