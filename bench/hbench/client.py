"""The load generator: streaming /v1/completions requests at a fixed concurrency (closed loop: each of
`concurrency` workers sends its next request when the previous one finished), with per-request
timings taken on the client side."""
from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Optional

import aiohttp

from .stats import median, percentile


@dataclass
class RequestShape:
    """How to ask one server for `max_tokens` tokens with end-of-sequence ignored, in one mode."""

    server: str                       # "ours" or "peer"
    mode: str                         # "autoregressive" or "hamburger"
    max_tokens: int

    def body(self, prompt: str, stream: bool) -> dict:
        body: dict = {"prompt": prompt, "max_tokens": self.max_tokens, "temperature": 0.0,
                      "stream": stream}
        if stream:
            body["stream_options"] = {"include_usage": True}
        body["ignore_eos"] = True  # both servers take it (llama-server: a llama.cpp extension)
        if self.server == "ours":
            body["decoding"] = self.mode
        return body


@dataclass
class RequestResult:
    """Client-side timings of one request (seconds on a monotonic clock)."""

    start: float
    end: float
    first_token: Optional[float] = None
    chunk_times: list[float] = field(default_factory=list)
    completion_tokens: int = 0
    prompt_tokens: Optional[int] = None
    finish_reason: Optional[str] = None
    error: Optional[str] = None

    @property
    def ttft(self) -> Optional[float]:
        return None if self.first_token is None else self.first_token - self.start

    @property
    def time_per_output_token(self) -> Optional[float]:
        """(last token time - first token time) / (tokens - 1): the mean inter-token latency."""
        if self.first_token is None or self.completion_tokens < 2 or not self.chunk_times:
            return None
        return (self.chunk_times[-1] - self.first_token) / (self.completion_tokens - 1)


class Refused(Exception):
    """The server answered 4xx to a request shape (e.g. a decoding mode it does not offer)."""

    def __init__(self, status: int, text: str):
        super().__init__(f"HTTP {status}: {text[:300]}")
        self.status = status


async def _stream_one(session: aiohttp.ClientSession, url: str, body: dict,
                      max_tokens: int) -> RequestResult:
    result = RequestResult(start=time.monotonic(), end=0.0)
    chunks_with_choice = 0
    usage_tokens: Optional[int] = None
    try:
        async with session.post(url, json=body) as response:
            if response.status >= 400:
                text = await response.text()
                if 400 <= response.status < 500:
                    raise Refused(response.status, text)
                result.error = f"HTTP {response.status}: {text[:200]}"
                return result
            buffer = b""
            done = False
            async for piece in response.content.iter_any():
                buffer += piece
                while b"\n" in buffer and not done:
                    line, buffer = buffer.split(b"\n", 1)
                    line = line.strip()
                    if not line.startswith(b"data:"):
                        continue  # blank separators and ": ping" comments
                    data = line[5:].strip()
                    if data == b"[DONE]":
                        done = True
                        break
                    now = time.monotonic()
                    event = json.loads(data)
                    usage = event.get("usage")
                    if usage:
                        usage_tokens = usage.get("completion_tokens", usage_tokens)
                        result.prompt_tokens = usage.get("prompt_tokens", result.prompt_tokens)
                    for choice in event.get("choices") or []:
                        chunks_with_choice += 1
                        if result.first_token is None:
                            result.first_token = now
                        result.chunk_times.append(now)
                        if choice.get("finish_reason"):
                            result.finish_reason = choice["finish_reason"]
                if done:
                    break
    except Refused:
        raise
    except (aiohttp.ClientError, asyncio.TimeoutError, json.JSONDecodeError) as e:
        result.error = f"{type(e).__name__}: {e}"
    result.end = time.monotonic()
    if usage_tokens is not None:
        result.completion_tokens = usage_tokens
    elif result.finish_reason == "length":
        result.completion_tokens = max_tokens
    else:
        result.completion_tokens = chunks_with_choice
    return result


