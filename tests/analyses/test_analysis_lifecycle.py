"""The whole lifecycle through HTTP and the fake OpenAI server: submit, run, read."""

from decimal import Decimal

from analyses.models import Analysis, AnalysisAttempt, UsageMonth
from tests.support.http import assert_error, get


def test_submit_queues_then_the_worker_runs_it_and_the_result_is_readable(
    client, caller, submit, fake_openai, run_tasks, audit_events
):
    response = submit()

    assert response.status_code == 202, response.content
    body = response.json()
    assert body["status"] == "queued"
    assert body["prompt"] == "summary" and body["prompt_version"] == 1
    assert response["Location"] == f"/api/v1/analyses/{body['id']}"
    analysis = Analysis.objects.get(pk=body["id"])
    assert analysis.owner == caller[0]
    assert analysis.messages[1] == {"role": "user", "content": "Parecer turns prompts into work."}
    assert len(analysis.messages_sha256) == 64
    assert analysis.reserved_tokens > 100  # the input estimate + max_output_tokens
    [created] = audit_events(action="analysis.created")
    assert created.entity_id == body["id"]

    run_tasks()

    response = get(client, f"/analyses/{body['id']}", **caller[1])
    assert response.status_code == 200
    done = response.json()
    assert done["status"] == "succeeded"
    assert done["result_text"]
    assert done["usage"]["input_tokens"] > 0 and done["usage"]["output_tokens"] > 0
    assert done["attempts"] == 1 and done["cache_hit"] is False
    assert done["queue_wait_ms"] is not None
    analysis.refresh_from_db()
    # gpt-4o-mini at the default prices: 0.15 / 0.60 USD per million tokens, as a Decimal.
    expected = (
        Decimal(analysis.input_tokens) * Decimal("0.15")
        + Decimal(analysis.output_tokens) * Decimal("0.60")
    ) / Decimal(1_000_000)
    assert analysis.cost_usd == expected.quantize(Decimal("0.00000001"))
    assert Decimal(done["cost_usd"]) == analysis.cost_usd
    [attempt] = AnalysisAttempt.objects.filter(analysis=analysis)
    assert attempt.error is None and attempt.response_id and attempt.latency_ms is not None
    assert attempt.upstream_request_id
    usage = UsageMonth.objects.get(user=caller[0])
    assert usage.reserved_tokens == 0 and usage.reserved_cost_usd == 0
    assert usage.used_tokens == analysis.input_tokens + analysis.output_tokens
    assert usage.used_cost_usd == analysis.cost_usd
    [sent] = [r for r in fake_openai.requests if r["path"] == "/v1/chat/completions"]
    assert sent["body"]["model"] == "gpt-4o-mini"
    assert sent["body"]["messages"][1]["content"] == "Parecer turns prompts into work."


def test_structured_output_is_stored_parsed(client, caller, fake_openai, run_tasks, db, bearer):
    from tests.support.analyses_factories import prompt_create
    from tests.support.http import post_json

    schema = {
        "type": "object",
        "properties": {"verdict": {"type": "string", "enum": ["ok", "not ok"]}},
        "required": ["verdict"],
        "additionalProperties": False,
    }
    prompt_create(slug="verdict", output_schema=schema)
    response = post_json(
        client, "/analyses", {"prompt": "verdict", "variables": {"text": "x"}}, **caller[1]
    )
    run_tasks()
    done = get(client, f"/analyses/{response.json()['id']}", **caller[1]).json()
    assert done["status"] == "succeeded"
    assert done["result_json"] == {"verdict": "ok"}


def test_the_version_is_fixed_at_creation(client, caller, submit, version, fake_openai, run_tasks):
    from prompts.models import PromptLabel
    from tests.support.analyses_factories import version_add

    response = submit()
    newer = version_add(prompt=version.prompt, number=2)
    PromptLabel.objects.filter(prompt=version.prompt, name="production").update(version=newer)
    run_tasks()

    analysis = Analysis.objects.get(pk=response.json()["id"])
    assert analysis.prompt_version == version
    assert get(client, f"/analyses/{analysis.pk}", **caller[1]).json()["prompt_version"] == 1


def test_request_problems_fail_before_anything_is_queued(client, caller, submit, version):
    from django.core.cache import cache
    from django.utils import timezone
    from django_tasks_db.models import DBTaskResult

    assert_error(submit(prompt="nope"), 404, "prompt_not_found")
    assert_error(submit(label="staging"), 404, "label_not_found")
    assert_error(submit(version=7), 404, "version_not_found")
    error = assert_error(submit(variables={"txt": "x"}), 422, "variables_invalid")
    assert "text" in str(error["details"])
    assert_error(submit(label="production", version=1), 422, "validation_error")
    assert_error(submit(surprise=1), 422, "validation_error")
    version.prompt.archived_at = timezone.now()
    version.prompt.save()
    cache.clear()  # the resolver's cache; prompts' archive service invalidates it
    assert_error(submit(), 409, "prompt_archived")

    assert Analysis.objects.count() == 0
    assert DBTaskResult.objects.count() == 0


def test_a_model_outside_the_allowed_list_is_refused(client, caller, submit, admin):
    from prompts.configuration import config_set

    config_set(key="allowed_models", value=["gpt-4.1"], actor=admin)
    error = assert_error(submit(), 422, "model_not_allowed")
    assert "gpt-4o-mini" in error["message"]
    assert Analysis.objects.count() == 0


def test_without_an_api_key_analyses_fail_fast_as_not_configured(
    client, caller, submit, run_tasks, audit_events
):
    response = submit()
    assert response.status_code == 202
    run_tasks()

    done = get(client, f"/analyses/{response.json()['id']}", **caller[1]).json()
    assert done["status"] == "failed"
    assert done["error"]["code"] == "llm_not_configured"
    assert done["error"]["retryable"] is False
    assert done["attempts"] == 1
    assert [e.entity_id for e in audit_events(action="analysis.failed")] == [done["id"]]
    usage = UsageMonth.objects.get(user=caller[0])
    assert usage.reserved_tokens == 0 and usage.used_tokens == 0
