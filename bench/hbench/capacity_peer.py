"""`python -m hbench.capacity_peer`: llama-server's side of issue 13's capacity comparison.

`hamburger bench --capacity` submits N chat requests at once into a fixed KV budget. llama-server has no
paged KV: at start-up it reserves float16 KV for its whole context (-c), which its --parallel slots
share, so a budget of B bytes is a context of B / (bytes per token) tokens. For SmolLM2-135M that is
30 layers x 3 KV heads x 64 dims x 2 (K and V) x 2 bytes = 23,040 bytes per token: 48 MiB = 2,184 tokens.

This entry point
1. measures the prompt length of each chat request (the same 16 user messages as
   Sources/hamburger/BenchPrompts.swift, rendered by llama-server's own chat template) on a one-slot
   server,
2. chooses --parallel so that every slot holds prompt + max_tokens within the budget. llama.cpp pads
   the context to a multiple of 256 tokens (and, with one KV stream per slot, each slot's share too), so
   the context is rounded *down* to a multiple of 256 to stay inside the budget:
   - `unified` (one KV pool all slots share; llama-server's default when -np is auto):
     -c = floor(budget tokens / 256) x 256, --parallel = floor(-c / (longest prompt + max_tokens));
   - `split` (--no-kv-unified: each slot its own -c / --parallel, padded to 256):
     slot = ceil((longest prompt + max_tokens) / 256) x 256, --parallel = floor(budget tokens / slot),
3. sends the N streaming chat requests at once (greedy, `ignore_eos`, max_tokens each; closed loop, so
   with N workers for N requests all are in flight from the start and wait for a free slot), polling
   /slots every 50 ms for the slots that are processing,
4. prints a row in the columns of `hamburger bench --capacity` (mode, KV, prefix, blocks, running
   mean/peak, preempt, tok/s, TTFT p50/p99 ms, KV entries/tok, KV bytes/tok, cached), then the KV
   llama-server reserved (from its log) and per sequence.

Columns that differ in meaning: `blocks` is the context in 16-token equivalents (llama-server has no
blocks); `running mean` is the mean over /slots samples in time (ours: over engine iterations);
`preempt` is 0 (llama-server never preempts: requests wait for a slot); `cached` is the prompt tokens
it reused from a slot's previous prompt (`timings.cache_n`). TTFT is measured from the common start,
nearest-rank percentiles as in CapacityBench.swift.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import sys
import time
from pathlib import Path

import aiohttp

from . import machine, options
from .servers import LOOPBACK, ServerProcess, ServerSpec, free_port, peer_env

# The user messages of Sources/hamburger/BenchPrompts.swift (keep them in step).
USER_MESSAGES = (
    "What is the capital of France?",
    "Write a haiku about the sea.",
    "Explain photosynthesis in one sentence.",
    "Give me three tips for staying focused while studying.",
    "What is 17 + 25?",
    "Write a Python function that reverses a string.",
    "Translate to French: Good morning, how are you?",
    "Tell me a short story about a brave little mouse.",
    "List the planets of the solar system.",
    "Why is the sky blue?",
    "What are the health benefits of drinking water?",
    "Describe a sunset over the mountains.",
    "How do I make a cup of tea?",
    "What is the difference between weather and climate?",
    "Write a short poem about autumn leaves.",
    "Explain what a computer virus is to a child.",
)

PAD = 256  # llama.cpp pads n_ctx (and each stream's share) to a multiple of this (src/llama-context.cpp)
HEADER = ("mode            KV        prefix  blocks  running mean/peak  preempt  tok/s   TTFT p50/p99 ms   "
          "KV entries/tok  KV bytes/tok  cached")


def parse(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m hbench.capacity_peer", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--kv-budget-mib", type=int, default=48, help="KV budget in MiB (default 48)")
    p.add_argument("--requests", type=int, default=32, help="chat requests, all sent at once (default 32)")
    p.add_argument("--max-tokens", type=int, default=240, help="tokens generated per request (default 240)")
    p.add_argument("--kv-bytes-per-token", type=int, default=30 * 3 * 64 * 2 * 2,
                   help="float16 KV bytes per token of the model (default 23040, SmolLM2-135M)")
    p.add_argument("--layouts", default="unified,split",
                   help="comma-separated: unified (-kvu, one shared pool), split (--no-kv-unified) (default both)")
    p.add_argument("--threads", type=int, default=2, help="llama-server -t and -tb (default 2)")
    p.add_argument("--model", type=Path, default=options.REPO / "models/SmolLM2-135M-Instruct.Q4_1.gguf")
    p.add_argument("--peer-bin-dir", type=Path,
                   default=Path(os.environ["PEER_BIN"]) if os.environ.get("PEER_BIN") else None,
                   help="directory with llama-server (scripts/build-llama-peer.sh prints it; default $PEER_BIN)")
    p.add_argument("--omp-wait-policy", default="",
                   help="OMP_WAIT_POLICY for llama-server (default unset; see `python -m hbench --help`)")
    p.add_argument("--work-dir", type=Path, default=options.REPO / "bench/.work", help="server logs")
    p.add_argument("--request-timeout", type=float, default=3600.0)
    p.add_argument("--json", action="store_true", help="one JSON object per layout instead of the table")
    args = p.parse_args(argv)
    if args.peer_bin_dir is None or not (args.peer_bin_dir / "llama-server").exists():
        p.error("llama-server not found: pass --peer-bin-dir or set $PEER_BIN (scripts/build-llama-peer.sh prints it)")
    args.layouts = [x.strip() for x in args.layouts.split(",") if x.strip()]
    if not args.layouts or any(x not in ("unified", "split") for x in args.layouts):
        p.error("--layouts takes unified and/or split")
    return args


def server_spec(args, port: int, ctx: int, parallel: int, unified: bool) -> ServerSpec:
    argv = [str(args.peer_bin_dir / "llama-server"), "-m", str(args.model), "--host", LOOPBACK, "--port", str(port),
            "-t", str(args.threads), "-tb", str(args.threads), "--parallel", str(parallel), "-c", str(ctx),
            "--kv-unified" if unified else "--no-kv-unified", "--cont-batching", "--no-webui", "--slots"]
    return ServerSpec("peer-capacity", "llama-server", argv, "/health", None, peer_env(args.omp_wait_policy))


async def _chat(session: aiohttp.ClientSession, url: str, message: str, max_tokens: int, stream: bool) -> dict:
    """One chat request; returns first-token time, completion and prompt tokens, cache_n, end time."""
    body = {"messages": [{"role": "user", "content": message}], "max_tokens": max_tokens, "temperature": 0.0,
            "ignore_eos": True, "stream": stream}
    if stream:
        body["stream_options"] = {"include_usage": True}
    out: dict = {"first": None, "completion_tokens": 0, "prompt_tokens": None, "cache_n": None, "error": None}
    try:
        async with session.post(url, json=body) as response:
            if response.status != 200:
                out["error"] = f"HTTP {response.status}: {(await response.text())[:200]}"
                return out
            if not stream:
                payload = await response.json(content_type=None)
                usage = payload.get("usage") or {}
                out.update(prompt_tokens=usage.get("prompt_tokens"), completion_tokens=usage.get("completion_tokens", 0))
                return out
            buffer = b""
            async for piece in response.content.iter_any():
                buffer += piece
                while b"\n" in buffer:
                    line, buffer = buffer.split(b"\n", 1)
                    line = line.strip()
                    if not line.startswith(b"data:"):
                        continue
                    data = line[5:].strip()
                    if data == b"[DONE]":
                        continue
                    event = json.loads(data)
                    for choice in event.get("choices") or []:
                        delta = choice.get("delta") or {}
                        if out["first"] is None and delta.get("content"):
                            out["first"] = time.monotonic()
                    if event.get("usage"):
                        out["completion_tokens"] = event["usage"].get("completion_tokens", 0)
                        out["prompt_tokens"] = event["usage"].get("prompt_tokens")
                    if event.get("timings"):
                        out["cache_n"] = event["timings"].get("cache_n")
    except (aiohttp.ClientError, asyncio.TimeoutError, json.JSONDecodeError) as e:
        out["error"] = f"{type(e).__name__}: {e}"
    out["end"] = time.monotonic()
    return out


async def prompt_lengths(base_url: str, timeout: float) -> list[int]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as session:
        lengths = []
        for message in USER_MESSAGES:
            r = await _chat(session, base_url + "/v1/chat/completions", message, 1, stream=False)
            if r["error"] or not r["prompt_tokens"]:
                raise RuntimeError(f"could not measure a prompt length: {r['error']}")
            lengths.append(r["prompt_tokens"])
        return lengths


async def _poll_slots(session: aiohttp.ClientSession, url: str, samples: list[int], stop: asyncio.Event) -> None:
    while not stop.is_set():
        try:
            async with session.get(url) as response:
                slots = await response.json(content_type=None)
                samples.append(sum(1 for s in slots if s.get("is_processing")))
        except (aiohttp.ClientError, asyncio.TimeoutError, json.JSONDecodeError, TypeError):
            pass
        try:
            await asyncio.wait_for(stop.wait(), timeout=0.05)
        except asyncio.TimeoutError:
            pass


async def run_load(base_url: str, requests: int, max_tokens: int, timeout: float) -> dict:
    """All requests at once (closed loop with one worker per request); /slots polled meanwhile."""
    connector = aiohttp.TCPConnector(limit=requests + 2, force_close=True)  # see client.run_concurrency
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout), connector=connector) as session:
        samples: list[int] = []
        stop = asyncio.Event()
        poller = asyncio.create_task(_poll_slots(session, base_url + "/slots", samples, stop))
        start = time.monotonic()
        results = await asyncio.gather(*(
            _chat(session, base_url + "/v1/chat/completions", USER_MESSAGES[i % len(USER_MESSAGES)], max_tokens, True)
            for i in range(requests)))
        stop.set()
        await poller
    ok = [r for r in results if not r["error"]]
    seconds = max((r["end"] for r in ok), default=start) - start
    ttft = sorted((r["first"] - start) * 1000 for r in ok if r["first"] is not None)
    generated = sum(r["completion_tokens"] for r in ok)
    return {"seconds": seconds, "generated": generated, "tokens_per_second": generated / seconds if seconds > 0 else 0.0,
            "ttft_ms": ttft, "mean_running": sum(samples) / len(samples) if samples else 0.0,
            "peak_running": max(samples, default=0), "slot_samples": len(samples),
            "cached_prompt_tokens": sum(r["cache_n"] or 0 for r in ok),
            "short": sum(1 for r in ok if r["completion_tokens"] < max_tokens),
            "errors": [r["error"] for r in results if r["error"]]}


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest rank, rounded, as CapacityBench.percentile."""
    if not sorted_values:
        return 0.0
    return sorted_values[min(len(sorted_values) - 1, int(round((len(sorted_values) - 1) * q)))]


