"""Each LLM error class and its retry decision, through the fake OpenAI server."""

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from analyses.models import Analysis, UsageMonth
from tests.support.http import get

NOT_RETRYABLE = [
    ({"status": 401}, "llm_auth_failed"),
    ({"status": 403}, "llm_permission_denied"),
    ({"status": 404}, "llm_not_found"),
    ({"status": 400, "error_code": "context_length_exceeded"}, "llm_context_too_long"),
    ({"status": 400}, "llm_bad_request"),
    ({"status": 429, "error_code": "insufficient_quota"}, "llm_rate_limited"),
    ({"refusal": "I can't help with that."}, "llm_refused"),
]
RETRYABLE = [
    ({"status": 500}, "llm_unavailable"),
    ({"status": 503}, "llm_unavailable"),
    ({"status": 429}, "llm_rate_limited"),
    ({"drop": True}, "llm_unavailable"),
    ({"malformed": True}, "llm_unavailable"),
]


@pytest.fixture(autouse=True)
def _no_backoff(settings):
    settings.ANALYSIS_RETRY_BASE_SECONDS = 0.0


@pytest.mark.parametrize(("behaviour", "code"), NOT_RETRYABLE)
def test_a_non_retryable_error_fails_at_once(
    client, caller, submit, fake_openai, run_tasks, audit_events, behaviour, code
):
    fake_openai.script(**behaviour)
    analysis_id = submit().json()["id"]
    run_tasks()

    done = get(client, f"/analyses/{analysis_id}", **caller[1]).json()
    assert done["status"] == "failed"
    assert done["error"]["code"] == code
    assert done["error"]["retryable"] is False
    assert done["attempts"] == 1
    assert len(fake_openai.requests) == 1
    assert [e.details["error"]["code"] for e in audit_events(action="analysis.failed")] == [code]
    assert UsageMonth.objects.get(user=caller[0]).reserved_tokens == 0


@pytest.mark.parametrize(("behaviour", "code"), RETRYABLE)
def test_a_retryable_error_is_retried_and_then_succeeds(
    client, caller, submit, fake_openai, run_tasks, behaviour, code
):
    fake_openai.script(**behaviour)
    analysis_id = submit().json()["id"]
    run_tasks()  # the first attempt fails; the retry is due at once (no backoff here) and succeeds

    done = get(client, f"/analyses/{analysis_id}", **caller[1]).json()
    assert done["status"] == "succeeded", done
    assert done["attempts"] == 2
    analysis = Analysis.objects.get(pk=analysis_id)
    first, second = analysis.attempt_rows.order_by("number")
    assert first.error["code"] == code and first.error["retryable"] is True
    assert second.error is None and second.response_id
    usage = UsageMonth.objects.get(user=caller[0])
    assert usage.used_tokens == analysis.input_tokens + analysis.output_tokens
    assert usage.reserved_tokens == 0


def test_retries_stop_at_the_attempt_budget(client, caller, submit, fake_openai, run_tasks, admin):
    from prompts.configuration import config_set

    config_set(key="analysis_attempt_budget", value=2, actor=admin)
    for _ in range(3):
        fake_openai.script(status=503)
    analysis_id = submit().json()["id"]
    run_tasks()

    done = get(client, f"/analyses/{analysis_id}", **caller[1]).json()
    assert done["status"] == "failed"
    assert done["error"]["code"] == "llm_unavailable" and done["error"]["upstream_status"] == 503
    assert done["attempts"] == 2
    assert len(fake_openai.requests) == 2


def test_retry_after_is_honoured(client, caller, submit, fake_openai, run_tasks):
    fake_openai.script(status=429, retry_after=40)
    analysis_id = submit().json()["id"]
    before = timezone.now()
    run_tasks()

    analysis = Analysis.objects.get(pk=analysis_id)
    assert analysis.status == "queued"
    assert analysis.error["code"] == "llm_rate_limited"
    waiting = DBTaskResult.objects.filter(status="READY").get()
    assert (waiting.run_after - before).total_seconds() >= 39
    assert len(fake_openai.requests) == 1  # not retried before the upstream allows it


def test_invalid_structured_output_fails_and_keeps_the_raw_reply(
    client, caller, fake_openai, run_tasks
):
    from tests.support.analyses_factories import prompt_create
    from tests.support.http import post_json

    schema = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}
    prompt_create(slug="count", output_schema=schema)
    fake_openai.script(text="not json at all")
    response = post_json(
        client, "/analyses", {"prompt": "count", "variables": {"text": "x"}}, **caller[1]
    )
    run_tasks()

    done = get(client, f"/analyses/{response.json()['id']}", **caller[1]).json()
    assert done["status"] == "failed"
    assert done["error"]["code"] == "llm_output_invalid"
    assert done["result_text"] == "not json at all"
    assert done["usage"]["output_tokens"] > 0  # the spent tokens are still billed
    assert UsageMonth.objects.get(user=caller[0]).used_tokens > 0
