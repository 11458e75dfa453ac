"""``GET /analyses/{id}`` from the shared cache: a poll costs no query, and every change of the
analysis (claim, result, failure, cancel, retry, reaping, deletion) is seen by the next poll.

These tests commit for real (``transaction=True``): the cache is dropped when a change commits.
"""

from datetime import timedelta

import pytest
from django.core.cache import caches
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from analyses import documents
from analyses.models import Analysis
from analyses.services import execution
from analyses.tasks import analyses_reap
from core import document_cache
from tests.support.http import assert_error, delete, get, post_json

pytestmark = pytest.mark.django_db(transaction=True)


def _poll(client, caller, analysis_id):
    response = get(client, f"/analyses/{analysis_id}", **caller[1])
    return response.status_code, response.json()


def _analysis_queries(queries) -> list[str]:
    return [q["sql"] for q in queries.captured_queries if "analyses_analysis" in q["sql"]]


def test_a_second_poll_is_answered_from_the_cache_with_the_same_document(client, caller, submit):
    analysis_id = submit().json()["id"]
    first = get(client, f"/analyses/{analysis_id}", **caller[1])

    with CaptureQueriesContext(connection) as queries:
        second = get(client, f"/analyses/{analysis_id}", **caller[1])

    assert _analysis_queries(queries) == []
    assert second.status_code == first.status_code == 202
    assert second.content == first.content
    assert second["Location"] == first["Location"] == f"/api/v1/analyses/{analysis_id}"
    assert second["Content-Type"] == first["Content-Type"] == "application/json; charset=utf-8"
    assert second.json()["status"] == "queued" and second.json()["id"] == analysis_id


def test_every_change_is_seen_by_the_next_poll(client, caller, submit, fake_openai, run_tasks):
    analysis_id = submit().json()["id"]
    assert _poll(client, caller, analysis_id)[1]["status"] == "queued"  # cached now

    execution.analysis_claim(analysis_id=analysis_id)  # queued -> running (conditional updates)
    status, body = _poll(client, caller, analysis_id)
    assert (status, body["status"], body["attempts"]) == (202, "running", 1)
    assert body["started_at"] is not None and body["queue_wait_ms"] is not None

    post_json(client, f"/analyses/{analysis_id}/cancel", **caller[1])  # cancel requested
    assert _poll(client, caller, analysis_id)[1]["cancel_requested"] is True

    Analysis.objects.filter(pk=analysis_id).update(  # the worker died: its lease lapses
        lease_expires_at=timezone.now() - timedelta(seconds=1)
    )
    analyses_reap.call()  # running -> cancelled (it had been asked to stop)
    status, body = _poll(client, caller, analysis_id)
    assert (status, body["status"]) == (200, "cancelled")
    assert body["error"]["code"] == "analysis_worker_lost"

    post_json(client, f"/analyses/{analysis_id}/retry", **caller[1])  # cancelled -> queued
    status, body = _poll(client, caller, analysis_id)
    assert (status, body["status"], body["error"]) == (202, "queued", None)

    run_tasks()  # queued -> running -> succeeded
    status, body = _poll(client, caller, analysis_id)
    assert (status, body["status"]) == (200, "succeeded") and body["result_text"]
    assert _poll(client, caller, analysis_id)[1] == body  # and cached again

    assert delete(client, f"/analyses/{analysis_id}", **caller[1]).status_code == 204
    assert_error(get(client, f"/analyses/{analysis_id}", **caller[1]), 404, "not_found")


def test_a_failure_is_seen_by_the_next_poll(client, caller, submit, fake_openai, run_tasks):
    analysis_id = submit().json()["id"]
    assert _poll(client, caller, analysis_id)[1]["status"] == "queued"
    fake_openai.script(status=401)
    run_tasks()
    status, body = _poll(client, caller, analysis_id)
    assert (status, body["status"], body["error"]["code"]) == (200, "failed", "llm_auth_failed")


