"""/metrics: analyses by status, queue depth and wait, LLM latency by model, tokens, cost, retries."""

from tests.support.http import get


def _scrape(client) -> str:
    response = client.get("/metrics", HTTP_AUTHORIZATION="Bearer test-metrics-token")
    assert response.status_code == 200
    return response.content.decode()


def _value(text: str, prefix: str) -> float:
    lines = [line for line in text.splitlines() if line.startswith(prefix)]
    return sum(float(line.rsplit(" ", 1)[1]) for line in lines)


def test_metrics_follow_analyses(client, caller, submit, fake_openai, run_tasks, settings):
    settings.ANALYSIS_RETRY_BASE_SECONDS = 0.0
    before = _scrape(client)
    fake_openai.script(status=503)
    analysis_id = submit().json()["id"]
    submit(variables={"text": "still queued"})
    queued = _scrape(client)
    run_tasks()
    assert get(client, f"/analyses/{analysis_id}", **caller[1]).json()["status"] == "succeeded"
    after = _scrape(client)

    assert _value(queued, "parecer_analyses_queue_depth") == 2
    assert _value(after, "parecer_analyses_queue_depth") == 0
    assert _value(after, 'parecer_analyses{status="succeeded"}') == 2
    retries = 'parecer_analysis_retries_total{code="llm_unavailable"}'
    assert _value(after, retries) - _value(before, retries) == 1
    count = 'parecer_llm_call_duration_seconds_count{model="gpt-4o-mini",outcome="ok"}'
    assert _value(after, count) - _value(before, count) == 2
    tokens = 'parecer_llm_tokens_total{kind="output",model="gpt-4o-mini"}'
    assert _value(after, tokens) > _value(before, tokens)
    cost = 'parecer_llm_cost_usd_total{model="gpt-4o-mini"}'
    assert _value(after, cost) > _value(before, cost)
    assert _value(after, "parecer_analysis_queue_wait_seconds_count") >= 2