def kv_from_log(path: Path, bytes_per_token: int) -> dict:
    """The slots and per-slot context llama-server logged at start-up ("n_slots = 8, n_ctx_slot = 256,
    kv_unified = 'false'"), and the context and KV bytes they imply: one pool of n_ctx_slot tokens when
    unified, n_slots pools of n_ctx_slot tokens otherwise (llama.cpp's default log level does not print
    its KV buffer size)."""
    text = path.read_text(errors="replace") if path.exists() else ""
    m = re.search(r"n_slots = (\d+), n_ctx_slot = (\d+), kv_unified = '(\w+)'", text)
    if not m:
        return {}
    slots, slot_ctx, unified = int(m.group(1)), int(m.group(2)), m.group(3) == "true"
    n_ctx = slot_ctx if unified else slots * slot_ctx
    return {"n_slots": slots, "n_ctx_seq": slot_ctx, "n_ctx": n_ctx, "kv_unified": unified,
            "kv_buffer_mib": n_ctx * bytes_per_token / 2**20}


def plan(layout: str, budget_tokens: int, need: int, requests: int) -> tuple[int, int]:
    """(-c, --parallel) for a layout (see the module docstring)."""
    if layout == "unified":
        ctx = budget_tokens // PAD * PAD
        return ctx, max(1, min(requests, ctx // need))
    slot = -(-need // PAD) * PAD
    parallel = max(1, min(requests, budget_tokens // slot))
    return parallel * slot, parallel


def main(argv: list[str]) -> int:
    args = parse(argv)
    budget_bytes = args.kv_budget_mib << 20
    budget_tokens = budget_bytes // args.kv_bytes_per_token
    bpt = args.kv_bytes_per_token
    log = lambda text: print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)
    log(f"KV budget {args.kv_budget_mib} MiB = {budget_tokens} tokens of {bpt} bytes; CPU "
        f"{machine.cpu_description()['model']}; load average {os.getloadavg()}")

    port = free_port()
    probe_ctx = max(PAD, budget_tokens // PAD * PAD)
    with ServerProcess(server_spec(args, port, probe_ctx, 1, True), port, args.work_dir, 300, options.REPO) as server:
        lengths = asyncio.run(prompt_lengths(server.base_url, args.request_timeout))
    need = max(lengths) + args.max_tokens
    log(f"prompt tokens {min(lengths)}-{max(lengths)} (llama-server's chat template); a slot needs {need}")

    rows = []
    for layout in args.layouts:
        ctx, parallel = plan(layout, budget_tokens, need, args.requests)
        port = free_port()
        spec = server_spec(args, port, ctx, parallel, layout == "unified")
        load_start = os.getloadavg()
        with ServerProcess(spec, port, args.work_dir, 300, options.REPO) as server:
            log(f"{layout}: llama-server -c {ctx} --parallel {parallel} ready; {args.requests} requests x "
                f"{args.max_tokens} tokens")
            result = asyncio.run(run_load(server.base_url, args.requests, args.max_tokens, args.request_timeout))
            server.stop()
            kv = kv_from_log(server.log_path, bpt)
        slot_tokens = kv.get("n_ctx_seq") or (ctx if layout == "unified" else ctx // parallel)
        row = {"decoding": "llama-server", "layout": layout, "kv_cache_dtype": "float16", "kv_budget_bytes": budget_bytes,
               "ctx": ctx, "parallel": parallel, "n_ctx_logged": kv.get("n_ctx"), "n_ctx_seq": kv.get("n_ctx_seq"),
               "kv_buffer_mib": kv.get("kv_buffer_mib"), "blocks_equivalent": (kv.get("n_ctx") or ctx) // 16,
               "requests": args.requests, "max_tokens": args.max_tokens, "mean_running": result["mean_running"],
               "peak_running": result["peak_running"], "preemptions": 0,
               "tokens_per_second": result["tokens_per_second"],
               "ttft_p50_ms": percentile(result["ttft_ms"], 0.5), "ttft_p99_ms": percentile(result["ttft_ms"], 0.99),
               "kv_entries_per_generated_token": 1.0, "kv_bytes_per_generated_token": bpt,
               "kv_bytes_reserved_per_sequence": (kv.get("n_ctx") or ctx) * bpt // parallel,
               "kv_bytes_slot_limit": slot_tokens * bpt,
               "cached_prompt_tokens": result["cached_prompt_tokens"], "seconds": result["seconds"],
               "short": result["short"], "errors": result["errors"], "slot_samples": result["slot_samples"],
               "prompt_tokens_min_max": [min(lengths), max(lengths)], "command": spec.command_line(port)
               .replace(str(options.REPO) + "/", "").replace(str(args.peer_bin_dir) + "/", "$PEER_BIN/"),
               "load_average_start": load_start, "load_average_end": os.getloadavg()}
        rows.append(row)
        if result["errors"]:
            log(f"{layout}: {len(result['errors'])} errors, e.g. {result['errors'][0]}")

    if args.json:
        for row in rows:
            print(json.dumps(row))
        return 0
    print(f"capacity (llama-server): {args.requests} chat requests x {args.max_tokens} tokens at once, "
          f"KV budget {args.kv_budget_mib} MiB = {budget_tokens} tokens x {bpt} bytes (float16)")
    print(HEADER)
    for r in rows:
        names = (f"llama/{r['layout']}".ljust(15) + " " + "float16".ljust(9) + " " + "on".ljust(6))
        print(names + " %6d  %8.1f / %-5d  %7d  %6.1f  %7.0f / %-7.0f  %14.3f  %12.0f  %6d" % (
            r["blocks_equivalent"], r["mean_running"], r["peak_running"], r["preemptions"], r["tokens_per_second"],
            r["ttft_p50_ms"], r["ttft_p99_ms"], r["kv_entries_per_generated_token"],
            r["kv_bytes_per_generated_token"], r["cached_prompt_tokens"]))
    print()
    for r in rows:
        print(f"{r['layout']}: {r['command']}")
        print(f"  n_ctx {r['n_ctx_logged']}, n_ctx_seq {r['n_ctx_seq']}, KV {r['kv_buffer_mib']:.2f} MiB; "
              f"KV reserved per sequence {r['kv_bytes_reserved_per_sequence']:,} bytes "
              f"(n_ctx x {bpt} / --parallel), a slot may grow to {r['kv_bytes_slot_limit']:,} bytes; "
              f"prompts {r['prompt_tokens_min_max'][0]}-{r['prompt_tokens_min_max'][1]} tokens; "
              f"{r['short']} short, {len(r['errors'])} errors; {r['seconds']:.1f} s; "
              f"load average {', '.join(f'{x:.2f}' for x in r['load_average_start'])} at start")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
