"""Cancel, retry, delete, list, and another user's analysis, through HTTP."""

import pytest

from analyses.models import Analysis, UsageMonth
from tests.support.http import assert_error, delete, get, post_json


def test_cancelling_a_queued_analysis_is_immediate_and_releases_the_reservation(
    client, caller, submit, fake_openai, run_tasks, audit_events
):
    analysis_id = submit().json()["id"]
    assert UsageMonth.objects.get(user=caller[0]).reserved_tokens > 0

    response = post_json(client, f"/analyses/{analysis_id}/cancel", **caller[1])
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    run_tasks()  # its task finds nothing to do

    assert Analysis.objects.get(pk=analysis_id).status == "cancelled"
    assert fake_openai.requests == []
    usage = UsageMonth.objects.get(user=caller[0])
    assert usage.reserved_tokens == 0 and usage.used_tokens == 0
    assert [e.entity_id for e in audit_events(action="analysis.cancelled")] == [analysis_id]
    assert_error(
        post_json(client, f"/analyses/{analysis_id}/cancel", **caller[1]), 409, "analysis_finished"
    )


def test_cancelling_a_running_analysis_discards_the_result_but_bills_the_usage(
    client, caller, submit, fake_openai, run_tasks, monkeypatch
):
    from analyses import llm

    analysis_id = submit().json()["id"]
    real_call = llm.llm_call
    seen = {}

    def call_cancelled_midway(**kwargs):
        # The client cancels while the worker waits for the LLM.
        response = post_json(client, f"/analyses/{analysis_id}/cancel", **caller[1])
        seen["during"] = response.json()
        return real_call(**kwargs)

    monkeypatch.setattr(llm, "llm_call", call_cancelled_midway)
    run_tasks()

    assert seen["during"]["status"] == "running" and seen["during"]["cancel_requested"] is True
    done = get(client, f"/analyses/{analysis_id}", **caller[1]).json()
    assert done["status"] == "cancelled"
    assert done["result_text"] == "" and done["result_json"] is None
    assert done["usage"]["output_tokens"] > 0
    analysis = Analysis.objects.get(pk=analysis_id)
    usage = UsageMonth.objects.get(user=caller[0])
    assert usage.used_tokens == analysis.input_tokens + analysis.output_tokens > 0
    assert usage.used_cost_usd == analysis.cost_usd > 0
    assert usage.reserved_tokens == 0
    assert len(fake_openai.requests) == 1


def test_retry_requeues_a_failed_analysis(
    client, caller, submit, fake_openai, run_tasks, audit_events
):
    fake_openai.script(status=401)
    analysis_id = submit().json()["id"]
    run_tasks()
    assert Analysis.objects.get(pk=analysis_id).status == "failed"

    response = post_json(client, f"/analyses/{analysis_id}/retry", **caller[1])
    assert response.status_code == 202
    assert response.json()["status"] == "queued" and response.json()["error"] is None
    run_tasks()

    done = get(client, f"/analyses/{analysis_id}", **caller[1]).json()
    assert done["status"] == "succeeded" and done["attempts"] == 2
    assert [e.entity_id for e in audit_events(action="analysis.retried")] == [analysis_id]
    assert_error(
        post_json(client, f"/analyses/{analysis_id}/retry", **caller[1]),
        409,
        "analysis_not_retryable",
    )


def test_delete_removes_an_own_analysis_that_is_not_running(client, caller, submit, audit_events):
    analysis_id = submit().json()["id"]
    Analysis.objects.filter(pk=analysis_id).update(status="running")
    assert_error(delete(client, f"/analyses/{analysis_id}", **caller[1]), 409, "analysis_running")

    Analysis.objects.filter(pk=analysis_id).update(status="queued")
    response = delete(client, f"/analyses/{analysis_id}", **caller[1])
    assert response.status_code == 204
    assert not Analysis.objects.filter(pk=analysis_id).exists()
    assert UsageMonth.objects.get(user=caller[0]).reserved_tokens == 0
    assert [e.entity_id for e in audit_events(action="analysis.deleted")] == [analysis_id]


