"""Admission: idempotency keys, the result cache and budgets (sequential cases; races elsewhere)."""

from decimal import Decimal

import pytest
from django_tasks_db.models import DBTaskResult

from analyses.models import Analysis, IdempotencyKey, UsageMonth
from tests.support.http import assert_error


def test_the_same_idempotency_key_and_body_return_the_same_analysis(caller, submit):
    first = submit(headers={**caller[1], "HTTP_IDEMPOTENCY_KEY": "order-17"})
    again = submit(headers={**caller[1], "HTTP_IDEMPOTENCY_KEY": "order-17"})

    assert first.status_code == again.status_code == 202
    assert first.json()["id"] == again.json()["id"]
    assert Analysis.objects.count() == 1
    assert DBTaskResult.objects.count() == 1


def test_the_same_key_with_another_body_is_a_conflict(caller, submit):
    first = submit(headers={**caller[1], "HTTP_IDEMPOTENCY_KEY": "order-17"})
    error = assert_error(
        submit(
            headers={**caller[1], "HTTP_IDEMPOTENCY_KEY": "order-17"},
            variables={"text": "something else"},
        ),
        409,
        "idempotency_key_reused",
    )
    assert error["details"]["analysis_id"] == first.json()["id"]
    assert Analysis.objects.count() == 1


def test_keys_are_per_user_and_expire_after_24_hours(caller, submit, bearer):
    from datetime import timedelta

    from django.utils import timezone

    from tests.support.factories import UserFactory

    first = submit(headers={**caller[1], "HTTP_IDEMPOTENCY_KEY": "k"})
    other = submit(headers={**bearer(UserFactory()), "HTTP_IDEMPOTENCY_KEY": "k"})
    assert other.json()["id"] != first.json()["id"]

    IdempotencyKey.objects.update(created_at=timezone.now() - timedelta(hours=25))
    later = submit(headers={**caller[1], "HTTP_IDEMPOTENCY_KEY": "k"})
    assert later.json()["id"] not in (first.json()["id"], other.json()["id"])
    assert Analysis.objects.count() == 3


def test_the_cache_reuses_a_succeeded_result_at_no_cost(
    client, caller, submit, fake_openai, run_tasks
):
    first_id = submit(cache=True).json()["id"]
    run_tasks()
    first = Analysis.objects.get(pk=first_id)
    assert first.status == "succeeded" and first.cost_usd > 0

    response = submit(cache=True)
    assert response.status_code == 200  # born finished: the result is in this answer
    hit = response.json()
    assert hit["status"] == "succeeded" and hit["cache_hit"] is True
    assert hit["result_text"] == first.result_text
    assert Decimal(hit["cost_usd"]) == 0 and hit["usage"]["input_tokens"] == 0
    assert Analysis.objects.get(pk=hit["id"]).cached_from_id == first.pk
    assert len([r for r in fake_openai.requests if r["method"] == "POST"]) == 1

    # Without cache:true, or with other variables, the model is called again.
    miss = submit(cache=False).json()
    other = submit(cache=True, variables={"text": "another text"}).json()
    assert miss["status"] == other["status"] == "queued"
    assert UsageMonth.objects.get(user=caller[0]).used_cost_usd == first.cost_usd


def test_the_cache_ignores_results_older_than_its_ttl(caller, submit, fake_openai, run_tasks):
    from datetime import timedelta

    from django.utils import timezone

    first_id = submit(cache=True).json()["id"]
    run_tasks()
    Analysis.objects.filter(pk=first_id).update(finished_at=timezone.now() - timedelta(days=2))
    assert submit(cache=True).json()["cache_hit"] is False


@pytest.fixture
def token_budget(admin, django_capture_on_commit_callbacks):
    from prompts.configuration import config_set

    def set_budget(tokens=None, cost=None):
        # execute=True: the configuration cache is invalidated on commit, as in production.
        with django_capture_on_commit_callbacks(execute=True):
            config_set(key="budget_monthly_tokens", value=tokens, actor=admin)
            config_set(key="budget_monthly_cost_usd", value=cost, actor=admin)

    return set_budget


def test_over_budget_is_429_with_budget_used_reserved_and_reset(
    caller, submit, token_budget, audit_events
):
    first = submit().json()
    reserved = Analysis.objects.get(pk=first["id"]).reserved_tokens
    token_budget(tokens=reserved + 10)

    error = assert_error(submit(variables={"text": "second"}), 429, "budget_exceeded")
    details = error["details"]
    assert details["budget"]["tokens"] == reserved + 10
    assert details["reserved"]["tokens"] == reserved
    assert details["used"]["tokens"] == 0
    assert details["resets_at"].endswith("Z")
    assert Analysis.objects.count() == 1
    [refusal] = audit_events(action="analysis.budget_refused")
    assert refusal.entity_id == str(caller[0].pk)


def test_a_cost_budget_counts_actual_usage_after_settling(
    caller, submit, token_budget, fake_openai, run_tasks
):
    submit()
    run_tasks()
    used = UsageMonth.objects.get(user=caller[0])
    assert used.reserved_cost_usd == 0 and used.used_cost_usd > 0
    token_budget(cost=str(used.used_cost_usd))  # exactly what is spent: nothing more fits
    assert_error(submit(variables={"text": "more"}), 429, "budget_exceeded")
    token_budget(cost="10")
    assert submit(variables={"text": "more"}).status_code == 202
