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
