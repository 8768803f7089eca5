"""Error responses: status, headers and the OpenAI envelope `{"error": {message, type, param, code}}`.

401/413/431 run against a server started with API keys and small HTTP limits; 503 against one with a
one-slot engine and a one-request waiting queue; the rest against the shared default server.
"""

from __future__ import annotations

import json
import socket

import httpx
import openai
import pytest

from conftest import MODEL_NAME
from support import assert_error_envelope, parse_raw_response, poll, raw_exchange

KEYS = ("key-one", "key-two")
MAX_BODY = 64 * 1024
MAX_HEADER = 4096


@pytest.fixture(scope="module")
def restricted(start_server):
    server = start_server("restricted", "--api-keys", ",".join(KEYS), "--max-body-bytes", str(MAX_BODY),
                          "--max-header-bytes", str(MAX_HEADER))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def one_slot(start_server):
    server = start_server("one-slot", "--max-queued-requests", "1", "--max-num-seqs", "1")
    yield server
    server.stop()


# -- 404 / 405 ------------------------------------------------------------------------------------

def test_unknown_model_is_404(server, client):
    with server.http() as http:
        r = http.post("/v1/completions", json={"model": "gpt-4", "prompt": "x", "max_tokens": 1})
    assert_error_envelope(r, 404, param="model", code="model_not_found", message_contains="gpt-4")
    with pytest.raises(openai.NotFoundError) as caught:
        client.chat.completions.create(model="gpt-4", messages=[{"role": "user", "content": "x"}], max_tokens=1)
    assert caught.value.body["code"] == "model_not_found"


def test_unknown_route_is_404(server):
    with server.http() as http:
        for method, path in [("GET", "/v1/nothing"), ("POST", "/v2/completions"), ("GET", "/")]:
            assert_error_envelope(http.request(method, path), 404, code="not_found", message_contains=path)


def test_wrong_method_is_405(server):
    with server.http() as http:
        error = assert_error_envelope(http.get("/v1/completions"), 405)
        assert "GET" in error["message"]


# -- 400 ------------------------------------------------------------------------------------------

def test_bad_json_is_400(server):
    with server.http() as http:
        for body in [b"{not json", b"", b"[1, 2", b"\xff\xfe"]:
            r = http.post("/v1/completions", content=body, headers={"Content-Type": "application/json"})
            assert_error_envelope(r, 400, code="invalid_value")
            assert r.json()["error"]["type"] == "invalid_request_error"


@pytest.mark.parametrize("path, body, param", [
    ("/v1/completions", {"prompt": "x", "max_tokens": "ten"}, "max_tokens"),
    ("/v1/completions", {"prompt": "x", "max_tokens": 2.5}, "max_tokens"),
    ("/v1/completions", {"prompt": "x", "temperature": "hot"}, "temperature"),
    ("/v1/completions", {"prompt": {"text": "x"}}, "prompt"),
    ("/v1/completions", {"max_tokens": 3}, "prompt"),
    ("/v1/completions", {"prompt": "x", "stop": 7}, "stop"),
    ("/v1/completions", {"prompt": "x", "stream_options": {"include_usage": "yes"}}, "stream_options.include_usage"),
    ("/v1/chat/completions", {"model": MODEL_NAME}, "messages"),
    ("/v1/chat/completions", {"messages": [{"content": "hi"}]}, "messages[0].role"),
    ("/v1/chat/completions", {"messages": [{"role": "user", "content": 5}]}, "messages[0].content"),
])
def test_wrong_type_names_the_field(server, path, body, param):
    with server.http() as http:
        assert_error_envelope(http.post(path, json=body), 400, param=param, message_contains=param)


