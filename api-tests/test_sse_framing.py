"""The raw wire format of a streamed completion as `curl -N` sees it: chunked transfer coding,
`data: ` lines, blank-line separators, and `data: [DONE]` last."""

from __future__ import annotations

import json
import subprocess

from conftest import MODEL_NAME
from support import dechunk

BODY = {"model": MODEL_NAME, "prompt": "The sky is", "max_tokens": 6, "temperature": 0, "stream": True,
        "stream_options": {"include_usage": True}}


def curl(*args: str) -> bytes:
    result = subprocess.run(["curl", "-sS", "--max-time", "60", *args], capture_output=True, timeout=90)
    assert result.returncode == 0, result.stderr.decode()
    return result.stdout


def test_curl_sees_chunked_event_stream(server):
    raw = curl("-N", "-i", "--raw", "-H", "Content-Type: application/json", "-d", json.dumps(BODY),
               f"{server.base_url}/v1/completions")
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    assert lines[0].startswith("HTTP/1.1 200")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    assert headers["content-type"].startswith("text/event-stream")
    assert headers["transfer-encoding"] == "chunked"
    assert "content-length" not in headers
    assert headers.get("cache-control") == "no-cache"

    payload, sizes = dechunk(body)
    assert len(sizes) >= 3 and sizes[-1] == 0
    text = payload.decode()
    # Events are `data: ...` lines each followed by a blank line; nothing else.
    assert text.endswith("data: [DONE]\n\n")
    events = text.split("\n\n")
    assert events[-1] == ""
    events = events[:-1]
    assert all(e.startswith("data: ") and "\n" not in e for e in events), events
    datas = [e[len("data: "):] for e in events]
    assert datas[-1] == "[DONE]"
    chunks = [json.loads(d) for d in datas[:-1]]
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["completion_tokens"] >= 1
    assert any(c["choices"] and c["choices"][0]["finish_reason"] for c in chunks)


def test_curl_n_output_is_the_event_stream(server):
    # Without --raw curl undoes the chunking; -N prints each event as it arrives.
    out = curl("-N", "-H", "Content-Type: application/json", "-d", json.dumps(BODY), f"{server.base_url}/v1/completions")
    text = out.decode()
    lines = text.split("\n")
    assert lines[-3:] == ["data: [DONE]", "", ""]
    for i, line in enumerate(lines[:-1]):
        if i % 2 == 0:
            assert line.startswith("data: "), line
        else:
            assert line == "", f"events must be separated by a blank line: {line!r}"
    streamed = "".join(json.loads(l[6:])["choices"][0]["text"] for l in lines if l.startswith("data: {") and '"choices":[{' in l)
    whole = json.loads(curl("-H", "Content-Type: application/json", "-d", json.dumps({**BODY, "stream": False}),
                            f"{server.base_url}/v1/completions"))
    assert streamed == whole["choices"][0]["text"]


def test_non_streamed_response_has_content_length(server):
    raw = curl("-i", "-H", "Content-Type: application/json", "-d", json.dumps({**BODY, "stream": False}),
               f"{server.base_url}/v1/completions")
    head, _, body = raw.partition(b"\r\n\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in head.decode().split("\r\n")[1:])}
    assert headers["content-type"].startswith("application/json")
    assert int(headers["content-length"]) == len(body)
    assert json.loads(body)["object"] == "text_completion"