@pytest.mark.parametrize(
    "send",
    [
        lambda client, url, headers: post_json(client, f"{url}/cancel", **headers),
        lambda client, url, headers: post_json(client, f"{url}/retry", **headers),
        lambda client, url, headers: delete(client, url, **headers),
    ],
    ids=["cancel", "retry", "delete"],
)
def test_an_analysis_deleted_by_a_concurrent_request_is_a_404_not_a_500(
    client, caller, submit, monkeypatch, send
):
    """The row is found visible, then deleted by another request before the service locks it."""
    from analyses import api

    analysis_id = submit().json()["id"]
    found = api.get_object_or_404

    def found_then_deleted(queryset, **lookup):
        row = found(queryset, **lookup)
        Analysis.objects.filter(pk=row.pk).delete()
        return row

    monkeypatch.setattr(api, "get_object_or_404", found_then_deleted)
    assert_error(send(client, f"/analyses/{analysis_id}", caller[1]), 404, "not_found")


def test_another_users_analysis_is_a_404_everywhere(client, caller, submit, bearer):
    from tests.support.factories import UserFactory

    analysis_id = submit().json()["id"]
    stranger = bearer(UserFactory())
    for response in (
        get(client, f"/analyses/{analysis_id}", **stranger),
        post_json(client, f"/analyses/{analysis_id}/cancel", **stranger),
        post_json(client, f"/analyses/{analysis_id}/retry", **stranger),
        delete(client, f"/analyses/{analysis_id}", **stranger),
    ):
        assert_error(response, 404, "not_found")
    assert get(client, "/analyses", **stranger).json()["count"] == 0
    assert Analysis.objects.get(pk=analysis_id).status == "queued"


def test_the_list_is_own_for_users_all_for_staff_and_filters(
    client, caller, submit, bearer, staff, fake_openai, run_tasks
):
    from tests.support.analyses_factories import prompt_create
    from tests.support.factories import UserFactory

    prompt_create(slug="other")
    mine_done = submit().json()["id"]
    run_tasks()
    mine_queued = submit(prompt="other").json()["id"]
    stranger = UserFactory()
    submit(headers=bearer(stranger))

    own = get(client, "/analyses", **caller[1]).json()
    assert own["count"] == 2
    assert [item["id"] for item in own["items"]] == [mine_queued, mine_done]
    assert {"items", "count", "page", "page_size"} <= set(own)
    everyone = get(client, "/analyses", **bearer(staff)).json()
    assert everyone["count"] == 3
    by_status = get(client, "/analyses?status=succeeded", **caller[1]).json()
    assert [item["id"] for item in by_status["items"]] == [mine_done]
    by_prompt = get(client, "/analyses?prompt=other", **caller[1]).json()
    assert [item["id"] for item in by_prompt["items"]] == [mine_queued]
    future = get(client, "/analyses?since=2999-01-01T00:00:00Z", **caller[1]).json()
    assert future["count"] == 0
    assert_error(get(client, "/analyses?status=exploded", **caller[1]), 422, "validation_error")


@pytest.mark.parametrize(
    ("actor", "expected"),
    [("anonymous", 401), ("read_key", 403), ("write_key", 202), ("user", 202), ("staff", 202)],
)
def test_who_may_submit(client, version, actor, expected):
    from tests.support.actors import credentials

    _, headers = credentials(actor)
    response = post_json(
        client, "/analyses", {"prompt": "summary", "variables": {"text": "x"}}, **headers
    )
    assert response.status_code == expected, response.content
    assert Analysis.objects.count() == (1 if expected == 202 else 0)
    if expected == 202 and actor.endswith("_key"):
        assert Analysis.objects.get().api_key is not None
