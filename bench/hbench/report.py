"""Writes RESULTS.md, results.json and the two PNG plots from the raw results."""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Optional

from . import enginebench, options, summary
from .stats import ratio

LABELS = {"ours": "hamburger", "peer": "llama.cpp (llama-server)"}


def _ms(v: Optional[float]) -> str:
    return "-" if v is None else f"{v * 1000:.0f}" if v >= 0.1 else f"{v * 1000:.1f}"


def _num(v: Optional[float], digits: int = 1) -> str:
    return "-" if v is None else f"{v:.{digits}f}"


def _ratio(v: Optional[float]) -> str:
    return "-" if v is None else f"{v:.2f}x"


def plot(decode: dict, out_dir: Path) -> list[str]:
    """throughput.png and ttft.png: one line per (server, mode), x = concurrency (log2 scale)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    lines: dict[tuple[str, str], list[tuple[int, dict]]] = {}
    for (server, mode, c), row in decode.items():
        lines.setdefault((server, mode), []).append((c, row))
    written = []
    for filename, metric, ylabel, title in (
        ("throughput.png", "tok_per_s", "aggregate generated tokens/s", "Decode throughput vs concurrency"),
        ("ttft.png", "ttft_p50_s", "time to first token, p50 (ms)", "TTFT vs concurrency"),
    ):
        fig, ax = plt.subplots(figsize=(7, 4.5), dpi=110)
        for (server, mode), points in sorted(lines.items()):
            points.sort()
            xs = [c for c, _ in points]
            scale = 1000.0 if metric == "ttft_p50_s" else 1.0  # seconds -> ms
            ys = [row[metric] * scale if row[metric] is not None else float("nan") for _, row in points]
            label = f"{LABELS.get(server, server)} / {mode}" + (" (--parallel = streams)" if server == "peer" else "")
            ax.plot(xs, ys, marker="o", label=label)
        ax.set_xscale("log", base=2)
        ax.set_xticks(sorted({c for pts in lines.values() for c, _ in pts}))
        ax.get_xaxis().set_major_formatter(matplotlib.ticker.ScalarFormatter())
        if metric == "ttft_p50_s":
            ax.set_yscale("log")
            ax.get_yaxis().set_major_formatter(matplotlib.ticker.ScalarFormatter())
        else:
            ax.set_ylim(bottom=0)
        ax.set_xlabel("concurrent streams")
        ax.set_ylabel(ylabel)
        ax.set_title(title)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend()
        fig.tight_layout()
        fig.savefig(out_dir / filename)
        plt.close(fig)
        written.append(filename)
    return written


def write(results: dict, args, argv_line: str) -> Path:
    out_dir: Path = args.out_dir
    out_dir.mkdir(parents=True, exist_ok=True)
    sessions = results["sessions"]
    decode = summary.decode_table(sessions)
    prefill = summary.prefill_table(sessions)
    memory = summary.memory_table(sessions)
    (out_dir / "results.json").write_text(json.dumps(results, indent=1, default=str) + "\n")
    pngs = plot(decode, out_dir) if decode else []

    facts = results["facts"]
    cpu = facts["cpu"]
    date = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(results["started_unix"]))
    engine = enginebench.summary(results.get("engine") or {})
    lines = ["# Benchmark: hamburger vs llama.cpp (llama-server --parallel N, llama-bench)", ""]
    if args.quick or args.note:
        lines += [f"> **{args.note or 'Smoke run (--quick).'}**", ""]
    lines += [
        f"Date: {date}; the run took {results['duration_s'] / 60:.1f} min.",
        "",
        "## Machine",
        "",
        f"- CPU: {cpu['model']} ({cpu['logical_cpus']} logical CPUs, {cpu['affinity_cpus']} usable); "
        f"flags: {', '.join(cpu['flags']) or 'none of interest'}",
        f"- Memory: {cpu['mem_total_gib']} GiB; kernel {cpu['kernel']}; Python {cpu['python']}",
        f"- Load average (1, 5, 15 min) at start {_load(facts.get('load_average_start'))}, "
        f"at end {_load(facts.get('load_average_end'))}",
        f"- Repository commit: {facts.get('commit')}",
    ]
    peer = facts.get("peer")
    if peer:
        lines += [f"- Peer: llama.cpp `{peer['version']}` from the llama-cpp-python 0.3.36 sdist "
                  "(vendor/llama.cpp), built by scripts/build-llama-peer.sh: Release, GGML_NATIVE, static, no BLAS, "
                  "AMX off (`-mno-amx-tile -mno-amx-int8 -mno-amx-bf16`)"]
        build = next((r.get("build") for r in (results.get("engine") or {}).get("rounds", []) if r.get("build")), None)
        if build:
            lines += [f"- llama-bench reports: cpu `{build.get('cpu_info')}`, backends {build.get('backends')}, "
                      f"KV {build.get('type_k')}/{build.get('type_v')}, batch {build.get('n_batch')}/{build.get('n_ubatch')}, "
                      f"flash attention {build.get('flash_attn')}, model `{build.get('model_type')}`"]
    lines += [
        "",
        "## Ours / peer (issue 14)",
        "",
        "Engine rows: medians over alternating rounds (ours, peer, ours, ...), each round the median of "
        f"{args.engine_runs} runs inside the tool. Server rows: medians over {args.repetitions} alternating "
        "repetitions. The machine is shared: see the load averages above; the ratios, taken alternating, "
        "are what to read.",
        "",
        "| comparison | ours | peer | ours ÷ peer | unit | better |",
        "|---|---:|---:|---:|---|---|",
    ]
    for name, o, p, r, unit, better in summary.ratios(decode, prefill, memory, engine):
        lines.append(f"| {name} | {_num(o)} | {_num(p)} | {_ratio(r)} | {unit} | {better} |")
    lines += [
        "",
        "## Settings",
        "",
        f"- Both servers: the same GGUF (`{args.model.name}`), {args.threads} threads, greedy sampling "
        f"(temperature 0), streaming `/v1/completions`, `max_tokens` {args.max_tokens}, "
        "end-of-sequence ignored.",
        "- Both: `ignore_eos: true` (llama-server takes it as a llama.cpp extension of the OpenAI body; "
        "ours also gets `decoding: MODE`), `stream_options.include_usage`.",
        f"- Ours: one `hamburger serve` process for every concurrency (`--max-num-seqs {args.max_num_seqs}`, KV paged "
        f"on demand). Peer: a fresh `llama-server --parallel C -c C x {args.peer_slot_ctx}` for each concurrency C "
        "(continuous batching on, each slot its own share of the float16 KV); the prefill samples run on its "
        "first (lowest --parallel) process. llama.cpp's OpenMP threads spin at every barrier (its default): "
        "while another process holds one of the two cores its decode drops several-fold (bench/README.md); "
        "ours slows down under such load too, so rounds taken under other engineers' load vary widely."
        + (f" llama-server and llama-bench run with `OMP_WAIT_POLICY={args.peer_omp_wait_policy}`."
           if args.peer_omp_wait_policy else ""),
        f"- Engine level (no HTTP): `hamburger bench` (decode: {enginebench.DECODE_PROMPT_TOKENS}-token prompt, then "
        f"{args.max_tokens} tokens one at a time; prefill: one {args.prefill_tokens}-token forward) against "
        f"`llama-bench -p {args.prefill_tokens} -n {args.max_tokens}` (tg{args.max_tokens} decodes from an empty "
        f"context, pp{args.prefill_tokens} is one {args.prefill_tokens}-token batch); {args.engine_rounds} alternating "
        "round(s).",
        f"- Concurrency {', '.join(map(str, args.concurrency))}; closed loop: each run sends "
        f"max({args.min_requests}, {args.requests_per_stream} x concurrency) requests with that many in "
        f"flight, prompts cycling through {16} fixed prompts (bench/hbench/prompts.py).",
        f"- {args.repetitions} repetition(s), alternating fresh server processes: ours, peer, ours, peer, ... "
        "Numbers are medians over repetitions.",
        "- tok/s = completion tokens of all requests / wall time of the run. TTFT = request sent to first "
        "streamed token. ITL = (last token - first token) / (tokens - 1) per request, median over requests. "
        "Peak RSS = the kernel's VmHWM of the server process.",
        f"- Prefill: a ~{args.prefill_tokens}-token prompt (different first word each time, so no prefix "
        "reuse), `max_tokens` 1, non-streaming, one at a time; prompt tok/s = prompt tokens / latency.",
        "",
        "## Commands",
        "",
        "```",
        f"{argv_line}",
    ]
    for session in sessions:
        if session["repetition"] == 0:
            lines += session.get("commands", [])
    eng_cmds = (results.get("engine") or {}).get("commands") or {}
    for key in ("ours_decode", "ours_prefill", "peer"):
        if key in eng_cmds:
            lines.append(" ".join(eng_cmds[key]).replace(str(options.REPO) + "/", "")
                         .replace(f"{args.peer_bin_dir}/", "$PEER_BIN/"))
    lines += ["```", "", "(PORT is picked free on 127.0.0.1 for each server"
              + (f"; $PEER_BIN = `{_home(args.peer_bin_dir)}`" if args.peer_bin_dir else "") + ".)", ""]
    if engine:
        lines += ["## Engine level (no HTTP)", "",
                  "| tool | decode tok/s (median) | decode per round | prefill tok/s (median) | prefill per round | rounds |",
                  "|---|---:|---|---:|---|---:|"]
        for name, row in engine.items():
            tool = "hamburger bench" if name == "ours" else "llama-bench"
            lines.append(f"| {tool} | {_num(row['decode_tok_per_s'])} | {', '.join(_num(v) for v in row['decode_rounds'])} | "
                         f"{_num(row['prefill_tok_per_s'])} | {', '.join(_num(v) for v in row['prefill_rounds'])} | {row['rounds']} |")
        lines += [""]
    lines += ["## Server decode", ""]
    lines += ["| concurrency | server / mode | tok/s | ours ÷ peer | TTFT p50 ms | TTFT p99 ms | ITL p50 ms | requests | short | errors |",
              "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for (server, mode, c), row in sorted(decode.items(), key=lambda kv: (kv[0][2], kv[0][0] != "ours", kv[0][1])):
        peer_row = decode.get(("peer", "autoregressive", c))
        r = ratio(row["tok_per_s"], peer_row["tok_per_s"]) if server == "ours" and peer_row else None
        lines.append(f"| {c} | {LABELS.get(server, server)} / {mode} | {_num(row['tok_per_s'])} | {_ratio(r)} | "
                     f"{_ms(row['ttft_p50_s'])} | {_ms(row['ttft_p99_s'])} | {_ms(row['itl_p50_s'])} | "
                     f"{row['requests']} | {row['early_stops']} | {row['errors']} |")
    lines += ["", "`short` counts requests that returned fewer than `max_tokens` tokens (should be 0).", ""]
    lines += ["## Server prefill (over HTTP)", "", "| server | prompt tokens | latency ms | prompt tok/s | samples |", "|---|---:|---:|---:|---:|"]
    for server, row in prefill.items():
        lines.append(f"| {LABELS.get(server, server)} | {_num(row['prompt_tokens'], 0)} | {_ms(row['latency_s'])} | "
                     f"{_num(row['tok_per_s'])} | {row['samples']} |")
    lines += ["", "## Memory", "", "| server | RSS after load MiB | peak RSS MiB (median) | peak RSS MiB (max) | load s |",
              "|---|---:|---:|---:|---:|"]
    for server, row in memory.items():
        lines.append(f"| {LABELS.get(server, server)} | {_num(row['idle_rss_mib'])} | {_num(row['peak_rss_mib'])} | "
                     f"{_num(row['peak_rss_max_mib'])} | {_num(row['load_seconds'])} |")
    skipped = {(s["server"], m): why for s in sessions for m, why in s.get("skipped_modes", {}).items()}
    failed = [s for s in sessions if s.get("error")]
    failed_engine = [r for r in (results.get("engine") or {}).get("rounds", []) if r.get("error")]
    if skipped or failed or failed_engine:
        lines += ["", "## Skipped and failed", ""]
        lines += [f"- {LABELS.get(server, server)}, mode `{mode}`: {why}" for (server, mode), why in sorted(skipped.items())]
        lines += [f"- {LABELS.get(s['server'], s['server'])}, repetition {s['repetition'] + 1}: {s['error']}" for s in failed]
        lines += [f"- engine round {r['round'] + 1}, {r['server']}: {r['error'][:300]}" for r in failed_engine]
    if pngs:
        lines += ["", "## Plots", ""] + [f"![{p}]({p})" for p in pngs]
    lines += ["", "Raw per-run numbers: results.json. Server logs: bench/.work/ (not committed).", ""]
    path = out_dir / "RESULTS.md"
    path.write_text("\n".join(lines))
    return path


def _home(path) -> str:
    import os
    text = str(path)
    home = os.path.expanduser("~")
    return "~" + text[len(home):] if text.startswith(home + "/") else text


def _load(v) -> str:
    return "-" if not v else ", ".join(f"{x:.2f}" for x in v)
