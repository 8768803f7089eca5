"""Prompt logprobs for evaluation clients: `echo` + `logprobs` returns the prompt's tokens with their
logprobs (the first null) before the generated ones, as vLLM does; `max_tokens: 0` with `echo` scores a
text without generating."""

from __future__ import annotations

import math

from conftest import MODEL_NAME
from support import assert_error_envelope

PROMPT = "The capital of France is Paris"


def prompt_tokens(server, text):
    with server.http() as http:
        ids = http.post("/tokenize", json={"prompt": text}).json()["tokens"]
        return [http.post("/detokenize", json={"tokens": [i]}).json()["prompt"] for i in ids]


def test_echo_with_max_tokens_zero_scores_the_prompt(server, client):
    result = client.completions.create(model=MODEL_NAME, prompt=PROMPT, max_tokens=0, echo=True, logprobs=1, temperature=0)
    choice = result.choices[0]
    assert choice.text == PROMPT
    assert choice.finish_reason == "length"
    assert result.usage.completion_tokens == 0
    lp = choice.logprobs
    assert lp.tokens == prompt_tokens(server, PROMPT)
    assert lp.token_logprobs[0] is None and lp.top_logprobs[0] is None
    assert all(v is not None and v <= 0 and math.isfinite(v) for v in lp.token_logprobs[1:])
    for token, value, top in zip(lp.tokens[1:], lp.token_logprobs[1:], lp.top_logprobs[1:]):
        assert top[token] == value, "the prompt token itself is among its alternatives"
        assert max(top.values()) >= value
    assert lp.text_offset[0] == 0 and lp.text_offset == sorted(lp.text_offset)


def test_prompt_logprob_equals_the_generated_logprob_of_the_same_token(server, client):
    """The last prompt token's logprob given the rest equals its logprob when generated after that rest."""
    context = "The capital of France is"
    generated = client.completions.create(model=MODEL_NAME, prompt=context, max_tokens=1, logprobs=1, temperature=0)
    token, value = generated.choices[0].logprobs.tokens[0], generated.choices[0].logprobs.token_logprobs[0]
    scored = client.completions.create(model=MODEL_NAME, prompt=context + token, max_tokens=0, echo=True, logprobs=1, temperature=0)
    lp = scored.choices[0].logprobs
    assert lp.tokens[-1] == token
    assert abs(lp.token_logprobs[-1] - value) < 2e-3, (lp.token_logprobs[-1], value)


def test_echo_logprobs_then_generated_tokens(server, client):
    plain = client.completions.create(model=MODEL_NAME, prompt=PROMPT, max_tokens=3, logprobs=2, temperature=0)
    echoed = client.completions.create(model=MODEL_NAME, prompt=PROMPT, max_tokens=3, echo=True, logprobs=2, temperature=0)
    n = len(prompt_tokens(server, PROMPT))
    lp = echoed.choices[0].logprobs
    assert echoed.choices[0].text == PROMPT + plain.choices[0].text
    assert lp.tokens[n:] == plain.choices[0].logprobs.tokens
    assert all(abs(a - b) < 2e-3 for a, b in zip(lp.token_logprobs[n:], plain.choices[0].logprobs.token_logprobs))
    assert len(lp.tokens) == len(lp.token_logprobs) == len(lp.top_logprobs) == len(lp.text_offset) == n + 3
    assert lp.text_offset[n] == len(PROMPT)


def test_streamed_echo_logprobs_and_bare_max_tokens_zero_are_refused(server):
    with server.http() as http:
        body = {"model": MODEL_NAME, "prompt": "x", "echo": True, "logprobs": 1, "max_tokens": 1, "stream": True}
        assert_error_envelope(http.post("/v1/completions", json=body), 400, param="echo")
        body = {"model": MODEL_NAME, "prompt": "x", "max_tokens": 0}
        assert_error_envelope(http.post("/v1/completions", json=body), 400, param="max_tokens")
