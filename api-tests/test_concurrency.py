"""Many streams at once, and a client that walks away mid-stream."""

from __future__ import annotations

import json
import socket
from concurrent.futures import ThreadPoolExecutor

from conftest import MODEL_NAME
from support import poll, stream_completion

CONCURRENT = 32
MAX_TOKENS = 8


def one_stream(server, index: int) -> dict:
    body = {"model": MODEL_NAME, "prompt": f"Item {index}: a short fact about the number {index} is", "max_tokens": MAX_TOKENS,
            "temperature": 0.8, "seed": index, "logprobs": 0, "stream_options": {"include_usage": True}}
    if index % 2 == 0:
        body["ignore_eos"] = True  # half of them must run to max_tokens
    with server.http() as http:
        _, events, done = stream_completion(http, "/v1/completions", body)
    tokens = sum(len(e["choices"][0]["logprobs"]["tokens"]) for e in events if e["choices"] and e["choices"][0]["logprobs"])
    finishes = [e["choices"][0]["finish_reason"] for e in events if e["choices"] and e["choices"][0]["finish_reason"]]
    return {"index": index, "done": done, "usage": events[-1].get("usage"), "usage_is_last": events[-1]["choices"] == [],
            "streamed_tokens": tokens, "finishes": finishes, "ids": {e["id"] for e in events}}


def test_32_concurrent_streams_complete_with_correct_usage(server):
    with ThreadPoolExecutor(max_workers=CONCURRENT) as pool:
        results = list(pool.map(lambda i: one_stream(server, i), range(CONCURRENT)))
    assert len(results) == CONCURRENT
    assert len(set().union(*(r["ids"] for r in results))) == CONCURRENT, "completion ids must be unique"
    for r in results:
        assert r["done"], r
        assert r["usage_is_last"], r
        assert len(r["ids"]) == 1, r
        assert len(r["finishes"]) == 1, r
        usage = r["usage"]
        assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"], r
        if r["finishes"] == ["length"]:
            assert usage["completion_tokens"] == r["streamed_tokens"] == MAX_TOKENS, r
        else:
            # Stopped by the end-of-sequence token: usage counts it (as OpenAI and vLLM do), the stream
            # carries no text or logprob for it.
            assert r["finishes"] == ["stop"], r
            assert usage["completion_tokens"] == r["streamed_tokens"] + 1 <= MAX_TOKENS, r
        if r["index"] % 2 == 0:
            assert r["finishes"] == ["length"], r
    assert poll(lambda: server.metrics()["hamburger:num_requests_running"] == 0, timeout=5)


def test_client_disconnect_mid_stream_frees_the_sequence(server):
    before = server.metrics()
    body = json.dumps({"model": MODEL_NAME, "prompt": "Tell me a very long story.", "max_tokens": 4000,
                       "ignore_eos": True, "temperature": 0, "stream": True}).encode()
    request = (b"POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
               b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=30)
    try:
        sock.sendall(request)
        received = b""
        while received.count(b"data: ") < 2:  # two events: the sequence is generating
            chunk = sock.recv(65536)
            assert chunk, "server closed the stream early"
            received += chunk
        assert received.startswith(b"HTTP/1.1 200")
        running = server.metrics()
        assert running["hamburger:num_requests_running"] == 1
        assert running["hamburger:kv_cache_usage_perc"] > 0
    finally:
        sock.close()

    def freed() -> bool:
        m = server.metrics()
        return m["hamburger:num_requests_running"] == 0 and m["hamburger:kv_cache_usage_perc"] == 0
    assert poll(freed, timeout=5), server.metrics()
    after = server.metrics()
    assert after["http_client_disconnects_total"] == before.get("http_client_disconnects_total", 0) + 1
    assert after["hamburger:num_requests_waiting"] == 0
