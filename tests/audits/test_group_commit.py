"""Appends made outside any transaction share one transaction per batch (audits/group_commit.py):
in arrival order, nobody answered before their COMMIT, a bounded wait, and one bad row or one
failed batch never costs the others their event."""

import threading
import time

import pytest
from django.db import IntegrityError, OperationalError, connection, transaction
from django.test import Client, override_settings

from audits import append
from audits.chain import chain_verify
from audits.group_commit import GroupCommit, GroupCommitTimeout
from audits.models import AuditChainHead, AuditEvent


def _eventually(condition, *, within: float = 10.0) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.01)


class _Recorder:
    """A write_batch that records its batches; the first one waits until ``release`` is set."""

    def __init__(self) -> None:
        self.batches: list[list] = []
        self.writing = threading.Event()
        self.release = threading.Event()
        self.fail_with: BaseException | None = None

    def __call__(self, items: list, *, waited: float) -> None:
        assert waited >= 0
        first = not self.batches
        self.batches.append(list(items))
        if first:
            self.writing.set()
            assert self.release.wait(10)
            if self.fail_with is not None:
                raise self.fail_with
        if "bad" in items:
            raise IntegrityError("refused")


def _submit_in_thread(commit: GroupCommit, item, results: dict, *, timeout=5.0) -> threading.Thread:
    def run() -> None:
        try:
            commit.submit(item, wait_timeout=timeout)
            results[item] = "written"
        except BaseException as error:
            results[item] = error

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def _queue_behind_a_slow_batch(commit, recorder, items, results, **kwargs):
    threads = [_submit_in_thread(commit, "first", results, **kwargs)]
    assert recorder.writing.wait(5)
    for n, item in enumerate(items, start=1):
        threads.append(_submit_in_thread(commit, item, results, **kwargs))
        _eventually(lambda n=n: commit.queued() == n)  # queued in this order
    return threads


def _join(threads) -> None:
    for thread in threads:
        thread.join(10)
    assert not any(thread.is_alive() for thread in threads)


def test_what_queues_behind_a_batch_is_written_together_in_arrival_order():
    recorder = _Recorder()
    commit = GroupCommit(recorder, batch_max=3, one_item_at_fault=lambda error: False)
    results: dict = {}

    threads = _queue_behind_a_slow_batch(commit, recorder, ["a", "b", "c", "d"], results)
    assert results == {}  # nobody is answered before their batch is written
    recorder.release.set()
    _join(threads)

    assert recorder.batches == [["first"], ["a", "b", "c"], ["d"]]
    assert results == dict.fromkeys(["first", "a", "b", "c", "d"], "written")
    assert commit.queued() == 0


def test_a_failed_batch_fails_only_its_own_items_and_the_queue_moves_on():
    recorder = _Recorder()
    recorder.fail_with = OperationalError("the database went away")
    commit = GroupCommit(recorder, batch_max=10, one_item_at_fault=lambda error: False)
    results: dict = {}

    threads = _queue_behind_a_slow_batch(commit, recorder, ["a", "b"], results)
    recorder.release.set()
    _join(threads)

    assert results["first"] is recorder.fail_with
    assert (results["a"], results["b"]) == ("written", "written")
    assert recorder.batches == [["first"], ["a", "b"]]


def test_a_row_the_database_refuses_fails_alone():
    recorder = _Recorder()
    commit = GroupCommit(
        recorder, batch_max=10, one_item_at_fault=lambda error: isinstance(error, IntegrityError)
    )
    results: dict = {}

    threads = _queue_behind_a_slow_batch(commit, recorder, ["a", "bad", "b"], results)
    recorder.release.set()
    _join(threads)

    assert isinstance(results["bad"], IntegrityError)
    assert [results[item] for item in ("first", "a", "b")] == ["written"] * 3
    assert recorder.batches == [["first"], ["a", "bad", "b"], ["a"], ["bad"], ["b"]]


def test_a_wait_that_runs_out_before_any_batch_took_it_writes_nothing():
    recorder = _Recorder()
    commit = GroupCommit(recorder, batch_max=10, one_item_at_fault=lambda error: False)
    results: dict = {}

    threads = [_submit_in_thread(commit, "first", results)]
    assert recorder.writing.wait(5)
    threads.append(_submit_in_thread(commit, "late", results, timeout=0.2))
    threads[-1].join(5)
    recorder.release.set()
    _join(threads)

    assert isinstance(results["late"], GroupCommitTimeout)
    assert (results["late"].status, results["late"].code) == (503, "database_timeout")
    assert results["first"] == "written"
    assert recorder.batches == [["first"]]
    assert commit.queued() == 0


# Through the API, on the real PostgreSQL: the chain head held by another transaction makes the
# first append wait on the lock, so the ones after it queue in the process's group commit.

HEAD_LOCK = "SELECT 1 FROM audits_auditchainhead WHERE id = 1 FOR UPDATE"


