"""The benchmark schedule: engine-level rounds (`hamburger bench` against `llama-bench`, alternating),
then repetitions of A/B server sessions (ours, then peer, with fresh processes each time); in each
session, every decoding mode at every concurrency, then the prefill measurement."""
from __future__ import annotations

import asyncio
import dataclasses
import time

from . import client, enginebench, machine, options, prompts
from .servers import ServerProcess, ServerSpec, free_port, ours_spec, peer_spec


def _spec(name: str, args, port: int, parallel: int) -> ServerSpec:
    if name == "ours":
        return ours_spec(args.hamburger_bin, args.model, port, args.threads, args.max_num_seqs, args.ours_arg)
    return peer_spec(args.peer_bin_dir, args.model, port, args.threads, parallel, args.peer_slot_ctx, args.peer_arg,
                     args.peer_omp_wait_policy)


def _log(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", flush=True)


def _server_plan(name: str, args) -> list[list[int]]:
    """The concurrency levels each server process of a session measures: ours serves them all from one
    process (its --max-num-seqs bounds the batch); llama-server is started afresh with `--parallel c`
    for each level c, as it would be deployed for that load."""
    if name == "ours":
        return [list(args.concurrency)]
    return [[c] for c in args.concurrency]


def run_session(name: str, rep: int, args) -> dict:
    """Start the server(s) of one session, measure everything, stop them; returns the raw results.
    The prefill samples run on the first server of the session (for the peer: the lowest --parallel)."""
    decode_prompts = list(prompts.DECODE_PROMPTS)
    session: dict = {"server": name, "repetition": rep, "runs": [], "prefill": [], "skipped_modes": {},
                     "load_average_start": machine.load_average(), "commands": [], "processes": []}
    for index, levels in enumerate(_server_plan(name, args)):
        port = free_port()
        parallel = max(levels)
        spec = _spec(name, args, port, parallel)
        with ServerProcess(spec, port, args.work_dir, args.start_timeout, options.REPO) as server:
            process = {"levels": levels, "load_seconds": server.load_seconds, "idle_rss_kib": server.idle_rss_kib}
            _log(f"rep {rep + 1}: {name} ready in {server.load_seconds:.1f} s (pid {server.proc.pid}, "
                 f"levels {levels})")
            for mode in args.modes:
                if name == "peer" and mode != "autoregressive":
                    session["skipped_modes"][mode] = "llama.cpp has no such decoding mode"
                    continue
                if mode in session["skipped_modes"]:
                    continue
                shape = client.RequestShape(name, mode, args.max_tokens)
                try:
                    asyncio.run(client.probe(server.base_url, shape, decode_prompts[0], args.request_timeout))
                except client.Refused as refusal:
                    session["skipped_modes"][mode] = str(refusal)
                    _log(f"rep {rep + 1}: {name} refuses mode {mode}: {refusal}; skipped")
                    continue
                for c in levels:
                    n = max(args.min_requests, args.requests_per_stream * c)
                    result = asyncio.run(client.run_concurrency(server.base_url, shape, decode_prompts, c, n,
                                                                args.request_timeout))
                    server.sample_peak()
                    session["runs"].append(dataclasses.asdict(result))
                    ttft = result.ttft_p50_s * 1000 if result.ttft_p50_s is not None else float("nan")
                    _log(f"rep {rep + 1}: {name} {mode} c={c}: {result.tok_per_s:.1f} tok/s, "
                         f"TTFT p50 {ttft:.0f} ms, {result.requests} requests, {result.early_stops} short, "
                         f"{len(result.errors)} errors")
            if index == 0:
                shape = client.RequestShape(name, "autoregressive", 1)
                # One unrecorded long prompt first: allocations for a full prefill batch happen once.
                asyncio.run(client.prefill_once(server.base_url, shape,
                                                prompts.prefill_prompt(1000, args.prefill_tokens), args.request_timeout))
                for i in range(args.prefill_samples):
                    text = prompts.prefill_prompt(rep * args.prefill_samples + i, args.prefill_tokens)
                    pre = asyncio.run(client.prefill_once(server.base_url, shape, text, args.request_timeout))
                    session["prefill"].append({"prompt_tokens": pre.prompt_tokens, "latency_s": pre.latency_s,
                                               "tok_per_s": pre.tok_per_s})
                    _log(f"rep {rep + 1}: {name} prefill {pre.prompt_tokens} tokens in {pre.latency_s * 1000:.0f} ms")
            server.stop()
            process["peak_rss_kib"] = server.peak_rss_kib
            session["processes"].append(process)
            # servers run in the repo root; the peer's binaries live in a cache outside it
            session["commands"].append(spec.command_line(port).replace(str(options.REPO) + "/", "")
                                       .replace(str(args.peer_bin_dir) + "/", "$PEER_BIN/"))
    # Memory: the session's largest process (for the peer, usually the one with the most slots).
    peaks = [p["peak_rss_kib"] for p in session["processes"] if p.get("peak_rss_kib")]
    session["peak_rss_kib"] = max(peaks) if peaks else None
    session["idle_rss_kib"] = session["processes"][0]["idle_rss_kib"] if session["processes"] else None
    session["load_seconds"] = session["processes"][0]["load_seconds"] if session["processes"] else None
    session["load_average_end"] = machine.load_average()
    return session


def run_all(args) -> dict:
    """Engine-level rounds (ours, peer alternating), then every server repetition, alternating servers:
    ours, peer, ours, peer, ..."""
    started = time.time()
    facts: dict = {"cpu": machine.cpu_description(), "commit": machine.git_commit(options.REPO),
                   "load_average_start": machine.load_average()}
    if "peer" in args.servers:
        facts["peer"] = machine.peer_facts(args.peer_bin_dir)
        _log(f"peer: llama-server {facts['peer']['version']} from {args.peer_bin_dir}")
    engine = enginebench.run_rounds(args, _log) if args.engine_rounds > 0 else {"rounds": []}
    sessions = []
    for rep in range(args.repetitions):
        # Checked once per repetition, so that ours and the peer always come in pairs.
        over_budget = args.time_budget_min is not None and time.time() - started > args.time_budget_min * 60
        for name in args.servers:
            if over_budget:
                _log(f"rep {rep + 1}: {name} not run: the time budget of {args.time_budget_min:g} min is spent")
                sessions.append({"server": name, "repetition": rep, "runs": [], "prefill": [], "skipped_modes": {},
                                 "commands": [], "processes": [],
                                 "error": f"not run: --time-budget-min {args.time_budget_min:g} spent"})
                continue
            try:
                sessions.append(run_session(name, rep, args))
            except Exception as error:  # one failed session must not lose the others
                _log(f"rep {rep + 1}: {name} session failed: {error}")
                sessions.append({"server": name, "repetition": rep, "error": str(error), "runs": [],
                                 "prefill": [], "skipped_modes": {}, "commands": [], "processes": []})
    facts["load_average_end"] = machine.load_average()
    return {"started_unix": started, "duration_s": time.time() - started, "facts": facts,
            "engine": engine, "sessions": sessions}