def test_a_cached_document_is_still_only_for_its_owner_and_staff(
    client, caller, submit, bearer, staff
):
    from tests.support.factories import UserFactory

    analysis_id = submit().json()["id"]
    owners = get(client, f"/analyses/{analysis_id}", **caller[1])  # cached now
    assert documents.analysis_document_cached(analysis_id) is not None

    stranger = get(client, f"/analyses/{analysis_id}", **bearer(UserFactory()))
    assert_error(stranger, 404, "not_found")
    staffs = get(client, f"/analyses/{analysis_id}", **bearer(staff))
    assert staffs.status_code == 202 and staffs.content == owners.content


def test_a_read_that_raced_a_change_cannot_put_the_old_state_back(client, caller, submit):
    """A poll that loaded the row before a change commits fills after it: the fill is refused."""
    analysis_id = submit().json()["id"]
    old = documents.AnalysisDocument(
        owner_id=caller[0].pk, status_code=202, body=b"{}", final=False
    )

    started = document_cache.read_started()  # the racing poll reads the row ...
    execution.analysis_claim(analysis_id=analysis_id)  # ... a worker claims it and commits ...
    documents.analysis_document_fill(analysis_id, old, started=started)  # ... the poll fills

    assert documents.analysis_document_cached(analysis_id) is None
    assert _poll(client, caller, analysis_id)[1]["status"] == "running"


def test_a_read_slower_than_the_change_marker_does_not_fill(caller, submit, monkeypatch):
    analysis_id = submit().json()["id"]
    old = documents.AnalysisDocument(
        owner_id=caller[0].pk, status_code=202, body=b"{}", final=False
    )
    started = document_cache.read_started()
    monkeypatch.setattr(document_cache.time, "monotonic", lambda: started + 2)  # 2 s later

    documents.analysis_document_fill(analysis_id, old, started=started)

    assert documents.analysis_document_cached(analysis_id) is None


def test_a_large_document_is_not_kept(client, caller, submit, monkeypatch):
    monkeypatch.setattr(documents, "MAX_BYTES", 100)
    analysis_id = submit().json()["id"]
    assert _poll(client, caller, analysis_id)[0] == 202
    assert documents.analysis_document_cached(analysis_id) is None


def test_polls_work_without_the_cache(client, caller, submit, monkeypatch):
    def down(*args, **kwargs):
        raise ConnectionError("cache down")

    analysis_id = submit().json()["id"]
    monkeypatch.setattr(document_cache.cache, "get", down)
    monkeypatch.setattr(document_cache.cache, "add", down)
    for _ in range(2):
        status, body = _poll(client, caller, analysis_id)
        assert (status, body["status"]) == (202, "queued")


def test_off_without_a_shared_cache_every_poll_reads_the_database(client, caller, submit, settings):
    settings.DOCUMENT_CACHE = False  # the default with the local-memory cache (no Redis)
    analysis_id = submit().json()["id"]
    for _ in range(2):
        with CaptureQueriesContext(connection) as queries:
            assert _poll(client, caller, analysis_id)[1]["status"] == "queued"
        assert len(_analysis_queries(queries)) == 1
    assert documents.analysis_document_cached(analysis_id) is None


def test_a_change_made_while_the_cache_refused_its_mark_is_marked_with_the_next_change(
    client, caller, submit, monkeypatch
):
    first, second = submit().json()["id"], submit().json()["id"]
    assert _poll(client, caller, first)[1]["status"] == "queued"  # cached now
    backend = type(caches["default"])
    set_many, down = backend.set_many, [True]

    def refused(self, *args, **kwargs):
        if down:
            raise ConnectionError("cache down")
        return set_many(self, *args, **kwargs)

    monkeypatch.setattr(backend, "set_many", refused)
    execution.analysis_claim(analysis_id=first)  # its mark is refused: the old entry stays
    down.clear()  # the cache is back
    assert _poll(client, caller, first)[1]["status"] == "queued"  # stale, until ...

    execution.analysis_claim(analysis_id=second)  # ... this process's next change marks both
    assert _poll(client, caller, first)[1]["status"] == "running"
    assert _poll(client, caller, second)[1]["status"] == "running"
