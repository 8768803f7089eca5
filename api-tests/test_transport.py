"""Transport features: gzip for non-streamed responses, and HTTPS with a self-signed certificate made
by the `openssl` CLI."""

from __future__ import annotations

import gzip
import http.client
import json
import ssl
import subprocess
from pathlib import Path

import httpx
import pytest

from conftest import MODEL_NAME


def raw_get(port: int, method: str, path: str, body: dict | None = None, headers: dict | None = None):
    """One request with http.client, which never decodes Content-Encoding: (response, raw body bytes)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        payload = json.dumps(body).encode() if body is not None else None
        conn.request(method, path, body=payload, headers={"Content-Type": "application/json", **(headers or {})})
        response = conn.getresponse()
        return response, response.read()
    finally:
        conn.close()


# -- gzip -----------------------------------------------------------------------------------------

COMPLETION = {"model": MODEL_NAME, "prompt": "The capital of France is", "max_tokens": 6, "temperature": 0, "logprobs": 5}


def test_gzip_completion_round_trip(server):
    response, raw = raw_get(server.port, "POST", "/v1/completions", COMPLETION, {"Accept-Encoding": "gzip"})
    assert response.status == 200
    assert response.getheader("Content-Encoding") == "gzip"
    assert int(response.getheader("Content-Length")) == len(raw)
    assert raw[:2] == b"\x1f\x8b", "not a gzip member"
    body = json.loads(gzip.decompress(raw))
    assert body["object"] == "text_completion"
    assert body["choices"][0]["logprobs"]["top_logprobs"]
    # The same request without Accept-Encoding gets the identity body with the same content.
    plain_response, plain = raw_get(server.port, "POST", "/v1/completions", COMPLETION)
    assert plain_response.getheader("Content-Encoding") in (None, "identity")
    plain_body = json.loads(plain)
    assert plain_body["choices"][0]["text"] == body["choices"][0]["text"]
    assert len(raw) < len(plain)


def test_gzip_large_json_from_tokenize(server):
    response, raw = raw_get(server.port, "POST", "/tokenize", {"prompt": "hello world " * 300},
                            {"Accept-Encoding": "deflate, gzip;q=0.9"})
    assert response.status == 200
    assert response.getheader("Content-Encoding") == "gzip"
    tokens = json.loads(gzip.decompress(raw))["tokens"]
    assert len(tokens) >= 300


def test_gzip_models_is_valid_json_either_way(server):
    # /v1/models is small; compressed or not, what arrives must decode to the model list.
    response, raw = raw_get(server.port, "GET", "/v1/models", headers={"Accept-Encoding": "gzip"})
    assert response.status == 200
    data = gzip.decompress(raw) if response.getheader("Content-Encoding") == "gzip" else raw
    assert json.loads(data)["data"][0]["id"] == MODEL_NAME


def test_streams_are_not_gzipped(server):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    try:
        conn.request("POST", "/v1/completions", body=json.dumps({**COMPLETION, "stream": True, "logprobs": None}),
                     headers={"Content-Type": "application/json", "Accept-Encoding": "gzip"})
        response = conn.getresponse()
        assert response.getheader("Content-Encoding") is None
        assert response.read().decode().endswith("data: [DONE]\n\n")
    finally:
        conn.close()


def test_httpx_decodes_gzip_transparently(server):
    with server.http(headers={"Accept-Encoding": "gzip"}) as http:
        r = http.post("/v1/completions", json=COMPLETION)
    assert r.headers["content-encoding"] == "gzip"
    assert r.json()["usage"]["completion_tokens"] >= 1


# -- TLS ------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def certificate(tmp_path_factory) -> tuple[Path, Path]:
    directory = tmp_path_factory.mktemp("tls")
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60)
    return cert, key


@pytest.fixture(scope="module")
def tls_server(start_server, certificate):
    cert, key = certificate
    server = start_server("tls", "--tls-cert", str(cert), "--tls-key", str(key))
    assert server.scheme == "https"
    yield server
    server.stop()


def curl(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["curl", "-sS", "--max-time", "60", *args], capture_output=True, timeout=90)


def test_curl_k_over_https(tls_server):
    result = curl("-k", f"https://127.0.0.1:{tls_server.port}/v1/models")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["data"][0]["id"] == MODEL_NAME
    result = curl("-k", "-H", "Content-Type: application/json", "-d",
                  json.dumps({"prompt": "Hello", "max_tokens": 3, "temperature": 0}),
                  f"https://127.0.0.1:{tls_server.port}/v1/completions")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["usage"]["completion_tokens"] >= 1


def test_curl_verifies_against_the_certificate(tls_server, certificate):
    cert, _ = certificate
    unverified = curl(f"https://127.0.0.1:{tls_server.port}/health")
    assert unverified.returncode == 60, "a self-signed certificate must fail verification"  # CURLE_PEER_FAILED_VERIFICATION
    verified = curl("--cacert", str(cert), f"https://127.0.0.1:{tls_server.port}/health")
    assert verified.returncode == 0, verified.stderr
    assert json.loads(verified.stdout) == {"status": "ok"}


def test_curl_n_streams_over_https(tls_server):
    result = curl("-k", "-N", "-H", "Content-Type: application/json", "-d",
                  json.dumps({"prompt": "Hello", "max_tokens": 4, "temperature": 0, "stream": True}),
                  f"https://127.0.0.1:{tls_server.port}/v1/completions")
    assert result.returncode == 0, result.stderr
    assert result.stdout.decode().endswith("data: [DONE]\n\n")


def test_openai_client_over_https(tls_server, certificate):
    cert, _ = certificate
    context = ssl.create_default_context(cafile=str(cert))
    client = tls_server.openai(http_client=httpx.Client(verify=context, timeout=60))
    r = client.chat.completions.create(model=MODEL_NAME, messages=[{"role": "user", "content": "Hi"}], max_tokens=3, temperature=0)
    assert r.choices[0].message.content


def test_plain_http_to_the_tls_port_gets_no_answer(tls_server):
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError, httpx.ConnectError, httpx.ReadTimeout)):
        httpx.get(f"http://127.0.0.1:{tls_server.port}/health", timeout=5)
    # ...and the server is unharmed.
    assert curl("-k", f"https://127.0.0.1:{tls_server.port}/health").returncode == 0