@dataclass
class RunResult:
    """One (server, mode, concurrency) run: the aggregate and per-request metrics."""

    server: str
    mode: str
    concurrency: int
    requests: int
    wall_s: float
    tokens: int
    tok_per_s: float
    ttft_p50_s: Optional[float]
    ttft_p99_s: Optional[float]
    itl_p50_s: Optional[float]
    chunk_gap_p50_s: Optional[float]
    early_stops: int
    errors: list[str]


async def run_concurrency(base_url: str, shape: RequestShape, prompts: list[str], concurrency: int,
                          requests: int, timeout_s: float) -> RunResult:
    """Send `requests` streaming requests with `concurrency` in flight; prompts cycle in order."""
    url = base_url + "/v1/completions"
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(requests):
        queue.put_nowait(i)
    results: list[RequestResult] = []
    timeout = aiohttp.ClientTimeout(total=timeout_s)
    # A fresh connection per request for both servers: llama-server (cpp-httplib) closes kept-alive
    # connections on its own schedule, and a request written into one it just closed fails
    # ("Can not write request body"). Connecting over loopback costs well under a millisecond.
    connector = aiohttp.TCPConnector(limit=concurrency, force_close=True)
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
        async def worker() -> None:
            while True:
                try:
                    i = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                body = shape.body(prompts[i % len(prompts)], stream=True)
                results.append(await _stream_one(session, url, body, shape.max_tokens))

        started = time.monotonic()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        finished = time.monotonic()
    ok = [r for r in results if r.error is None]
    wall = (max((r.end for r in results), default=finished)
            - min((r.start for r in results), default=started))
    tokens = sum(r.completion_tokens for r in ok)
    gaps = [b - a for r in ok for a, b in zip(r.chunk_times, r.chunk_times[1:])]
    return RunResult(
        server=shape.server, mode=shape.mode, concurrency=concurrency, requests=len(results),
        wall_s=wall, tokens=tokens, tok_per_s=tokens / wall if wall > 0 else 0.0,
        ttft_p50_s=percentile([r.ttft for r in ok], 50), ttft_p99_s=percentile([r.ttft for r in ok], 99),
        itl_p50_s=median([r.time_per_output_token for r in ok]),
        chunk_gap_p50_s=median(gaps),
        early_stops=sum(1 for r in ok if r.completion_tokens < shape.max_tokens),
        errors=[r.error for r in results if r.error is not None],
    )


async def probe(base_url: str, shape: RequestShape, prompt: str, timeout_s: float) -> None:
    """One short non-streaming request; raises Refused when the server rejects the shape (an error
    status: 400 for an unknown mode, or 5xx when the mode exists but cannot run in this build)."""
    body = shape.body(prompt, stream=False)
    body["max_tokens"] = 4
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout_s)) as session:
        async with session.post(base_url + "/v1/completions", json=body) as response:
            text = await response.text()
            if response.status >= 400:
                raise Refused(response.status, text)


@dataclass
class PrefillResult:
    """Latency of a request with a long prompt and max_tokens 1 (prefill plus one sampled token)."""

    prompt_tokens: Optional[int]
    latency_s: float

    @property
    def tok_per_s(self) -> Optional[float]:
        return None if not self.prompt_tokens else self.prompt_tokens / self.latency_s


async def prefill_once(base_url: str, shape: RequestShape, prompt: str, timeout_s: float) -> PrefillResult:
    """Non-streaming, max_tokens 1: the response's `usage.prompt_tokens` gives the exact length."""
    body = shape.body(prompt, stream=False)
    body["max_tokens"] = 1
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout_s)) as session:
        started = time.monotonic()
        async with session.post(base_url + "/v1/completions", json=body) as response:
            payload = await response.json(content_type=None)
            latency = time.monotonic() - started
            if response.status != 200:
                raise RuntimeError(f"prefill request failed: HTTP {response.status}: {payload}")
    return PrefillResult(prompt_tokens=(payload.get("usage") or {}).get("prompt_tokens"), latency_s=latency)
