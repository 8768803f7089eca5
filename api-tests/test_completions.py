"""POST /v1/completions through the official `openai` client: every prompt form, n, echo, logprobs,
stop strings, determinism, and the streamed variant."""

from __future__ import annotations

import pytest

from conftest import MODEL_NAME
from support import stream_completion

PROMPT = "The capital of France is"


def test_models_lists_the_served_model(client):
    models = client.models.list()
    assert [m.id for m in models.data] == [MODEL_NAME]
    model = models.data[0]
    assert model.object == "model"
    assert model.model_extra["max_model_len"] > 0


def test_text_prompt(client):
    r = client.completions.create(model=MODEL_NAME, prompt=PROMPT, max_tokens=8, temperature=0)
    assert r.object == "text_completion"
    assert r.id.startswith("cmpl-")
    assert r.model == MODEL_NAME
    assert r.created > 0
    assert len(r.choices) == 1
    choice = r.choices[0]
    assert choice.index == 0
    assert isinstance(choice.text, str) and choice.text
    assert choice.finish_reason in ("stop", "length")
    assert r.usage.prompt_tokens > 0
    assert 1 <= r.usage.completion_tokens <= 8
    assert r.usage.total_tokens == r.usage.prompt_tokens + r.usage.completion_tokens
    if choice.finish_reason == "length":
        assert r.usage.completion_tokens == 8


def test_token_id_prompt_matches_the_text_prompt(client, server):
    with server.http() as http:
        ids = http.post("/tokenize", json={"prompt": PROMPT}).json()["tokens"]
    assert ids and all(isinstance(i, int) for i in ids)
    by_text = client.completions.create(model=MODEL_NAME, prompt=PROMPT, max_tokens=6, temperature=0)
    by_ids = client.completions.create(model=MODEL_NAME, prompt=ids, max_tokens=6, temperature=0)
    assert by_ids.usage.prompt_tokens == len(ids) == by_text.usage.prompt_tokens
    assert by_ids.choices[0].text == by_text.choices[0].text


def test_batch_of_token_id_prompts(client, server):
    with server.http() as http:
        a = http.post("/tokenize", json={"prompt": "One, two,"}).json()["tokens"]
        b = http.post("/tokenize", json={"prompt": "Hello"}).json()["tokens"]
    r = client.completions.create(model=MODEL_NAME, prompt=[a, b], max_tokens=4, temperature=0)
    assert [c.index for c in r.choices] == [0, 1]
    assert r.usage.prompt_tokens == len(a) + len(b)


def test_list_of_string_prompts_gives_one_choice_each(client):
    r = client.completions.create(model=MODEL_NAME, prompt=["Once upon a time", "1, 2, 3,"], max_tokens=4, temperature=0)
    assert [c.index for c in r.choices] == [0, 1]
    single = client.completions.create(model=MODEL_NAME, prompt="1, 2, 3,", max_tokens=4, temperature=0)
    assert r.choices[1].text == single.choices[0].text


def test_n_gives_n_choices(client):
    r = client.completions.create(model=MODEL_NAME, prompt=PROMPT, max_tokens=6, n=2, temperature=1.0, seed=1)
    assert sorted(c.index for c in r.choices) == [0, 1]
    assert all(c.finish_reason in ("stop", "length") for c in r.choices)
    assert r.usage.completion_tokens <= 12
    assert r.usage.prompt_tokens > 0


def test_echo_prefixes_the_prompt(client):
    r = client.completions.create(model=MODEL_NAME, prompt=PROMPT, max_tokens=4, temperature=0, echo=True)
    plain = client.completions.create(model=MODEL_NAME, prompt=PROMPT, max_tokens=4, temperature=0)
    assert r.choices[0].text.startswith(PROMPT)
    assert r.choices[0].text == PROMPT + plain.choices[0].text


def test_logprobs_give_top_alternatives(client):
    r = client.completions.create(model=MODEL_NAME, prompt=PROMPT, max_tokens=5, temperature=0, logprobs=2)
    choice = r.choices[0]
    lp = choice.logprobs
    count = r.usage.completion_tokens
    assert len(lp.tokens) == len(lp.token_logprobs) == len(lp.top_logprobs) == len(lp.text_offset) == count
    assert "".join(lp.tokens) == choice.text
    for token, logprob, top in zip(lp.tokens, lp.token_logprobs, lp.top_logprobs):
        assert logprob <= 0
        assert 1 <= len(top) <= 2
        # Greedy: the chosen token is the most likely one, so it heads the alternatives.
        assert max(top.values()) == pytest.approx(logprob, abs=1e-4)
        assert token in top
    assert lp.text_offset == sorted(lp.text_offset)


