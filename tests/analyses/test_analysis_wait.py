"""``?wait=N``: the result arrives in the same request, and waiters per process are bounded."""

import threading
import time

import pytest
from django.db import connection

from analyses import waiting
from analyses.models import Analysis
from tests.support.http import assert_error, get


def _run_later(analysis_id: str, delay: float) -> threading.Thread:
    """A worker in another thread (its own database connection), starting after ``delay``."""
    from analyses.services import execution

    def work() -> None:
        try:
            time.sleep(delay)
            execution.analysis_execute(analysis_id=analysis_id)
        finally:
            connection.close()

    thread = threading.Thread(target=work)
    thread.start()
    return thread


@pytest.mark.django_db(transaction=True)
def test_get_with_wait_returns_the_result_when_the_worker_finishes(
    client, caller, submit, fake_openai, settings
):
    settings.ANALYSIS_WAIT_DB_CHECK = 60  # prove the wake-up comes from the announcement
    analysis_id = submit().json()["id"]
    worker = _run_later(analysis_id, 0.5)

    started = time.monotonic()
    response = get(client, f"/analyses/{analysis_id}?wait=10", **caller[1])
    elapsed = time.monotonic() - started
    worker.join()

    assert response.status_code == 200
    assert response.json()["status"] == "succeeded" and response.json()["result_text"]
    assert 0.4 < elapsed < 3


@pytest.mark.django_db(transaction=True)
def test_post_with_wait_gives_202_with_the_current_state_when_time_runs_out(client, caller, submit):
    started = time.monotonic()
    response = submit(query="?wait=1")
    assert 0.9 < time.monotonic() - started < 3
    assert response.status_code == 202
    assert response.json()["status"] == "queued"
    assert response["Location"].endswith(response.json()["id"])


def test_over_the_waiter_bound_the_answer_comes_at_once(client, caller, submit, settings):
    settings.ANALYSIS_MAX_WAITERS = 1
    analysis_id = submit().json()["id"]
    slots = waiting._waiter_slots()
    assert slots.acquire(blocking=False)  # another request holds the only slot
    try:
        started = time.monotonic()
        response = get(client, f"/analyses/{analysis_id}?wait=20", **caller[1])
        assert time.monotonic() - started < 1
    finally:
        slots.release()
    assert response.status_code == 202 and response.json()["status"] == "queued"


def test_wait_is_bounded_to_30_seconds(client, caller, submit):
    analysis_id = submit().json()["id"]
    assert_error(
        get(client, f"/analyses/{analysis_id}?wait=31", **caller[1]), 422, "validation_error"
    )
    assert Analysis.objects.count() == 1