@pytest.mark.parametrize("body, param", [
    ({"prompt": "x", "temperature": 2.5}, "temperature"),
    ({"prompt": "x", "top_p": 0}, "top_p"),
    ({"prompt": "x", "n": 0}, "n"),
    ({"prompt": "x", "n": 17}, "n"),
    ({"prompt": "x", "max_tokens": 0}, "max_tokens"),
    ({"prompt": "x", "logprobs": 6}, "logprobs"),
    ({"prompt": "x", "stop": ["a", "b", "c", "d", "e"]}, "stop"),
    ({"prompt": "x", "decoding": "beam"}, "decoding"),
    ({"prompt": "x", "hamburger_confidence": 1.5}, "hamburger_confidence"),
    ({"prompt": "x", "hamburger_min_probability": -0.5}, "hamburger_min_probability"),
    ({"prompt": "x", "logit_bias": {"7042": 101}}, "logit_bias"),
    ({"prompt": "x", "logit_bias": {"Paris": 5}}, "logit_bias"),
    ({"prompt": []}, "prompt"),
    ({"prompt": [999999]}, "prompt"),
])
def test_out_of_range_names_the_field(server, body, param):
    with server.http() as http:
        assert_error_envelope(http.post("/v1/completions", json=body), 400, param=param, message_contains=param)


def test_openai_client_raises_bad_request_with_the_param(client):
    with pytest.raises(openai.BadRequestError) as caught:
        client.completions.create(model=MODEL_NAME, prompt="x", max_tokens=1, temperature=5)
    assert caught.value.status_code == 400
    assert caught.value.body["param"] == "temperature"


def test_context_length_exceeded(server, client):
    limit = client.models.list().data[0].model_extra["max_model_len"]
    prompt = [42] * (limit - 10)
    with server.http() as http:
        r = http.post("/v1/completions", json={"model": MODEL_NAME, "prompt": prompt, "max_tokens": 100})
    error = assert_error_envelope(r, 400, code="context_length_exceeded")
    assert error["message"].startswith(
        f"This model's maximum context length is {limit} tokens. However, you requested {limit - 10 + 100} tokens")
    # The same for chat, through the client.
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model=MODEL_NAME, messages=[{"role": "user", "content": "x"}], max_tokens=limit)
    assert caught.value.body["code"] == "context_length_exceeded"
    assert f"maximum context length is {limit} tokens" in caught.value.body["message"]


# -- 401 ------------------------------------------------------------------------------------------

def test_missing_or_wrong_key_is_401(restricted):
    with restricted.http() as http:
        for headers in [{}, {"Authorization": "Bearer nope"}, {"Authorization": "key-one"}, {"Authorization": "Basic key-one"}]:
            r = http.post("/v1/completions", json={"prompt": "x", "max_tokens": 1}, headers=headers)
            assert_error_envelope(r, 401, code="invalid_api_key")
            assert r.headers.get("www-authenticate") == "Bearer"
        assert_error_envelope(http.get("/v1/models"), 401)
        # /health, /metrics and /get_load are for probes, scrapers and routers: no key needed.
        assert http.get("/health").status_code == 200
        assert http.get("/metrics").status_code == 200
        assert http.get("/get_load").status_code == 200


def test_every_configured_key_is_accepted(restricted):
    for key in KEYS:
        c = restricted.openai(api_key=key)
        assert [m.id for m in c.models.list().data] == [MODEL_NAME]
        r = c.completions.create(model=MODEL_NAME, prompt="Hi", max_tokens=2, temperature=0)
        assert r.usage.completion_tokens >= 1


def test_openai_client_with_a_wrong_key_raises_authentication_error(restricted):
    with pytest.raises(openai.AuthenticationError) as caught:
        restricted.openai(api_key="wrong").models.list()
    assert caught.value.status_code == 401
    assert caught.value.body["type"] == "authentication_error"


# -- 413 / 431 (answered by the HTTP layer) -------------------------------------------------------

