"""Helpers shared by the API tests: reading server-sent events and checking OpenAI error envelopes."""

from __future__ import annotations

import json
import socket
import time
from typing import Callable, Iterable, Iterator

import httpx


def sse_data(lines: Iterable[str]) -> Iterator[str]:
    """The `data:` payloads of an event stream, one per event, ending at the stream's end."""
    for line in lines:
        if line.startswith("data: "):
            yield line[len("data: "):]
        else:
            assert line == "", f"unexpected line in an event stream: {line!r}"


def stream_completion(client: httpx.Client, path: str, body: dict) -> tuple[httpx.Response, list[dict], bool]:
    """POSTs a streaming request; returns the response, the JSON events in order, and whether
    `data: [DONE]` ended the stream."""
    events: list[dict] = []
    done = False
    with client.stream("POST", path, json={**body, "stream": True}) as response:
        assert response.status_code == 200, response.read()
        for data in sse_data(response.iter_lines()):
            assert not done, "an event followed data: [DONE]"
            if data == "[DONE]":
                done = True
            else:
                events.append(json.loads(data))
    return response, events, done


def assert_error_envelope(response: httpx.Response, status: int, *, param: str | None = None,
                          code: str | None = None, message_contains: str | None = None) -> dict:
    """The response is `status` with the OpenAI envelope `{"error": {message, type, param, code}}`."""
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/json"), response.headers
    body = response.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert set(error) == {"message", "type", "param", "code"}, error
    assert isinstance(error["message"], str) and error["message"], error
    assert isinstance(error["type"], str) and error["type"], error
    if param is not None:
        assert error["param"] == param, error
    if code is not None:
        assert error["code"] == code, error
    if message_contains is not None:
        assert message_contains in error["message"], error
    return error


def poll(check: Callable[[], bool], timeout: float, interval: float = 0.1) -> bool:
    """Calls `check` until it returns true (true) or `timeout` seconds pass (false)."""
    deadline = time.monotonic() + timeout
    while True:
        if check():
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(interval)


def raw_exchange(port: int, request: bytes, timeout: float = 10.0) -> bytes:
    """Sends raw bytes on a fresh loopback connection and reads until the server closes it."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        try:
            sock.sendall(request)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may answer and close before it has read everything
        chunks = []
        while True:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            chunks.append(chunk)
    return b"".join(chunks)


def parse_raw_response(raw: bytes) -> tuple[int, dict[str, str], bytes]:
    """Status, headers (lower-case names) and body of one HTTP/1.1 response with Content-Length."""
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if "content-length" in headers:
        body = body[: int(headers["content-length"])]
    return status, headers, body


def dechunk(raw: bytes) -> tuple[bytes, list[int]]:
    """Decodes a chunked body strictly; returns the payload and the chunk sizes (last one 0)."""
    payload, sizes, pos = b"", [], 0
    while True:
        end = raw.index(b"\r\n", pos)
        size = int(raw[pos:end].split(b";")[0], 16)
        sizes.append(size)
        pos = end + 2
        if size == 0:
            assert raw[pos:] == b"\r\n", f"bad trailer section: {raw[pos:]!r}"
            return payload, sizes
        payload += raw[pos:pos + size]
        assert raw[pos + size:pos + size + 2] == b"\r\n", "chunk not followed by CRLF"
        pos += size + 2
