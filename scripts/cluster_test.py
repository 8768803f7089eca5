"""Several hamburger replicas behind vllm-router on loopback, driven by the official openai client.

Run through scripts/cluster-test.sh (`make cluster-test`), which makes the pinned venv. Phases:

1. round_robin and cache_aware: a mixed load (completions and chat, streaming and not) succeeds;
   round_robin spreads it evenly.
2. power_of_two: the same mixed load succeeds.
3. power_of_two with an unbalanced load: replica 1 is kept busy by direct requests; once the router
   has polled its GET /get_load, new requests through the router go to the other replicas.
4. SIGTERM on replica 2 under load: it drains and exits 0, and no request fails.
5. SIGKILL on replica 3 under load: only requests in flight on it fail, each with a clean client error
   (an exception or a stream that ends without a finish_reason), and the rest keep flowing.
6. Replica 3, restarted on its port, rejoins: the router sends it requests again.

Every wait is bounded; every process started here is stopped in `finally` (replicas and the router each
run in their own process group; the router renames its process, so it is stopped by group).
Figures go to stdout and to <work>/cluster-results.json.
"""
import argparse
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import openai

MODEL = "SmolLM2-135M-Instruct"
KINDS = ("completion", "completion-stream", "chat", "chat-stream")
PROMPT = "The three primary colours are"
MESSAGES = [{"role": "user", "content": "Name a colour."}]


def log(message):
    print(f"[cluster-test {time.strftime('%H:%M:%S')}] {message}", flush=True)


def http_get(url, timeout=2.0):
    """(status, body) or (None, error text); never raises."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(errors="replace")
    except Exception as error:  # connection refused, reset, timeout
        return None, str(error)


def wait_until(predicate, timeout, interval=0.25):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False


class Process:
    """A child in its own process group, with its output in a log file."""

    def __init__(self, name, argv, log_path):
        self.name, self.argv, self.log_path = name, argv, log_path
        self.proc = None

    def start(self):
        self.log_file = open(self.log_path, "a")
        self.log_file.write(f"\n=== start {' '.join(self.argv)}\n")
        self.log_file.flush()
        self.proc = subprocess.Popen(self.argv, stdout=self.log_file, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True)
        self.started_at = time.monotonic()

    def signal_group(self, sig):
        if self.proc and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                pass

    def stop(self, grace=25.0):
        if not self.proc:
            return
        self.signal_group(signal.SIGTERM)
        try:
            self.proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            self.signal_group(signal.SIGKILL)
            self.proc.wait(timeout=10)
        self.log_file.close()


class Replica(Process):
    def __init__(self, index, port, binary, model, work):
        argv = [binary, "serve", "--port", str(port), "--host", "127.0.0.1", "--model", model,
                "--threads", "1", "--kv-cache-bytes", str(32 << 20), "--max-model-len", "1024",
                "--shutdown-timeout-seconds", "20", "--log-level", "info"]
        super().__init__(f"replica{index}", argv, work / f"replica{index}.log")
        self.index, self.port = index, port
        self.url = f"http://127.0.0.1:{port}"

    def wait_healthy(self, timeout=90):
        return wait_until(lambda: http_get(self.url + "/health")[0] == 200, timeout)

    def load(self):
        status, body = http_get(self.url + "/get_load")
        return json.loads(body)["load"] if status == 200 else None

    def served_posts(self):
        """Completion requests this replica answered, from its log (one line per finished request)."""
        text = self.log_path.read_text(errors="replace")
        return len(re.findall(r"POST /v1/(?:chat/)?completions 200 ", text))

    def get_load_polls(self):
        return len(re.findall(r"GET /get_load 200 ", self.log_path.read_text(errors="replace")))


class Router(Process):
    def __init__(self, port, binary, worker_urls, policy, work):
        argv = [binary, "--host", "127.0.0.1", "--port", str(port), "--policy", policy,
                "--worker-urls", *worker_urls, "--log-level", "info",
                "--health-check-interval-secs", "2", "--health-failure-threshold", "2",
                "--health-success-threshold", "1", "--worker-startup-timeout-secs", "60",
                "--worker-startup-check-interval", "1", "--request-timeout-secs", "60",
                # Fail over within seconds: a request that meets a stopped replica is retried with
                # backoff (up to ~3 s) while the circuit breaker (3 failures) and the health check
                # (every 2 s, 2 failures) take that replica out; half-open again after 5 s.
                "--retry-max-retries", "8", "--retry-initial-backoff-ms", "100",
                "--cb-failure-threshold", "3", "--cb-timeout-duration-secs", "5"]
        super().__init__(f"router-{policy}", argv, work / f"router-{policy}.log")
        self.url = f"http://127.0.0.1:{port}"

    def wait_ready(self, timeout=60):
        return wait_until(lambda: http_get(self.url + "/health")[0] == 200, timeout)

    def selections(self):
        """power_of_two's decisions from its log: [(url_a, load_a, url_b, load_b, selected)]."""
        text = self.log_path.read_text(errors="replace")
        text = re.sub(r"\x1b\[[0-9;]*m", "", text)
        pattern = r"Power-of-two selection: (\S+)=(\d+) vs (\S+)=(\d+) -> selected (\S+)"
        return [(a, int(la), b, int(lb), s) for a, la, b, lb, s in re.findall(pattern, text)]