def test_stop_string_cuts_the_text(client):
    free = client.completions.create(model=MODEL_NAME, prompt="1, 2, 3, 4,", max_tokens=12, temperature=0)
    text = free.choices[0].text
    # Stop on a piece of text the greedy answer is known to contain (past its first character).
    assert len(text.strip()) >= 3, text
    stop = text.strip()[1:3]
    cut = text[: text.index(stop)]
    r = client.completions.create(model=MODEL_NAME, prompt="1, 2, 3, 4,", max_tokens=12, temperature=0, stop=[stop, "never-seen"])
    assert r.choices[0].text == cut
    assert stop not in r.choices[0].text
    assert r.choices[0].finish_reason == "stop"
    assert r.usage.completion_tokens <= free.usage.completion_tokens


def test_greedy_is_deterministic(client):
    a = client.completions.create(model=MODEL_NAME, prompt="Write a haiku about the sea:", max_tokens=10, temperature=0)
    b = client.completions.create(model=MODEL_NAME, prompt="Write a haiku about the sea:", max_tokens=10, temperature=0)
    assert a.choices[0].text == b.choices[0].text
    assert a.usage == b.usage


def test_seeded_sampling_is_reproducible(client):
    args = dict(model=MODEL_NAME, prompt="My favourite animal is", max_tokens=10, temperature=1.0, top_p=0.95, seed=1234)
    a = client.completions.create(**args)
    b = client.completions.create(**args)
    assert a.choices[0].text == b.choices[0].text
    # Different seeds over several tries do not all give the same text (sampling is really random).
    others = {client.completions.create(**{**args, "seed": s}).choices[0].text for s in (1, 2, 3)}
    assert len(others | {a.choices[0].text}) > 1


def test_streaming_completion_chunks(client):
    stream = client.completions.create(model=MODEL_NAME, prompt=PROMPT, max_tokens=8, temperature=0, stream=True,
                                       stream_options={"include_usage": True})
    chunks = list(stream)
    assert chunks, "no chunks"
    *body, last = chunks
    assert last.choices == [] and last.usage is not None
    assert all(c.object == "text_completion" for c in chunks)
    assert len({c.id for c in chunks}) == 1
    finishes = [c.choices[0].finish_reason for c in body if c.choices[0].finish_reason]
    assert finishes in (["stop"], ["length"])
    assert body[-1].choices[0].finish_reason == finishes[0]
    assert all(c.usage is None for c in body)
    streamed = "".join(c.choices[0].text for c in body)
    whole = client.completions.create(model=MODEL_NAME, prompt=PROMPT, max_tokens=8, temperature=0)
    assert streamed == whole.choices[0].text
    assert last.usage.completion_tokens == whole.usage.completion_tokens
    assert last.usage.prompt_tokens == whole.usage.prompt_tokens


def test_streaming_ends_with_done_and_usage_only_when_asked(server):
    with server.http() as http:
        body = {"model": MODEL_NAME, "prompt": PROMPT, "max_tokens": 6, "temperature": 0}
        response, events, done = stream_completion(http, "/v1/completions", body)
        assert done
        assert response.headers["content-type"].startswith("text/event-stream")
        assert all(e["choices"] for e in events), "a usage chunk was sent without include_usage"
        assert all(e.get("usage") is None for e in events)

        _, with_usage, done = stream_completion(http, "/v1/completions", {**body, "stream_options": {"include_usage": True}})
        assert done
        assert with_usage[-1]["choices"] == []
        usage = with_usage[-1]["usage"]
        assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]


def test_streaming_with_stop_never_streams_the_stop(client):
    free = client.completions.create(model=MODEL_NAME, prompt="1, 2, 3, 4,", max_tokens=12, temperature=0)
    text = free.choices[0].text
    stop = text.strip()[1:3]
    chunks = list(client.completions.create(model=MODEL_NAME, prompt="1, 2, 3, 4,", max_tokens=12, temperature=0,
                                            stop=stop, stream=True))
    streamed = "".join(c.choices[0].text for c in chunks if c.choices)
    assert streamed == text[: text.index(stop)]
    assert chunks[-1].choices[0].finish_reason == "stop"


def test_streaming_n_choices_are_told_apart_by_index(client):
    chunks = list(client.completions.create(model=MODEL_NAME, prompt=PROMPT, max_tokens=4, n=2, temperature=0,
                                            stream=True, stream_options={"include_usage": True}))
    per_choice = {0: "", 1: ""}
    finished = set()
    for c in chunks:
        for choice in c.choices:
            per_choice[choice.index] += choice.text
            if choice.finish_reason:
                finished.add(choice.index)
    assert finished == {0, 1}
    # Greedy: both choices are the same text.
    assert per_choice[0] == per_choice[1]
    assert chunks[-1].usage.completion_tokens >= 2