class _HeadHeld:
    """Holds the chain head's row lock in a transaction of its own thread until ``release``."""

    def __init__(self) -> None:
        AuditChainHead.objects.get_or_create(pk=1)  # a flushed test database lost migration's row
        self.held, self.released = threading.Event(), threading.Event()
        self.thread = threading.Thread(target=self._hold)
        self.thread.start()
        assert self.held.wait(10)

    def _hold(self) -> None:
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(HEAD_LOCK)
                assert cursor.fetchone() == (1,)
                self.held.set()
                self.released.wait(30)
        finally:
            connection.close()

    def release(self) -> None:
        self.released.set()
        self.thread.join(10)

    def __enter__(self) -> "_HeadHeld":
        return self

    def __exit__(self, *exc_info) -> None:
        self.release()  # even when the test failed: the next test needs the head


def _lock_waiters() -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = "
            "current_database()"
        )
        return [pid for (pid,) in cursor.fetchall()]


def _post_in_thread(headers: dict, entity_id: str, responses: dict) -> threading.Thread:
    def run() -> None:
        try:
            responses[entity_id] = Client().post(
                "/api/v1/audits",
                {"action": "invoice.paid", "entity_type": "invoice", "entity_id": entity_id},
                content_type="application/json",
                **headers,
            )
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def _post_behind_the_held_head(headers, followers: list[str], responses: dict) -> list:
    threads = [_post_in_thread(headers, "leader", responses)]
    _eventually(lambda: len(_lock_waiters()) == 1)  # the leader's batch waits on the head
    for n, entity_id in enumerate(followers, start=1):
        threads.append(_post_in_thread(headers, entity_id, responses))
        _eventually(lambda n=n: append._group_commit.queued() == n)
    return threads


def _transactions_that_wrote_events() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(DISTINCT xmin::text) FROM audits_auditevent")
        return cursor.fetchone()[0]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_posts_queued_behind_a_held_head_are_written_by_one_transaction(user, bearer):
    followers = [f"inv-{n}" for n in range(6)]
    responses: dict = {}
    with _HeadHeld() as head:
        threads = _post_behind_the_held_head(bearer(user), followers, responses)
        assert responses == {}  # nobody is answered while their event is not committed
        head.release()
        _join(threads)

    assert {key: r.status_code for key, r in responses.items()} == dict.fromkeys(
        ["leader", *followers], 201
    )
    stored = dict(AuditEvent.objects.values_list("entity_id", "sequence"))
    assert {key: r.json()["sequence"] for key, r in responses.items()} == stored
    # Sealed in arrival order, after the leader's own batch.
    assert [stored[key] for key in ["leader", *followers]] == list(range(1, 8))
    assert _transactions_that_wrote_events() == 2
    assert AuditChainHead.objects.get().sequence == 7
    assert chain_verify().ok


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@override_settings(DB_LOCK_TIMEOUT=1.0)
def test_a_post_queued_longer_than_the_lock_timeout_gets_503_and_writes_nothing(user, bearer):
    responses: dict = {}
    with _HeadHeld() as head:
        threads = _post_behind_the_held_head(bearer(user), ["late"], responses)
        threads[1].join(10)
        late = responses["late"]
        head.release()
        _join(threads)

    assert late.status_code == 503
    assert late.headers["Retry-After"] == "2"
    error = late.json()["error"]
    assert (error["code"], error["request_id"]) == ("database_timeout", late["X-Request-ID"])
    assert responses["leader"].status_code == 201
    assert list(AuditEvent.objects.values_list("entity_id", flat=True)) == ["leader"]
    assert chain_verify().ok


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_batch_cancelled_in_the_database_fails_alone_and_the_queue_is_written(user, bearer):
    responses: dict = {}
    with _HeadHeld() as head:
        threads = _post_behind_the_held_head(bearer(user), ["a", "b"], responses)
        [leader_pid] = _lock_waiters()
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_cancel_backend(%s)", [leader_pid])
        threads[0].join(10)
        head.release()
        _join(threads)

    assert responses["leader"].status_code == 503
    assert responses["leader"].json()["error"]["code"] == "database_timeout"
    assert (responses["a"].status_code, responses["b"].status_code) == (201, 201)
    assert sorted(AuditEvent.objects.values_list("entity_id", "sequence")) == [("a", 1), ("b", 2)]
    assert chain_verify().ok


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@override_settings(DB_LOCK_TIMEOUT=1.5)
def test_time_spent_queued_counts_against_the_lock_wait_of_the_batch(user, bearer):
    """Queued behind a batch stuck on the head, then given the turn: the event gives up within
    one DB_LOCK_TIMEOUT of arriving, not a queue wait plus a whole lock wait."""
    responses: dict = {}
    with _HeadHeld() as head:
        threads = _post_behind_the_held_head(bearer(user), ["queued"], responses)
        queued_at = time.monotonic()
        time.sleep(1.0)
        [leader_pid] = _lock_waiters()
        with connection.cursor() as cursor:  # the stuck batch ahead fails; the queued one leads
            cursor.execute("SELECT pg_cancel_backend(%s)", [leader_pid])
        threads[1].join(10)
        answered_after = time.monotonic() - queued_at
        head.release()
        _join(threads)

    assert responses["queued"].status_code == 503
    assert responses["queued"].json()["error"]["code"] == "database_timeout"
    assert 1.2 < answered_after < 2.2  # ~1.5 s in all, not 1 s + a fresh 1.5 s
    assert not AuditEvent.objects.exists()