def one_request(client, kind, max_tokens):
    """Runs one request; returns (outcome, detail): ok | error (exception) | truncated (no finish)."""
    try:
        if kind == "completion":
            r = client.completions.create(model=MODEL, prompt=PROMPT, max_tokens=max_tokens)
            ok = r.choices[0].finish_reason in ("stop", "length")
            return ("ok" if ok else "truncated"), r.choices[0].finish_reason
        if kind == "chat":
            r = client.chat.completions.create(model=MODEL, messages=MESSAGES, max_tokens=max_tokens)
            ok = r.choices[0].finish_reason in ("stop", "length")
            return ("ok" if ok else "truncated"), r.choices[0].finish_reason
        if kind == "completion-stream":
            stream = client.completions.create(model=MODEL, prompt=PROMPT, max_tokens=max_tokens, stream=True)
        else:
            stream = client.chat.completions.create(model=MODEL, messages=MESSAGES, max_tokens=max_tokens, stream=True)
        finish = None
        for chunk in stream:
            for choice in chunk.choices:
                finish = choice.finish_reason or finish
        return ("ok" if finish in ("stop", "length") else "truncated"), str(finish)
    except openai.APIError as error:
        return "error", f"{type(error).__name__}: {str(error)[:120]}"


class Load:
    """Closed-loop load: `concurrency` threads each send requests (kinds in turn) until stopped or the
    count is reached; every result is kept with its start and end time."""

    def __init__(self, base_url, concurrency, max_tokens=16, count=None, timeout=30.0):
        self.client = openai.OpenAI(base_url=base_url + "/v1", api_key="none", timeout=timeout, max_retries=0)
        self.concurrency, self.max_tokens, self.count = concurrency, max_tokens, count
        self.results, self.lock, self.stopping = [], threading.Lock(), threading.Event()
        self.issued = 0

    def _next(self):
        with self.lock:
            if self.stopping.is_set() or (self.count is not None and self.issued >= self.count):
                return None
            self.issued += 1
            return self.issued - 1

    def _worker(self):
        while (n := self._next()) is not None:
            kind = KINDS[n % len(KINDS)]
            start = time.monotonic()
            outcome, detail = one_request(self.client, kind, self.max_tokens)
            with self.lock:
                self.results.append({"kind": kind, "outcome": outcome, "detail": detail,
                                     "start": start, "end": time.monotonic()})

    def start(self):
        self.pool = ThreadPoolExecutor(self.concurrency)
        self.futures = [self.pool.submit(self._worker) for _ in range(self.concurrency)]
        return self

    def stop(self, timeout=60):
        self.stopping.set()
        return self.join(timeout)

    def join(self, timeout=120):
        deadline = time.monotonic() + timeout
        for future in self.futures:
            future.result(timeout=max(0.1, deadline - time.monotonic()))
        self.pool.shutdown()
        return self

    def summary(self):
        counts = {"requests": len(self.results)}
        for outcome in ("ok", "error", "truncated"):
            counts[outcome] = sum(r["outcome"] == outcome for r in self.results)
        return counts


