"""Fault injection against the real server: each test provokes one failure and asserts that the server
keeps serving and loses nothing it accepted (a request answered 200 runs to its end; a refused one gets
a clear status). Every wait is bounded; servers with special limits are started per test.

KV exhaustion, a client that stops reading, a connection flood past max_connections, slowloris headers
and bodies, 1,000 idle keep-alive connections, SIGKILL under load then a restart, and a model or adapter
file truncated or corrupted on disk.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from conftest import BINARY, MODEL, MODEL_NAME, REPO, Server
from support import poll, stream_completion

ADAPTER = REPO / "models" / "hamburger-smollm2-135m.json"


def quick_completion(server: Server) -> dict:
    """One short greedy completion; the proof that the server still serves."""
    with server.http() as http:
        response = http.post("/v1/completions", json={"model": MODEL_NAME, "prompt": "Still there?", "max_tokens": 3,
                                                      "temperature": 0})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["usage"]["completion_tokens"] >= 1, body
    return body


def idle(server: Server) -> bool:
    m = server.metrics()
    return (m["hamburger:num_requests_running"] == 0 and m["hamburger:num_requests_waiting"] == 0
            and m["hamburger:kv_cache_usage_perc"] == 0)


def open_fds(server: Server) -> int:
    assert server.process is not None
    return len(os.listdir(f"/proc/{server.process.pid}/fd"))


def raw_request(path: str, body: dict | None = None, extra: str = "") -> bytes:
    payload = json.dumps(body).encode() if body is not None else b""
    method = "POST" if body is not None else "GET"
    head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{extra}"
    if body is not None:
        head += f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n"
    return (head + "\r\n").encode() + payload


def read_head(sock: socket.socket, timeout: float = 30) -> bytes:
    sock.settimeout(timeout)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


# -- KV exhaustion ---------------------------------------------------------------------------------

def test_kv_exhaustion_preempts_or_refuses_and_every_accepted_request_completes(start_server):
    # About 20 blocks of 16 entries: six requests of 80 entries each need 30; they cannot all fit.
    server = start_server("tiny-kv", "--kv-cache-bytes", str(15 * 1024 * 1024), "--kv-cache-dtype", "float32",
                          "--enable-prefix-caching", "false",
                          "--max-num-seqs", "6", "--decoding", "autoregressive")
    before = server.metrics()
    max_tokens = 60

    def one(index: int) -> tuple[int, dict, str]:
        body = {"model": MODEL_NAME, "prompt": f"Request {index}: " + "count the sheep one by one " * 3,
                "max_tokens": max_tokens, "ignore_eos": True, "temperature": 0.5, "seed": index}
        with server.http(timeout=180) as http:
            response = http.post("/v1/completions", json=body)
        return response.status_code, response.json(), response.headers.get("retry-after", "")

    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(one, range(6)))
    after = server.metrics()
    accepted = [r for r in results if r[0] == 200]
    refused = [r for r in results if r[0] != 200]
    for status, body, retry_after in refused:
        assert status == 503 and retry_after, (status, body)
    for _, body, _ in accepted:
        assert body["choices"][0]["finish_reason"] == "length", body
        assert body["usage"]["completion_tokens"] == max_tokens, body
    preempted = after.get("hamburger:num_preemptions_total", 0) - before.get("hamburger:num_preemptions_total", 0)
    assert preempted > 0 or refused, "the cache was never exhausted: the test did not test anything"
    assert accepted, results
    assert poll(lambda: idle(server), timeout=10), server.metrics()
    quick_completion(server)
    assert server.process.poll() is None


# -- a client that stops reading ---------------------------------------------------------------------

def test_client_that_stops_reading_does_not_block_others_and_its_sequence_is_freed(start_server):
    # The stalled connection is cut by write_timeout_seconds once the kernel's send buffer is full; on
    # loopback that buffer autotunes up to tcp_wmem's maximum (4 MiB here), more than a debug build
    # streams in a bounded test, so the timeout itself is covered by the next test (which shrinks that
    # buffer from the client side) and by HTTPServerBackpressureTests. Here: a stalled reader holds its
    # stream while others are served, and when it finally goes away without having read, its sequence
    # and KV blocks are freed.
    server = start_server("write-stall", "--write-timeout-seconds", "2")
    before = server.metrics()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # a small window: the server's writes back up
    sock.connect(("127.0.0.1", server.port))
    try:
        sock.sendall(raw_request("/v1/completions", {"model": MODEL_NAME, "prompt": "Tell me a very long story.",
                                                     "max_tokens": 4000, "ignore_eos": True, "stream": True,
                                                     "logprobs": 5, "decoding": "autoregressive"}))
        assert poll(lambda: server.metrics()["hamburger:num_requests_running"] == 1, timeout=30)
        time.sleep(2)
        # The reader never reads; meanwhile the server serves others, streamed and not.
        quick_completion(server)
        with server.http() as http:
            _, events, done = stream_completion(http, "/v1/chat/completions", {
                "model": MODEL_NAME, "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 4})
        assert done and events
        assert server.metrics()["hamburger:num_requests_running"] == 1  # the stalled one, still held
    finally:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")  # reset
        sock.close()
    assert poll(lambda: idle(server), timeout=10), server.metrics()
    after = server.metrics()
    assert after["http_client_disconnects_total"] == before.get("http_client_disconnects_total", 0) + 1
    quick_completion(server)


def test_client_that_stops_reading_is_cut_by_the_write_timeout_and_its_sequences_freed(start_server):
    # On loopback the kernel sizes the server's send buffer from the peer's MSS (64 KiB segments: the
    # buffer starts near tcp_wmem's 4 MiB maximum, about 3 MB of SSE before a write blocks). A client that
    # advertises a 1,000-byte MSS in its SYN (TCP_MAXSEG before connect) brings that down to about 100 KiB
    # on this kernel, which four choices with logprobs fill in seconds. Nothing is read from then on: the
    # server's writes stop making progress, write_timeout_seconds (2) closes the connection, and the
    # engine frees all four sequences long before their 4,000 tokens, with one disconnect counted.
    server = start_server("write-timeout", "--write-timeout-seconds", "2")
    before = server.metrics()
    max_tokens, n = 4000, 4
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, 1000)
    sock.connect(("127.0.0.1", server.port))
    try:
        sock.sendall(raw_request("/v1/completions", {"model": MODEL_NAME, "prompt": "Tell me a very long story.",
                                                     "max_tokens": max_tokens, "n": n, "ignore_eos": True, "stream": True,
                                                     "logprobs": 5, "decoding": "autoregressive"}))
        assert poll(lambda: server.metrics()["hamburger:num_requests_running"] == n, timeout=30), server.metrics()
        started = time.monotonic()
        # Never read. Bound: filling ~110 KB at a debug build's pace, plus the 2 s timeout, plus slack.
        assert poll(lambda: idle(server), timeout=120), server.metrics()
        freed_after = time.monotonic() - started
        after = server.metrics()
        generated = after["hamburger:generation_tokens_total"] - before.get("hamburger:generation_tokens_total", 0)
        assert generated < n * max_tokens / 2, f"the stream ran {generated} tokens: it was not cut by the timeout"
        assert after["http_client_disconnects_total"] == before.get("http_client_disconnects_total", 0) + 1
        # The server closed the connection: what it had sent is readable, then end of stream (or a reset).
        sock.settimeout(10)
        received = b""
        try:
            while chunk := sock.recv(65536):
                received += chunk
        except ConnectionResetError:
            pass
        assert received.startswith(b"HTTP/1.1 200") and b"data: [DONE]" not in received
        print(f"write stall: {n} sequences freed {freed_after:.1f} s after they started, {int(generated)} tokens generated, "
              f"{len(received)} bytes were still readable by the client")
    finally:
        sock.close()
    quick_completion(server)
    assert server.process.poll() is None


# -- connection flood ----------------------------------------------------------------------------------

def test_connection_flood_past_max_connections_gets_503_then_recovers(start_server):
    server = start_server("few-connections", "--max-connections", "8")
    held = [socket.create_connection(("127.0.0.1", server.port), timeout=10) for _ in range(8)]
    try:
        for sock in held[:2]:  # two of them are in use, keep-alive
            sock.sendall(raw_request("/health"))
            assert read_head(sock).startswith(b"HTTP/1.1 200")
        time.sleep(0.3)
        statuses = []
        for _ in range(20):
            with socket.create_connection(("127.0.0.1", server.port), timeout=10) as extra:
                try:
                    extra.sendall(raw_request("/health"))
                    head = read_head(extra, timeout=10)
                except (ConnectionResetError, BrokenPipeError):
                    head = b""
                statuses.append(head.split(b" ", 2)[1] if head.startswith(b"HTTP/1.1") else b"closed")
        assert statuses.count(b"503") >= 1, statuses
        assert set(statuses) <= {b"503", b"closed"}, statuses
        # The held connections still work.
        held[0].sendall(raw_request("/health"))
        assert read_head(held[0]).startswith(b"HTTP/1.1 200")
    finally:
        for sock in held:
            sock.close()
    # Recovery: once the flood is gone, new connections are served again.
    assert poll(lambda: httpx.get(server.base_url + "/health", timeout=5).status_code == 200, timeout=10)
    quick_completion(server)


# -- slowloris -----------------------------------------------------------------------------------------

def test_slowloris_headers_and_bodies_get_408_and_others_are_served(start_server):
    server = start_server("slowloris", "--header-timeout-seconds", "1", "--body-timeout-seconds", "1")
    slow_head = socket.create_connection(("127.0.0.1", server.port), timeout=15)
    slow_body = None
    try:
        started = time.monotonic()
        # Headers trickle in a byte at a time, never finishing.
        for byte in b"POST /v1/completions HTTP/1.1\r\nHost: 12":
            try:
                slow_head.send(bytes([byte]))
            except (BrokenPipeError, ConnectionResetError):
                break
            time.sleep(0.05)
        # A body that announces 1000 bytes and sends 10, then nothing. (Connected only now: a fresh
        # connection silent for header_timeout_seconds is closed quietly, which is not what is tested.)
        slow_body = socket.create_connection(("127.0.0.1", server.port), timeout=15)
        slow_body.sendall(b"POST /v1/completions HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\n"
                          b"Content-Length: 1000\r\n\r\n{\"prompt\":")
        quick_completion(server)  # others are served meanwhile
        for name, sock in (("slow head", slow_head), ("slow body", slow_body)):
            head = read_head(sock, timeout=15)
            assert head.startswith(b"HTTP/1.1 408"), (name, head[:200])
            assert b"connection: close" in head.lower(), head
        assert time.monotonic() - started < 15
    finally:
        slow_head.close()
        if slow_body is not None:
            slow_body.close()
    quick_completion(server)


# -- 1,000 idle keep-alive connections -----------------------------------------------------------------

def test_a_thousand_idle_keep_alive_connections(start_server):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 2600:
        pytest.fail(f"the open-file limit ({hard}) is too low for 1,000 connections on both ends")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, 2600), hard))  # the server inherits it
    server = start_server("thousand", "--max-connections", "1100", "--keep-alive-timeout-seconds", "120")
    # The idle value after one plain and one streamed request (first-use descriptors are not leaks).
    quick_completion(server)
    with server.http() as http:
        stream_completion(http, "/v1/completions", {"model": MODEL_NAME, "prompt": "Hi", "max_tokens": 2})
    baseline = open_fds(server)
    sockets: list[socket.socket] = []
    try:
        for _ in range(1000):
            sock = socket.create_connection(("127.0.0.1", server.port), timeout=30)
            sock.sendall(raw_request("/health"))
            sockets.append(sock)
        for sock in sockets:
            assert read_head(sock).startswith(b"HTTP/1.1 200")
        assert open_fds(server) >= 1000
        # With 1,000 idle connections open, a stream and the metrics still work.
        with server.http() as http:
            _, events, done = stream_completion(http, "/v1/completions", {"model": MODEL_NAME, "prompt": "Hello", "max_tokens": 4})
        assert done and events
        # Every idle connection is still usable.
        for sock in sockets[::100]:
            sock.sendall(raw_request("/health"))
            assert read_head(sock).startswith(b"HTTP/1.1 200")
    finally:
        for sock in sockets:
            sock.close()
    assert poll(lambda: open_fds(server) <= baseline, timeout=20), (open_fds(server), baseline)
    quick_completion(server)


# -- SIGKILL under load, then a restart ------------------------------------------------------------------

def test_sigkill_under_load_then_a_restart_on_the_same_port_serves(start_server, log_dir):
    first = start_server("killed")
    port = first.port
    errors: list[str] = []

    def stream(index: int) -> None:
        try:
            with first.http(timeout=60) as http:
                stream_completion(http, "/v1/completions", {"model": MODEL_NAME, "prompt": f"Story {index}:",
                                                            "max_tokens": 400, "ignore_eos": True})
        except Exception as error:  # noqa: BLE001 - the kill breaks these streams; that is the point
            errors.append(type(error).__name__)

    threads = [threading.Thread(target=stream, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    assert poll(lambda: first.metrics()["hamburger:num_requests_running"] >= 1, timeout=30)
    first.process.send_signal(signal.SIGKILL)
    first.process.wait(timeout=10)
    for thread in threads:
        thread.join(timeout=60)
    assert first.process.returncode == -signal.SIGKILL
    assert len(errors) == 8, errors  # every in-flight stream saw the connection drop, none hung
    second = Server("restarted", [], log_dir, port=port)
    second.start()
    try:
        assert second.port == port
        quick_completion(second)
        assert idle(second)
    finally:
        second.stop()


# -- truncated or corrupted files on disk -------------------------------------------------------------------

def run_serve(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    command = [str(BINARY), "serve", "--config", str(REPO / "config" / "hamburger.yaml"), "--host", "127.0.0.1",
               "--port", "0", *args]
    env = {k: v for k, v in os.environ.items() if not k.startswith("HAMBURGER_")}
    return subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.mark.parametrize("damage", ["truncated", "bad-magic", "zeroed-header"])
def test_damaged_model_file_exits_non_zero_with_a_clear_error(tmp_path: Path, damage: str):
    data = bytearray(MODEL.read_bytes())
    if damage == "truncated":
        data = data[: len(data) // 3]
    elif damage == "bad-magic":
        data[0:4] = b"GGUX"
    else:
        data[8:4096] = bytes(4088)
    broken = tmp_path / f"{damage}.gguf"
    broken.write_bytes(data)
    result = run_serve("--model", str(broken))
    output = result.stdout + result.stderr
    assert result.returncode != 0, output[-2000:]
    assert str(broken) in output or broken.name in output, output[-2000:]
    assert " ready in " not in output, output[-2000:]


@pytest.mark.parametrize("damage", ["truncated-weights", "corrupted-header", "bad-json"])
def test_damaged_adapter_exits_non_zero_with_a_clear_error(tmp_path: Path, damage: str):
    weights = ADAPTER.with_suffix(".safetensors")
    adapter = tmp_path / ADAPTER.name
    copied = tmp_path / weights.name
    shutil.copy(ADAPTER, adapter)
    data = bytearray(weights.read_bytes())
    if damage == "truncated-weights":
        data = data[: len(data) // 2]
    elif damage == "corrupted-header":
        data[8:40] = b"\xff" * 32
    else:
        adapter.write_text(adapter.read_text()[:100])
    copied.write_bytes(data)
    result = run_serve("--model", str(MODEL), "--adapter", str(adapter))
    output = result.stdout + result.stderr
    assert result.returncode != 0, output[-2000:]
    named = adapter.name if damage == "bad-json" else copied.name
    assert named in output, output[-2000:]
    assert " ready in " not in output, output[-2000:]
