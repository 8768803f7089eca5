"""SIGTERM drain: in-flight streams finish, /health turns 503 (or the listener closes), exit status 0."""

from __future__ import annotations

import json
import socket
import time

import httpx

from conftest import MODEL_NAME
from support import dechunk, poll

#: How long the drained stream should take at least, so the signal surely lands mid-stream.
STREAM_SECONDS = 4.0


def tokens_for(server, seconds: float) -> int:
    """max_tokens for a stream of about `seconds` on this build and machine (a debug build is slow,
    a release build fast): times a short greedy request first."""
    with httpx.Client(base_url=server.base_url, timeout=60) as http:
        start = time.monotonic()
        r = http.post("/v1/completions", json={"prompt": "Warm up", "max_tokens": 8, "ignore_eos": True, "temperature": 0})
        elapsed = time.monotonic() - start
    assert r.status_code == 200
    return max(16, min(2000, int(seconds / (elapsed / 8))))


def health_during_drain(server) -> str:
    """What a new client sees on /health now: "503", "refused", or the unexpected status."""
    try:
        r = httpx.get(f"{server.base_url}/health", timeout=5)
    except httpx.ConnectError:
        return "refused"
    return str(r.status_code)


def test_sigterm_drains_in_flight_streams_and_exits_zero(start_server):
    server = start_server("drain", "--shutdown-timeout-seconds", "60")
    # A keep-alive connection opened before the signal, to ask /health on after it.
    kept = httpx.Client(base_url=server.base_url, timeout=10)
    assert kept.get("/health").status_code == 200

    max_tokens = tokens_for(server, STREAM_SECONDS)
    body = json.dumps({"model": MODEL_NAME, "prompt": "Once upon a time", "max_tokens": max_tokens, "ignore_eos": True,
                       "temperature": 0, "stream": True, "stream_options": {"include_usage": True}}).encode()
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=60)
    try:
        sock.sendall(b"POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                     b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
        received = b""
        while b"data: " not in received:
            chunk = sock.recv(65536)
            assert chunk, "closed before the first event"
            received += chunk

        server.terminate()
        assert any("draining" in line for line in _wait_for_log(server, "draining")), server.log_tail()

        # New clients are turned away while the stream goes on.
        seen = health_during_drain(server)
        assert seen in ("503", "refused"), seen
        try:
            kept_status = kept.get("/health").status_code
        except httpx.HTTPError:
            kept_status = None  # the idle connection was closed by the drain: also fine
        assert kept_status in (503, None)
        assert server.process.poll() is None, "the server exited before the stream finished"

        while not received.endswith(b"0\r\n\r\n"):
            chunk = sock.recv(65536)
            if not chunk:
                break
            received += chunk
    finally:
        sock.close()
        kept.close()

    head, _, chunked = received.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200")
    payload, _ = dechunk(chunked)
    text = payload.decode()
    assert text.endswith("data: [DONE]\n\n"), text[-500:]
    events = [json.loads(e[6:]) for e in text.split("\n\n") if e.startswith("data: {")]
    assert events[-1]["usage"]["completion_tokens"] == max_tokens
    assert [c["finish_reason"] for e in events for c in e["choices"] if c["finish_reason"]] == ["length"]

    assert server.wait(timeout=60) == 0
    # The log reader thread may still be reading the last lines when the process has exited.
    assert poll(lambda: any("stopped" in line for line in server.lines), timeout=5), server.log_tail()


def _wait_for_log(server, needle: str, timeout: float = 10) -> list[str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(needle in line for line in server.lines):
            break
        time.sleep(0.05)
    return server.lines