def big_body_request(size: int) -> bytes:
    # max_tokens 0: a body that gets through the HTTP layer is refused by the API at once (no prefill).
    body = json.dumps({"model": MODEL_NAME, "prompt": "x" * size, "max_tokens": 0}).encode()
    return (b"POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Authorization: Bearer key-one\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)


def test_body_over_the_limit_is_413(restricted):
    status, headers, body = parse_raw_response(raw_exchange(restricted.port, big_body_request(MAX_BODY + 10)))
    assert status == 413
    assert headers.get("connection") == "close"
    assert str(MAX_BODY) in body.decode()
    # Under the limit the body reaches the API, which answers (here: max_tokens 0 is invalid).
    status, _, body = parse_raw_response(raw_exchange(restricted.port, big_body_request(MAX_BODY // 2)
                                                      .replace(b"Host:", b"Connection: close\r\nHost:")))
    assert status == 400
    assert json.loads(body)["error"]["param"] == "max_tokens"


def test_header_over_the_limit_is_431(restricted):
    request = (b"GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer key-one\r\n"
               b"X-Huge: " + b"h" * (MAX_HEADER * 2) + b"\r\n\r\n")
    status, headers, body = parse_raw_response(raw_exchange(restricted.port, request))
    assert status == 431
    assert headers.get("connection") == "close"
    assert body
    # The server is still fine afterwards.
    with restricted.http(headers={"Authorization": "Bearer key-one"}) as http:
        assert http.get("/v1/models").status_code == 200


def test_http_layer_rejections_use_the_openai_envelope(restricted):
    status, headers, body = parse_raw_response(raw_exchange(restricted.port, big_body_request(MAX_BODY + 10)))
    assert status == 413
    assert headers["content-type"].startswith("application/json")
    assert set(json.loads(body)["error"]) == {"message", "type", "param", "code"}


# -- 503 ------------------------------------------------------------------------------------------

def open_stream(server, max_tokens: int) -> tuple[socket.socket, bytes]:
    """Starts a long streaming completion on a raw socket; returns it with the bytes read so far
    (the response head at least)."""
    body = json.dumps({"model": MODEL_NAME, "prompt": "Count to a thousand:", "max_tokens": max_tokens, "ignore_eos": True,
                       "temperature": 0, "stream": True}).encode()
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=30)
    sock.sendall(b"POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                 b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
    received = b""
    while b"\r\n\r\n" not in received:
        chunk = sock.recv(65536)
        assert chunk, "closed before the response head"
        received += chunk
    return sock, received


def test_full_queue_is_503_with_retry_after(one_slot):
    # One request running (the engine's only slot), one waiting (the queue's only place): the next is refused.
    running, head = open_stream(one_slot, 2000)
    waiting = None
    try:
        assert head.startswith(b"HTTP/1.1 200")
        while b"data: " not in head:  # the first token: the request holds the slot
            head += running.recv(65536)
        # The engine's stats (which admission reads) are published after each forward pass.
        assert poll(lambda: one_slot.metrics()["hamburger:num_requests_running"] == 1, timeout=5)
        waiting, head2 = open_stream(one_slot, 4)
        assert head2.startswith(b"HTTP/1.1 200")
        assert poll(lambda: one_slot.metrics()["hamburger:num_requests_waiting"] == 1, timeout=5)

        with one_slot.http() as http:
            for path, body in [("/v1/completions", {"prompt": "x", "max_tokens": 2}),
                               ("/v1/chat/completions", {"messages": [{"role": "user", "content": "x"}], "max_tokens": 2})]:
                r = http.post(path, json=body)
                assert_error_envelope(r, 503, code="server_overloaded")
                assert int(r.headers["retry-after"]) >= 1
            # Requests that queue nothing still work.
            assert http.get("/v1/models").status_code == 200
        with pytest.raises(openai.APIStatusError) as caught:
            one_slot.openai().completions.create(model=MODEL_NAME, prompt="x", max_tokens=2)
        assert caught.value.status_code == 503
    finally:
        running.close()
        if waiting:
            waiting.close()
    # Once the client is gone the slots free up and requests are served again.
    assert poll(lambda: one_slot.metrics()["hamburger:num_requests_running"] == 0
                and one_slot.metrics()["hamburger:num_requests_waiting"] == 0, timeout=10)
    r = one_slot.openai().completions.create(model=MODEL_NAME, prompt="Hi", max_tokens=2, temperature=0)
    assert r.usage.completion_tokens >= 1


def test_flood_gets_503s_each_an_envelope(one_slot):
    import concurrent.futures as cf

    def post(i: int) -> httpx.Response:
        with one_slot.http() as http:
            return http.post("/v1/completions", json={"prompt": f"Number {i}", "max_tokens": 24, "ignore_eos": True,
                                                      "temperature": 0})

    with cf.ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(pool.map(post, range(8)))
    statuses = sorted(r.status_code for r in responses)
    assert set(statuses) <= {200, 503}, statuses
    assert statuses.count(200) >= 1 and statuses.count(503) >= 1, statuses
    for r in responses:
        if r.status_code == 503:
            assert_error_envelope(r, 503, code="server_overloaded")
            assert "retry-after" in r.headers
        else:
            assert r.json()["usage"]["completion_tokens"] == 24


@pytest.mark.parametrize("path,field,value", [
    ("/v1/completions", "best_of", 2),
    ("/v1/completions", "suffix", " end."),
    ("/v1/completions", "no_such_field", 1),
    ("/v1/chat/completions", "tools", [{"type": "function", "function": {"name": "f"}}]),
    ("/v1/chat/completions", "tool_choice", "auto"),
    ("/v1/chat/completions", "functions", []),
    ("/v1/chat/completions", "parallel_tool_calls", True),
])
def test_unsupported_fields_are_refused_by_name(server, path, field, value):
    """A field this server does not honour is a 400 naming it, never silently ignored."""
    body = {"model": MODEL_NAME, "max_tokens": 1, field: value}
    body.update({"prompt": "x"} if path == "/v1/completions" else {"messages": [{"role": "user", "content": "x"}]})
    with server.http() as http:
        assert_error_envelope(http.post(path, json=body), 400, param=field, message_contains=field)


def test_image_parts_in_chat_are_refused(server):
    body = {"model": MODEL_NAME, "max_tokens": 1, "messages": [{"role": "user", "content": [
        {"type": "text", "text": "What is in this picture?"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}]}]}
    with server.http() as http:
        envelope = assert_error_envelope(http.post("/v1/chat/completions", json=body), 400, param="messages[0].content")
    assert "image_url" in envelope["message"]


def test_logit_bias_bans_and_forces_tokens_in_both_modes(server, client):
    """-100 on the greedy answer's first token removes it; +100 on "," (id 28) makes it every token,
    even when sampling, in both decoding modes (micro-step tokens included)."""
    prompt = "The capital of France is"
    for decoding in ("autoregressive", "hamburger"):
        plain = client.completions.create(model=MODEL_NAME, prompt=prompt, max_tokens=6, temperature=0, logprobs=1,
                                          extra_body={"decoding": decoding})
        first = plain.choices[0].logprobs.tokens[0]
        with server.http() as http:
            first_ids = http.post("/tokenize", json={"prompt": first}).json()["tokens"]
        assert len(first_ids) == 1, first_ids
        banned = client.completions.create(model=MODEL_NAME, prompt=prompt, max_tokens=6, temperature=0, logprobs=1,
                                           logit_bias={str(first_ids[0]): -100}, extra_body={"decoding": decoding})
        assert banned.choices[0].logprobs.tokens[0] != first, decoding
        forced = client.completions.create(model=MODEL_NAME, prompt=prompt, max_tokens=8, temperature=0.9, seed=3, logprobs=1,
                                           logit_bias={"28": 100}, extra_body={"decoding": decoding, "ignore_eos": True})
        assert forced.choices[0].logprobs.tokens == [","] * 8, (decoding, forced.choices[0].logprobs.tokens)
