"""POST /v1/chat/completions through the official `openai` client, whole and streamed."""

from __future__ import annotations

from conftest import MODEL_NAME

MESSAGES = [
    {"role": "system", "content": "You are a helpful assistant. Answer briefly."},
    {"role": "user", "content": "What is the capital of France?"},
]


def test_chat_completion(client):
    r = client.chat.completions.create(model=MODEL_NAME, messages=MESSAGES, max_tokens=8, temperature=0)
    assert r.object == "chat.completion"
    assert r.id.startswith("chatcmpl-")
    assert r.model == MODEL_NAME
    assert len(r.choices) == 1
    choice = r.choices[0]
    assert choice.index == 0
    assert choice.message.role == "assistant"
    assert isinstance(choice.message.content, str) and choice.message.content
    assert "<|im_" not in choice.message.content, "special tokens leaked into the answer"
    assert choice.finish_reason in ("stop", "length")
    assert r.usage.prompt_tokens > 10  # the chat template adds its own tokens
    assert 1 <= r.usage.completion_tokens <= 8


def test_chat_greedy_is_deterministic(client):
    a = client.chat.completions.create(model=MODEL_NAME, messages=MESSAGES, max_tokens=8, temperature=0)
    b = client.chat.completions.create(model=MODEL_NAME, messages=MESSAGES, max_tokens=8, temperature=0)
    assert a.choices[0].message.content == b.choices[0].message.content


def test_chat_content_parts_are_joined(client):
    parts = [{"role": "user", "content": [{"type": "text", "text": "What is the capital "}, {"type": "text", "text": "of France?"}]}]
    plain = [{"role": "user", "content": "What is the capital of France?"}]
    a = client.chat.completions.create(model=MODEL_NAME, messages=parts, max_tokens=6, temperature=0)
    b = client.chat.completions.create(model=MODEL_NAME, messages=plain, max_tokens=6, temperature=0)
    assert a.usage.prompt_tokens == b.usage.prompt_tokens
    assert a.choices[0].message.content == b.choices[0].message.content


def test_chat_logprobs(client):
    r = client.chat.completions.create(model=MODEL_NAME, messages=MESSAGES, max_tokens=4, temperature=0, logprobs=True,
                                       top_logprobs=2)
    content = r.choices[0].logprobs.content
    assert len(content) == r.usage.completion_tokens
    for entry in content:
        assert entry.logprob <= 0
        assert 1 <= len(entry.top_logprobs) <= 2
        assert entry.bytes == list(entry.token.encode())


def test_streaming_chat(client):
    stream = client.chat.completions.create(model=MODEL_NAME, messages=MESSAGES, max_tokens=8, temperature=0, stream=True,
                                            stream_options={"include_usage": True})
    chunks = list(stream)
    *body, last = chunks
    assert all(c.object == "chat.completion.chunk" for c in chunks)
    assert len({c.id for c in chunks}) == 1
    assert body[0].choices[0].delta.role == "assistant"
    assert all(c.choices[0].delta.role is None for c in body[1:])
    finishes = [c.choices[0].finish_reason for c in body if c.choices[0].finish_reason]
    assert finishes in (["stop"], ["length"])
    assert body[-1].choices[0].finish_reason == finishes[0]
    assert last.choices == [] and last.usage is not None
    streamed = "".join(c.choices[0].delta.content or "" for c in body)
    whole = client.chat.completions.create(model=MODEL_NAME, messages=MESSAGES, max_tokens=8, temperature=0)
    assert streamed == whole.choices[0].message.content
    assert last.usage.completion_tokens == whole.usage.completion_tokens
    assert last.usage.prompt_tokens == whole.usage.prompt_tokens


def test_streaming_chat_without_usage_has_no_usage_chunk(client):
    chunks = list(client.chat.completions.create(model=MODEL_NAME, messages=MESSAGES, max_tokens=4, temperature=0, stream=True))
    assert chunks and all(c.choices for c in chunks)
    assert all(c.usage is None for c in chunks)
