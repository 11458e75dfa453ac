"""Leases: a worker that dies mid-call loses its analysis to the reaper; nothing settles twice."""

from datetime import timedelta

from django.utils import timezone

from analyses import llm
from analyses.models import Analysis, UsageMonth
from analyses.services import execution
from analyses.tasks import analyses_reap
from tests.support.http import get


def _die_mid_call(analysis_id: str):
    """Claim as a worker would, then 'die': the lease is held and lapses."""
    analysis, token = execution.analysis_claim(analysis_id=analysis_id)
    Analysis.objects.filter(pk=analysis_id).update(
        lease_expires_at=timezone.now() - timedelta(seconds=1)
    )
    return analysis, token


def test_the_reaper_requeues_a_lapsed_lease_and_the_analysis_completes_once(
    client, caller, submit, fake_openai, run_tasks
):
    analysis_id = submit().json()["id"]
    _die_mid_call(analysis_id)
    assert Analysis.objects.get(pk=analysis_id).status == "running"

    assert analyses_reap.call() == {"requeued": 1, "finished": 0, "orphans": 0}
    run_tasks()  # the original task (claim fails: not queued) and the re-queued one

    done = get(client, f"/analyses/{analysis_id}", **caller[1]).json()
    assert done["status"] == "succeeded" and done["attempts"] == 2
    analysis = Analysis.objects.get(pk=analysis_id)
    lost, ok = analysis.attempt_rows.order_by("number")
    assert lost.error["code"] == "analysis_worker_lost" and ok.error is None
    usage = UsageMonth.objects.get(user=caller[0])
    assert usage.used_tokens == analysis.input_tokens + analysis.output_tokens
    assert usage.reserved_tokens == 0
    assert len([r for r in fake_openai.requests if r["method"] == "POST"]) == 1


def test_a_slow_worker_whose_lease_was_taken_cannot_settle(
    client, caller, submit, fake_openai, run_tasks
):
    analysis_id = submit().json()["id"]
    slow, slow_token = _die_mid_call(analysis_id)
    analyses_reap.call()
    run_tasks()  # another worker completes it
    settled = Analysis.objects.get(pk=analysis_id)
    used = UsageMonth.objects.get(user=caller[0]).used_tokens

    # The slow worker's call returns at last: its result and usage are discarded.
    late = llm.LLMResult(
        api_style="chat",
        model="gpt-4o-mini",
        response_id="late",
        upstream_request_id=None,
        finish_reason="stop",
        text="late",
        usage=llm.Usage(input_tokens=50, output_tokens=50),
    )
    outcome = execution._settle(
        analysis=slow, token=slow_token, started=timezone.now(), result=late, error=None
    )

    assert outcome == "discarded"
    again = Analysis.objects.get(pk=analysis_id)
    assert again.result_text == settled.result_text != "late"
    assert again.input_tokens == settled.input_tokens
    assert UsageMonth.objects.get(user=caller[0]).used_tokens == used
    assert again.attempt_rows.count() == 2


def test_a_lapsed_lease_out_of_attempts_fails_for_good(client, caller, submit, admin, audit_events):
    from prompts.configuration import config_set

    config_set(key="analysis_attempt_budget", value=1, actor=admin)
    analysis_id = submit().json()["id"]
    _die_mid_call(analysis_id)

    assert analyses_reap.call() == {"requeued": 0, "finished": 1, "orphans": 0}
    analysis = Analysis.objects.get(pk=analysis_id)
    assert analysis.status == "failed" and analysis.error["code"] == "analysis_worker_lost"
    assert UsageMonth.objects.get(user=caller[0]).reserved_tokens == 0
    assert [e.entity_id for e in audit_events(action="analysis.failed")] == [analysis_id]


def test_an_analysis_whose_task_was_lost_gets_a_new_one(
    client, caller, submit, fake_openai, run_tasks
):
    from django_tasks_db.models import DBTaskResult

    analysis_id = submit().json()["id"]
    DBTaskResult.objects.all().delete()  # its task is gone (failed before it could claim)
    Analysis.objects.filter(pk=analysis_id).update(queued_at=timezone.now() - timedelta(hours=1))

    assert analyses_reap.call()["orphans"] == 1
    run_tasks()

    assert get(client, f"/analyses/{analysis_id}", **caller[1]).json()["status"] == "succeeded"