class Check:
    def __init__(self):
        self.failures = []

    def __call__(self, condition, message):
        log(("PASS " if condition else "FAIL ") + message)
        if not condition:
            self.failures.append(message)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", default=".build/release/hamburger")
    parser.add_argument("--router", required=True)
    parser.add_argument("--model", default="models/SmolLM2-135M-Instruct.Q4_1.gguf")
    parser.add_argument("--base-port", type=int, default=18300)
    parser.add_argument("--work", default=".cache/cluster-test")
    args = parser.parse_args()
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    for old in work.glob("*.log"):
        old.unlink()

    check, figures = Check(), {"cpu_count": os.cpu_count()}
    replicas = [Replica(i, args.base_port + i, args.binary, args.model, work) for i in (1, 2, 3)]
    urls = [r.url for r in replicas]
    router_port = args.base_port
    router = None
    started = time.monotonic()
    try:
        for replica in replicas:
            replica.start()
        healthy = all(replica.wait_healthy() for replica in replicas)
        check(healthy, "3 replicas healthy")
        if not healthy:
            return 1
        figures["replicas_healthy_seconds"] = round(time.monotonic() - started, 1)

        # 1. round_robin (spread evenly) and cache_aware: a mixed load succeeds.
        for policy in ("round_robin", "cache_aware"):
            router = Router(router_port, args.router, urls, policy, work)
            router.start()
            check(router.wait_ready(), f"router ({policy}) ready")
            before = [r.served_posts() for r in replicas]
            load = Load(router.url, concurrency=4, count=48).start().join()
            spread = [r.served_posts() - b for r, b in zip(replicas, before)]
            summary = load.summary()
            figures[policy] = {**summary, "per_replica": spread}
            check(summary["ok"] == summary["requests"] == 48, f"{policy}: {summary}, per replica {spread}")
            if policy == "round_robin":
                check(min(spread) >= 12, f"round_robin spreads the load: {spread}")
            router.stop()

        # 2. power_of_two: the same mixed load succeeds.
        router = Router(router_port, args.router, urls, "power_of_two", work)
        router.start()
        check(router.wait_ready(), "router (power_of_two) ready")
        before = [r.served_posts() for r in replicas]
        served_at_start = dict(zip(urls, before))

        def routed_in_flight(replica):
            """Requests power_of_two sent to the replica that it has not answered yet (from the logs)."""
            sent = sum(d[4] == replica.url for d in router.selections())
            return sent - (replica.served_posts() - served_at_start[replica.url])
        load = Load(router.url, concurrency=4, count=48).start().join()
        spread = [r.served_posts() - b for r, b in zip(replicas, before)]
        summary = load.summary()
        figures["power_of_two_balanced"] = {**summary, "per_replica": spread}
        check(summary["ok"] == summary["requests"] == 48, f"power_of_two: {summary}, per replica {spread}")

        # 3. Unbalanced: replica 1 busy with direct requests; the router polls its /get_load (every
        #    few tens of seconds) and then sends new requests elsewhere.
        busy = replicas[0]
        hog = Load(busy.url, concurrency=4, max_tokens=200).start()
        wait_until(lambda: (busy.load() or 0) >= 3, 20)
        polls = busy.get_load_polls()
        polled = wait_until(lambda: busy.get_load_polls() > polls, 45, interval=0.5)
        seen_load = busy.load()
        check(polled, f"router polled replica 1's /get_load while it was busy (load {seen_load})")
        decided = len(router.selections())
        before = [r.served_posts() for r in replicas]
        probe = Load(router.url, concurrency=2, count=16).start().join()
        hog.stop()
        decisions = router.selections()[decided:]
        picked = {url: sum(d[4] == url for d in decisions) for url in urls}
        against_busy = [d for d in decisions if busy.url in (d[0], d[2])]
        busy_lost = sum(d[4] != busy.url for d in against_busy)
        loads_seen = sorted({d[1] if d[0] == busy.url else d[3] for d in against_busy})
        summary = probe.summary()
        figures["power_of_two_unbalanced"] = {**summary, "busy_replica_load": seen_load,
                                              "busy_load_seen_by_router": loads_seen,
                                              "routed": {u.rsplit(":", 1)[1]: n for u, n in picked.items()},
                                              "pairs_with_busy": len(against_busy), "busy_lost": busy_lost,
                                              "hog": hog.summary()}
        check(summary["ok"] == summary["requests"] == 16, f"unbalanced probes: {summary}")
        check(len(against_busy) > 0 and busy_lost == len(against_busy) and picked[busy.url] == 0,
              f"power_of_two picked the less loaded replica: routed {picked}, busy replica in "
              f"{len(against_busy)} pairs, lost {busy_lost} (its load as the router saw it: {loads_seen})")
        wait_until(lambda: all((r.load() or 0) == 0 for r in replicas), 30)

        # 4. SIGTERM on replica 2 under load: it drains, exits 0, no request fails.
        draining = replicas[1]
        load = Load(router.url, concurrency=6, max_tokens=64).start()
        time.sleep(3)
        wait_until(lambda: (draining.load() or 0) >= 1, 15, interval=0.05)
        inflight = draining.load()
        term_at = time.monotonic()
        draining.signal_group(signal.SIGTERM)
        try:
            exit_code = draining.proc.wait(timeout=40)
        except subprocess.TimeoutExpired:
            exit_code = None
        drain_seconds = round(time.monotonic() - term_at, 1)
        time.sleep(6)
        load.stop()
        summary = load.summary()
        after = sum(r["start"] > term_at and r["outcome"] == "ok" for r in load.results)
        figures["sigterm"] = {**summary, "in_flight_on_replica": inflight, "exit_code": exit_code,
                              "drain_seconds": drain_seconds, "ok_after_sigterm": after,
                              "failures": [r["detail"] for r in load.results if r["outcome"] != "ok"][:5]}
        check(exit_code == 0, f"SIGTERM: replica 2 drained {inflight} in flight and exited {exit_code} in {drain_seconds} s")
        check(summary["ok"] == summary["requests"] and after > 0,
              f"SIGTERM: no failed request ({summary}; {after} succeeded after the signal)")
        draining.start()
        check(draining.wait_healthy(), "replica 2 restarted")

        # 5. SIGKILL on replica 3 mid-load: only its in-flight requests fail, cleanly; the rest flow.
        killed = replicas[2]
        time.sleep(4)  # the router's health check (every 2 s) sees replica 2 again
        load = Load(router.url, concurrency=6, max_tokens=48).start()
        wait_until(lambda: (killed.load() or 0) >= 1, 15, interval=0.05)
        inflight_engine = killed.load()
        inflight = max(inflight_engine or 0, routed_in_flight(killed))
        kill_at = time.monotonic()
        killed.signal_group(signal.SIGKILL)
        killed.proc.wait(timeout=10)
        time.sleep(12)
        load.stop()
        summary = load.summary()
        failed = [r for r in load.results if r["outcome"] != "ok"]
        slowest_failure = max((r["end"] - r["start"] for r in failed), default=0)
        after = sum(r["start"] > kill_at and r["outcome"] == "ok" for r in load.results)
        figures["sigkill"] = {**summary, "in_flight_on_replica": inflight, "in_flight_engine_stats": inflight_engine,
                              "ok_after_kill": after, "slowest_failure_seconds": round(slowest_failure, 1),
                              "failures": [f'{r["kind"]}: {r["detail"]}' for r in failed][:8]}
        check(len(failed) <= inflight, f"SIGKILL: {len(failed)} failed, {inflight} were in flight on the killed replica "
              f"(routed there and unanswered; its /get_load said {inflight_engine}) ({summary})")
        check(all(r["start"] < kill_at for r in failed), "SIGKILL: every failed request had started before the kill")
        check(after >= 10, f"SIGKILL: the rest kept flowing ({after} succeeded after the kill)")

        # 6. The killed replica, restarted, rejoins.
        restart_at = time.monotonic()
        killed.start()
        check(killed.wait_healthy(), "replica 3 restarted and healthy")
        served = killed.served_posts()
        load = Load(router.url, concurrency=3, max_tokens=16).start()
        rejoined = wait_until(lambda: killed.served_posts() > served, 60, interval=0.5)
        rejoin_seconds = round(time.monotonic() - restart_at, 1)
        load.stop()
        summary = load.summary()
        figures["rejoin"] = {**summary, "seconds_from_restart_to_first_routed_request": rejoin_seconds,
                             "served_by_rejoined": killed.served_posts() - served}
        check(rejoined, f"replica 3 rejoined: first request routed to it {rejoin_seconds} s after its restart")
        check(summary["ok"] == summary["requests"], f"rejoin load: {summary}")
    finally:
        if router:
            router.stop(grace=10)
        for replica in replicas:
            replica.stop()
        figures["total_seconds"] = round(time.monotonic() - started, 1)
        figures["failed_checks"] = check.failures
        (work / "cluster-results.json").write_text(json.dumps(figures, indent=2) + "\n")
        print(json.dumps(figures, indent=2))
    log("all checks passed" if not check.failures else f"{len(check.failures)} check(s) failed")
    return 1 if check.failures else 0


if __name__ == "__main__":
    sys.exit(main())
