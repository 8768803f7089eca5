#!/usr/bin/env python3
"""Soak test: one real `hamburger serve` on loopback under 64 concurrent streams for SOAK_SECONDS, with
random prompt and output lengths, random sampling settings, and 20% of the streams dropped by the client
mid-stream. Every 10 s it records the server's RSS, open file descriptors, threads, KV blocks in use (from
/metrics) and the request counts into a CSV, and draws them into a PNG.

Pass (exit 0) when:
  * no request failed (every stream the client did not drop ended with 200, a finish_reason and [DONE]);
  * RSS is flat after warm-up: over the last 20 minutes of load (the last two thirds of a shorter run)
    its high-water mark grew < 5%, measured as the largest sample in the second half of that window
    against the largest in its first half (a single first sample is no baseline: RSS dips whenever
    malloc hands pages back, and a dip there reads as growth on a short run);
  * after the load, open fds and threads return to their idle values (measured before the load, after
    one warm-up request and 12 s of quiet) and KV blocks in use and running/waiting requests return to
    0, within 60 s;
  * the server is still serving (one more completion after the load) and did not exit.

Usage: soak.py --binary B --model M --seconds N --out DIR [--streams 64] [--disconnect 0.2] [server flags after --]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

#: Seconds of quiet before idle values are read (Dispatch reaps idle worker threads after a few seconds).
SETTLE_SECONDS = 12
LISTENING = re.compile(r"listening on https?://\S+:(\d+)")
WORDS = ("the quick brown fox jumps over a lazy dog while seven wizards quietly brew potent coffee in "
         "old copper kettles near the river bank under a pale winter moon").split()


class Counters:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.started = self.completed = self.dropped = self.failed = self.tokens = self.cut_at_end = 0
        self.failures: list[str] = []
        #: The responses being read, so the end of the run can cut them instead of waiting for them.
        self.open_responses: set = set()

    def add(self, field: str, amount: int = 1) -> None:
        with self.lock:
            setattr(self, field, getattr(self, field) + amount)

    def fail(self, why: str) -> None:
        with self.lock:
            self.failed += 1
            if len(self.failures) < 20:
                self.failures.append(why)


def start_server(binary: str, model: str, root: Path, extra: list[str], log_path: Path) -> tuple[subprocess.Popen, int]:
    command = [binary, "serve", "--config", str(root / "config" / "hamburger.yaml"), "--host", "127.0.0.1", "--port", "0",
               "--model", model, "--log-level", "info", *extra]
    env = {k: v for k, v in os.environ.items() if not k.startswith("HAMBURGER_")}
    log = open(log_path, "w")
    process = subprocess.Popen(command, cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               bufsize=1, start_new_session=True)
    port_box: list[int] = []
    ready = threading.Event()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            log.write(line)
            log.flush()
            if not port_box and (m := LISTENING.search(line)):
                port_box.append(int(m.group(1)))
            if " ready in " in line:
                ready.set()

    threading.Thread(target=read, daemon=True).start()
    # Healthy = listening and the model attached.
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"soak: the server exited with {process.returncode} during start-up (log: {log_path})")
        if port_box:
            try:
                if httpx.get(f"http://127.0.0.1:{port_box[0]}/health", timeout=2).status_code == 200:
                    return process, port_box[0]
            except httpx.HTTPError:
                pass
        time.sleep(0.2)
    process.kill()
    sys.exit("soak: the server did not become healthy in 180 s")


def proc_status(pid: int) -> tuple[int, int, int]:
    """RSS in KiB, threads, open file descriptors."""
    rss = threads = 0
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
            elif line.startswith("Threads:"):
                threads = int(line.split()[1])
    return rss, threads, len(os.listdir(f"/proc/{pid}/fd"))


def metrics(port: int) -> dict[str, float]:
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
    samples: dict[str, float] = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            try:
                samples[name] = float(value)
            except ValueError:
                pass
    return samples


def kv_blocks_in_use(sample: dict[str, float]) -> int:
    total = 0
    for name in sample:
        if name.startswith("hamburger:cache_config_info") and (m := re.search(r'num_cpu_blocks="(\d+)"', name)):
            total = int(m.group(1))
    return round(sample.get("hamburger:kv_cache_usage_perc", 0) * total)


def random_body(rng: random.Random) -> tuple[str, dict]:
    prompt = " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 200)))
    sampling = {"max_tokens": rng.randint(1, 160), "temperature": rng.choice([0, 0.3, 0.8, 1.2]), "seed": rng.randint(0, 1 << 30)}
    if rng.random() < 0.5:
        sampling["top_p"] = rng.choice([0.5, 0.9, 1.0])
    if rng.random() < 0.3:
        sampling["top_k"] = rng.choice([1, 10, 50])
    if rng.random() < 0.2:
        sampling["ignore_eos"] = True
    if rng.random() < 0.2:
        sampling["decoding"] = "autoregressive"
    if rng.random() < 0.5:
        return "/v1/chat/completions", {"messages": [{"role": "user", "content": prompt}], **sampling, "stream": True}
    return "/v1/completions", {"prompt": prompt, **sampling, "stream": True}


def stream_worker(port: int, seed: int, disconnect: float, stop: threading.Event, counters: Counters) -> None:
    rng = random.Random(seed)
    while not stop.is_set():
        path, body = random_body(rng)
        drop_after = rng.randint(1, 8) if rng.random() < disconnect else None
        counters.add("started")
        try:
            if drop_after is not None:
                drop_stream(port, path, body, drop_after)
                counters.add("dropped")
                continue
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=300) as client:
                with client.stream("POST", path, json=body) as response:
                    with counters.lock:
                        counters.open_responses.add(response)
                    if response.status_code != 200:
                        counters.fail(f"{path}: HTTP {response.status_code} {response.read()[:200]!r}")
                        continue
                    done = finished = False
                    for line in response.iter_lines():
                        if not line.startswith("data: "):
                            continue
                        data = line[6:]
                        if data == "[DONE]":
                            done = True
                            continue
                        event = json.loads(data)
                        if "error" in event:
                            counters.fail(f"{path}: error event {event['error']}")
                        for choice in event.get("choices", []):
                            finished = finished or bool(choice.get("finish_reason"))
                            counters.add("tokens")
                    if done and finished:
                        counters.add("completed")
                    elif stop.is_set():
                        counters.add("cut_at_end")
                    else:
                        counters.fail(f"{path}: stream ended without finish_reason/[DONE] (done={done})")
        except Exception as error:  # noqa: BLE001 - every transport error is a failed request
            if stop.is_set():
                counters.add("cut_at_end")  # the run ended under it: closed by the client, not a failure
            else:
                counters.fail(f"{path}: {type(error).__name__}: {error}")
        finally:
            with counters.lock:
                counters.open_responses = {r for r in counters.open_responses if not r.is_closed}


def drop_stream(port: int, path: str, body: dict, events_before_drop: int) -> None:
    """Sends the request on a raw socket, reads a few events, then closes the connection (a client
    walking away mid-stream)."""
    payload = json.dumps(body).encode()
    request = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
               f"Content-Length: {len(payload)}\r\n\r\n").encode() + payload
    with socket.create_connection(("127.0.0.1", port), timeout=300) as sock:
        sock.sendall(request)
        received = b""
        while received.count(b"data: ") < events_before_drop and b"[DONE]" not in received:
            chunk = sock.recv(65536)
            if not chunk:
                break
            received += chunk


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", required=True)
    parser.add_argument("--model", required=True)
    parser.add_argument("--seconds", type=int, default=1800)
    parser.add_argument("--streams", type=int, default=64)
    parser.add_argument("--disconnect", type=float, default=0.2)
    parser.add_argument("--interval", type=float, default=10.0)
    parser.add_argument("--out", required=True)
    parser.add_argument("server_args", nargs="*")
    args = parser.parse_args()
    root = Path(__file__).resolve().parents[1]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    process, port = start_server(args.binary, args.model, root, args.server_args, out / "server.log")
    pid = process.pid
    try:
        # Idle values after one warm-up request (first-use allocations are not leaks).
        httpx.post(f"http://127.0.0.1:{port}/v1/completions", json={"prompt": "warm up", "max_tokens": 4}, timeout=120).raise_for_status()
        # Dispatch parks idle worker threads for a few seconds before it reaps them: idle means after that.
        time.sleep(SETTLE_SECONDS)
        idle_rss, idle_threads, idle_fds = proc_status(pid)
        counters = Counters()
        stop = threading.Event()
        workers = [threading.Thread(target=stream_worker, args=(port, i, args.disconnect, stop, counters), daemon=True)
                   for i in range(args.streams)]
        started = time.monotonic()
        for worker in workers:
            worker.start()
        rows: list[dict] = []
        fields = ["seconds", "rss_kib", "fds", "threads", "kv_blocks_in_use", "running", "waiting",
                  "started", "completed", "dropped", "cut_at_end", "failed", "http_requests_total"]
        with open(out / "soak.csv", "w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=fields)
            writer.writeheader()

            def record(phase_elapsed: float) -> dict:
                rss, threads, fds = proc_status(pid)
                sample = metrics(port)
                row = {"seconds": round(phase_elapsed, 1), "rss_kib": rss, "fds": fds, "threads": threads,
                       "kv_blocks_in_use": kv_blocks_in_use(sample), "running": int(sample.get("hamburger:num_requests_running", 0)),
                       "waiting": int(sample.get("hamburger:num_requests_waiting", 0)), "started": counters.started,
                       "completed": counters.completed, "dropped": counters.dropped, "failed": counters.failed,
                       "cut_at_end": counters.cut_at_end,
                       "http_requests_total": int(sum(v for k, v in sample.items() if k.startswith("http_requests_total")))}
                writer.writerow(row)
                handle.flush()
                rows.append(row)
                print("soak:", row, flush=True)
                return row

            while (elapsed := time.monotonic() - started) < args.seconds:
                if process.poll() is not None:
                    print(f"soak: FAIL the server exited with {process.returncode}", file=sys.stderr)
                    return 1
                record(elapsed)
                time.sleep(min(args.interval, max(0.0, args.seconds - elapsed)))
            load_rows = list(rows)
            # The end: streams still running are cut by the client (which the server must also clean
            # up after), so the run does not wait for a full queue to drain.
            stop.set()
            with counters.lock:
                cutting = list(counters.open_responses)
            for response in cutting:
                try:
                    response.close()
                except Exception:  # noqa: BLE001 - closing from another thread may race the reader
                    pass
            for worker in workers:
                worker.join(timeout=120)
            # Back to idle within 60 s of the last stream ending. Only /proc is read while waiting (each
            # /metrics request wakes a Dispatch worker thread), then one full record.
            deadline = time.monotonic() + 60
            time.sleep(SETTLE_SECONDS)
            while time.monotonic() < deadline:
                _, threads, fds = proc_status(pid)
                if fds <= idle_fds and threads <= idle_threads:
                    break
                time.sleep(2)
            settled = record(time.monotonic() - started)
        after = httpx.post(f"http://127.0.0.1:{port}/v1/completions", json={"prompt": "still there?", "max_tokens": 4}, timeout=120)
        plot(out, rows)

        window = min(1200.0, args.seconds * 2 / 3)
        in_window = [r for r in load_rows if r["seconds"] >= args.seconds - window]
        half = len(in_window) // 2
        if half:
            earlier, later = max(r["rss_kib"] for r in in_window[:half]), max(r["rss_kib"] for r in in_window[half:])
            growth = (later - earlier) / earlier
        else:
            growth = 0.0
        checks = {
            "no failed request": counters.failed == 0,
            f"RSS high-water growth over the last {int(window)} s < 5% (got {growth * 100:.2f}%)": growth < 0.05,
            f"fds back to idle ({idle_fds}; got {settled['fds']})": settled["fds"] <= idle_fds,
            f"threads back to idle ({idle_threads}; got {settled['threads']})": settled["threads"] <= idle_threads,
            f"KV blocks in use back to 0 (got {settled['kv_blocks_in_use']})": settled["kv_blocks_in_use"] == 0,
            "no request running or waiting": settled["running"] == 0 and settled["waiting"] == 0,
            f"still serving (HTTP {after.status_code})": after.status_code == 200,
        }
        summary = {"seconds": args.seconds, "streams": args.streams, "disconnect": args.disconnect,
                   "idle": {"rss_kib": idle_rss, "fds": idle_fds, "threads": idle_threads},
                   "peak_rss_kib": max(r["rss_kib"] for r in rows), "started": counters.started,
                   "completed": counters.completed, "dropped": counters.dropped, "failed": counters.failed, "cut_at_end": counters.cut_at_end,
                   "streamed_choice_events": counters.tokens, "failures": counters.failures,
                   "checks": checks, "passed": all(checks.values())}
        (out / "summary.json").write_text(json.dumps(summary, indent=2))
        for name, ok in checks.items():
            print(f"soak: {'PASS' if ok else 'FAIL'} {name}")
        print(f"soak: {counters.completed} completed, {counters.dropped} dropped by the client mid-stream, "
          f"{counters.cut_at_end} cut when the run ended, {counters.failed} failed; "
              f"CSV {out / 'soak.csv'}, plot {out / 'soak.png'}")
        return 0 if summary["passed"] else 1
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


def plot(out: Path, rows: list[dict]) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t = [r["seconds"] / 60 for r in rows]
    figure, axes = plt.subplots(4, 1, figsize=(9, 10), sharex=True)
    axes[0].plot(t, [r["rss_kib"] / 1024 for r in rows]); axes[0].set_ylabel("RSS (MiB)")
    axes[1].plot(t, [r["fds"] for r in rows], label="open fds"); axes[1].plot(t, [r["threads"] for r in rows], label="threads")
    axes[1].legend()
    axes[2].plot(t, [r["kv_blocks_in_use"] for r in rows], label="KV blocks in use")
    axes[2].plot(t, [r["running"] for r in rows], label="running"); axes[2].plot(t, [r["waiting"] for r in rows], label="waiting")
    axes[2].legend()
    for key in ("completed", "dropped", "failed"):
        axes[3].plot(t, [r[key] for r in rows], label=key)
    axes[3].set_ylabel("requests"); axes[3].legend(); axes[3].set_xlabel("minutes")
    figure.suptitle("hamburger soak: 64 streams, random lengths and sampling, 20% client drops")
    figure.tight_layout()
    figure.savefig(out / "soak.png", dpi=90)


if __name__ == "__main__":
    sys.exit(main())
