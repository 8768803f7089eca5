"""The benchmark schedule: repetitions of A/B sessions (ours, then peer, with fresh processes each
time); in each session, every decoding mode at every concurrency, then the prefill measurement."""
from __future__ import annotations

import asyncio
import dataclasses
import time

from . import client, machine, options, prompts
from .servers import ServerProcess, ServerSpec, free_port, ours_spec, peer_spec


def _spec(name: str, args, port: int) -> ServerSpec:
    if name == "ours":
        return ours_spec(args.hamburger_bin, args.model, port, args.threads, args.max_num_seqs, args.ours_arg)
    return peer_spec(args.peer_python, args.model, port, args.threads, args.n_ctx, args.peer_arg)


def _log(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", flush=True)


def run_session(name: str, rep: int, args, eog_ids: tuple[int, ...]) -> dict:
    """Start one server, measure everything on it, stop it; returns the session's raw results."""
    port = free_port()
    spec = _spec(name, args, port)
    decode_prompts = list(prompts.DECODE_PROMPTS)
    session: dict = {"server": name, "repetition": rep, "runs": [], "prefill": [], "skipped_modes": {},
                     "load_average_start": machine.load_average()}
    with ServerProcess(spec, port, args.work_dir, args.start_timeout, options.REPO) as server:
        session["load_seconds"] = server.load_seconds
        session["idle_rss_kib"] = server.idle_rss_kib
        _log(f"rep {rep + 1}: {name} ready in {server.load_seconds:.1f} s (pid {server.proc.pid})")
        for mode in args.modes:
            if name == "peer" and mode != "autoregressive":
                session["skipped_modes"][mode] = "llama.cpp has no such decoding mode"
                continue
            shape = client.RequestShape(name, mode, args.max_tokens, eog_ids)
            try:
                asyncio.run(client.probe(server.base_url, shape, decode_prompts[0], args.request_timeout))
            except client.Refused as refusal:
                session["skipped_modes"][mode] = str(refusal)
                _log(f"rep {rep + 1}: {name} refuses mode {mode}: {refusal}; skipped")
                continue
            for c in args.concurrency:
                n = max(args.min_requests, args.requests_per_stream * c)
                result = asyncio.run(client.run_concurrency(server.base_url, shape, decode_prompts, c, n,
                                                            args.request_timeout))
                server.sample_peak()
                session["runs"].append(dataclasses.asdict(result))
                ttft = result.ttft_p50_s * 1000 if result.ttft_p50_s is not None else float("nan")
                _log(f"rep {rep + 1}: {name} {mode} c={c}: {result.tok_per_s:.1f} tok/s, "
                     f"TTFT p50 {ttft:.0f} ms, {result.requests} requests, {result.early_stops} short, "
                     f"{len(result.errors)} errors")
        shape = client.RequestShape(name, "autoregressive", 1, eog_ids)
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
        session["peak_rss_kib"] = server.peak_rss_kib
        session["command"] = spec.command_line(port).replace(str(options.REPO) + "/", "")  # servers run in the repo root
    session["load_average_end"] = machine.load_average()
    return session


def run_all(args) -> dict:
    """Every repetition, alternating servers: ours, peer, ours, peer, ..."""
    started = time.time()
    facts: dict = {"cpu": machine.cpu_description(), "commit": machine.git_commit(options.REPO),
                   "load_average_start": machine.load_average()}
    eog_ids: tuple[int, ...] = ()
    if "peer" in args.servers:
        facts["peer"] = machine.peer_facts(args.peer_python, args.model)
        eog_ids = tuple(facts["peer"]["eog_ids"])
        _log(f"peer: llama-cpp-python {facts['peer']['version']}, end-of-generation ids {list(eog_ids)}")
    sessions = []
    for rep in range(args.repetitions):
        for name in args.servers:
            try:
                sessions.append(run_session(name, rep, args, eog_ids))
            except Exception as error:  # one failed session must not lose the others
                _log(f"rep {rep + 1}: {name} session failed: {error}")
                sessions.append({"server": name, "repetition": rep, "error": str(error), "runs": [],
                                 "prefill": [], "skipped_modes": {}})
    facts["load_average_end"] = machine.load_average()
    return {"started_unix": started, "duration_s": time.time() - started, "facts": facts,
            "sessions": sessions}
