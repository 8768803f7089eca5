"""/metrics after real requests: vLLM-shaped series under the hamburger: prefix move as requests run."""
import time

from conftest import MODEL_NAME


def test_request_metrics_are_recorded(server, client):
    before = server.metrics()
    client.completions.create(model=MODEL_NAME, prompt="Name three fruits:", max_tokens=4, temperature=0, extra_body={"ignore_eos": True})
    after = server.metrics()

    def grew(name: str) -> float:
        return after.get(name, 0) - before.get(name, 0)

    assert grew("hamburger:request_success_total{finished_reason=\"length\"}") >= 1
    assert grew("hamburger:generation_tokens_total") >= 4
    assert grew("hamburger:prompt_tokens_total") >= 1
    for histogram in ["time_to_first_token_seconds", "e2e_request_latency_seconds", "request_queue_time_seconds"]:
        assert grew(f"hamburger:{histogram}_count") >= 1, histogram
    assert grew("hamburger:inter_token_latency_seconds_count") >= 1
    assert any(name.startswith("hamburger:cache_config_info{") for name in after)
    assert any(name.startswith("hamburger:iteration_tokens_total_count") for name in after)
    assert after["hamburger:num_requests_running"] == 0
    assert 'http_requests_total{code="200",method="POST"}' in after


def test_get_load_counts_requests_in_flight(server, client):
    """GET /get_load is vllm-router's load probe: {"load": running + waiting}, 0 when idle."""
    with server.http() as http:
        deadline = time.monotonic() + 10
        while http.get("/get_load").json()["load"] != 0 and time.monotonic() < deadline:
            time.sleep(0.1)
        idle = http.get("/get_load")
        assert idle.status_code == 200 and idle.headers["content-type"] == "application/json"
        assert idle.json() == {"load": 0}
        stream = client.completions.create(model=MODEL_NAME, prompt="Count to a hundred:", max_tokens=200, stream=True,
                                           extra_body={"ignore_eos": True})
        next(iter(stream))  # the first chunk: the request is running
        busy = http.get("/get_load").json()
        stream.close()
    assert list(busy) == ["load"] and busy["load"] >= 1


def test_a_repeated_prompt_is_served_from_the_prefix_cache(server, client):
    """A long shared prompt: the second request reports cached prompt tokens (whole and streamed), the
    prefix-cache counters grow by tokens, and the answer is the same."""
    prompt = "The following is a list of facts about the solar system, written for a school project. " * 4
    before = server.metrics()
    first = client.completions.create(model=MODEL_NAME, prompt=prompt, max_tokens=6, temperature=0)
    second = client.completions.create(model=MODEL_NAME, prompt=prompt, max_tokens=6, temperature=0)
    stream = list(client.completions.create(model=MODEL_NAME, prompt=prompt, max_tokens=6, temperature=0, stream=True,
                                            stream_options={"include_usage": True}))
    after = server.metrics()
    assert second.choices[0].text == first.choices[0].text
    cached = second.usage.prompt_tokens_details.cached_tokens
    assert 0 < cached < second.usage.prompt_tokens, second.usage
    assert cached % 16 == 0, "whole blocks of 16 tokens"
    assert stream[-1].usage.prompt_tokens_details.cached_tokens == cached
    hits = after.get("hamburger:prefix_cache_hits_total", 0) - before.get("hamburger:prefix_cache_hits_total", 0)
    queries = after.get("hamburger:prefix_cache_queries_total", 0) - before.get("hamburger:prefix_cache_queries_total", 0)
    assert hits >= 2 * cached and queries >= 3 * second.usage.prompt_tokens
    assert after["hamburger:kv_cache_usage_perc"] == 0, "kept blocks do not count as in use"


def test_hamburger_min_probability_is_honoured_and_checked(server, client):
    """The quality-first floor: at a low confidence, a floor of 0.999 drops almost every micro token,
    so the same answer length takes more base passes (macro steps); out of range is a 400 naming it."""
    messages = [{"role": "user", "content": "Write a short poem about the sea."}]

    def macro_steps(extra: dict) -> tuple[float, int]:
        before = server.metrics().get("hamburger:macro_steps_total", 0)
        r = client.chat.completions.create(model=MODEL_NAME, messages=messages, max_tokens=24, temperature=0,
                                           extra_body={"decoding": "hamburger", "hamburger_confidence": 0.05,
                                                       "ignore_eos": True, **extra})
        return server.metrics().get("hamburger:macro_steps_total", 0) - before, r.usage.completion_tokens

    loose, loose_tokens = macro_steps({"hamburger_min_probability": 0})
    strict, strict_tokens = macro_steps({"hamburger_min_probability": 0.999})
    assert loose_tokens == strict_tokens == 24
    assert strict > loose, (strict, loose)
    with server.http() as http:
        bad = http.post("/v1/chat/completions", json={"model": MODEL_NAME, "messages": messages, "hamburger_min_probability": 1.5})
    assert bad.status_code == 400
    assert bad.json()["error"]["param"] == "hamburger_min_probability"
