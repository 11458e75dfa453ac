"""``?wait=N``: the result arrives in the same request, waiters per process are bounded, and a
waiter is woken by the announcement of the result (Redis pub/sub across processes), not by polling.
"""

import os
import socket
import subprocess
import sys
import threading
import time

import pytest
import redis
from django.core.cache import caches
from django.db import connection
from django.test.utils import CaptureQueriesContext

from analyses import waiting
from analyses.models import Analysis, Status
from tests.files.live import REPO, _database_url
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


# --- The wake-up: from the result, never by polling -------------------------------------------

# A worker in another process: no event of this process can be set by it, only its PUBLISH.
_OTHER_PROCESS_WORKER = """
import sys, time
import django
django.setup()
from django.conf import settings
settings.OPENAI_BASE_URL, settings.OPENAI_API_KEY = sys.argv[2], sys.argv[3]
from analyses.services import execution
print("ready", flush=True)
sys.stdin.readline()
status = execution.analysis_execute(analysis_id=sys.argv[1])
print(status, time.monotonic(), flush=True)
"""


def _until(condition, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


@pytest.fixture
def hub(monkeypatch):
    """``hub(client_factory)`` -> a fresh waiter hub in place of the process's, stopped after."""
    made = []

    def install(client_factory) -> waiting.WaiterHub:
        fresh = waiting.WaiterHub(client_factory=client_factory)
        monkeypatch.setattr(waiting, "_hub", fresh)
        made.append(fresh)
        return fresh

    yield install
    for fresh in made:
        fresh.stop()


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_waiter_wakes_on_the_result_published_by_a_worker_in_another_process(
    client, caller, submit, fake_openai, settings, hub
):
    settings.ANALYSIS_WAIT_DB_CHECK = 30  # only the pub/sub message can explain a fast return
    hub(waiting._redis_client)
    analysis_id = submit().json()["id"]
    worker = subprocess.Popen(
        [sys.executable, "-c", _OTHER_PROCESS_WORKER, analysis_id, fake_openai.base_url, "sk-x"],
        cwd=REPO,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "DATABASE_URL": _database_url(),
        },
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert worker.stdout.readline().strip() == "ready", worker.stderr.read()
        answered = []

        def wait() -> None:
            try:
                response = get(client, f"/analyses/{analysis_id}?wait=10", **caller[1])
                answered.append((time.monotonic(), response))
            finally:
                connection.close()

        waiter = threading.Thread(target=wait)
        waiter.start()
        _until(lambda: analysis_id in waiting._events and waiting._hub.listening.is_set())
        time.sleep(0.3)  # the waiter is asleep on its event now
        assert not answered
        worker.stdin.write("go\n")
        worker.stdin.flush()
        output, errors = worker.communicate(timeout=60)
        waiter.join(15)
    finally:
        worker.kill()
        worker.wait()

    status, finished = output.split()
    assert status == "succeeded", errors
    returned, response = answered[0]
    assert response.status_code == 200
    assert response.json()["status"] == "succeeded" and response.json()["result_text"]
    assert returned - float(finished) < 1.0  # the DB backstop would have taken up to 30 s
    assert Analysis.objects.get(pk=analysis_id).status == Status.SUCCEEDED


@pytest.mark.django_db(transaction=True)
def test_a_waiter_does_not_poll_the_database_or_the_cache(submit, settings, monkeypatch):
    settings.ANALYSIS_WAIT_DB_CHECK = 30
    analysis = Analysis.objects.get(pk=submit().json()["id"])
    me = threading.get_ident()
    cache_reads, redis_commands = [], []
    backend = type(caches["default"])
    for method in ("get", "get_many", "has_key"):
        original = getattr(backend, method)

        def counted(self, *args, _original=original, **kwargs):
            if threading.get_ident() == me:
                cache_reads.append(args)
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(backend, method, counted)
    send_command = redis.connection.AbstractConnection.send_command

    def sent(self, *args, **kwargs):
        if threading.get_ident() == me:
            redis_commands.append(args)
        return send_command(self, *args, **kwargs)

    monkeypatch.setattr(redis.connection.AbstractConnection, "send_command", sent)

    started = time.monotonic()
    with CaptureQueriesContext(connection) as queries:
        waited = waiting.analysis_wait(analysis=analysis, seconds=1)
    assert 0.9 < time.monotonic() - started < 2
    assert waited.status == Status.QUEUED
    assert cache_reads == [] and redis_commands == []
    # One read once subscribed (what finished before it), one when the time is up: no more.
    assert len(queries.captured_queries) <= 2, queries.captured_queries
    assert waiting._events == {}  # the waiter went away with its event


@pytest.mark.django_db(transaction=True)
def test_a_result_nobody_announced_is_found_by_the_database_backstop(submit, settings):
    settings.ANALYSIS_WAIT_DB_CHECK = 0.3
    analysis = Analysis.objects.get(pk=submit().json()["id"])

    def finish_silently() -> None:  # as if the announcement were lost
        try:
            time.sleep(0.5)
            Analysis.objects.filter(pk=analysis.pk).update(status=Status.SUCCEEDED)
        finally:
            connection.close()

    finisher = threading.Thread(target=finish_silently)
    finisher.start()
    started = time.monotonic()
    waited = waiting.analysis_wait(analysis=analysis, seconds=10)
    finisher.join()
    assert waited.status == Status.SUCCEEDED
    assert 0.4 < time.monotonic() - started < 2


def _dead_redis() -> redis.Redis:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # Built like django-redis builds its client (on a pool: no retries), without the breaker,
    # which is one per process and would refuse Redis to the tests that follow.
    pool = redis.ConnectionPool(port=port, socket_connect_timeout=0.2, socket_timeout=0.2)
    return redis.Redis(connection_pool=pool)


@pytest.mark.django_db(transaction=True)
def test_with_redis_down_announcing_never_fails_and_the_hub_lives_on(
    submit, settings, monkeypatch, hub, caplog
):
    caplog.set_level("WARNING", logger="parecer.analyses")
    dead = _dead_redis()
    attempts = []

    def dead_client() -> redis.Redis:
        attempts.append(time.monotonic())
        return dead

    monkeypatch.setattr(waiting, "_redis_client", lambda: dead)
    down = hub(dead_client)
    analysis = Analysis.objects.get(pk=submit().json()["id"])
    settings.ANALYSIS_WAIT_DB_CHECK = 30
    announced = []

    def finish() -> None:
        try:
            time.sleep(0.5)
            Analysis.objects.filter(pk=analysis.pk).update(status=Status.SUCCEEDED)
            started = time.monotonic()
            waiting.analysis_done_announce(analysis.pk)  # must not raise
            announced.append(time.monotonic() - started)
        finally:
            connection.close()

    finisher = threading.Thread(target=finish)
    finisher.start()
    started = time.monotonic()
    waited = waiting.analysis_wait(analysis=analysis, seconds=10)
    finisher.join()
    assert waited.status == Status.SUCCEEDED
    assert time.monotonic() - started < 3  # woken in this process, whatever Redis does
    assert announced and announced[0] < 1
    assert "analysis_announce_failed" in caplog.text

    _until(lambda: len(attempts) >= 3)  # retried, with a backoff: 0.5 s, then 1 s
    assert attempts[2] - attempts[1] > attempts[1] - attempts[0] > 0.4
    assert down._thread.is_alive() and not down.listening.is_set()
    assert caplog.text.count("analysis_waiter_hub_disconnected") == 1  # once per outage


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_the_hub_resubscribes_after_redis_drops_it_and_wakes_waiters_again(
    submit, settings, hub, caplog
):
    caplog.set_level("WARNING", logger="parecer.analyses")
    settings.ANALYSIS_WAIT_DB_CHECK = 30
    fresh = hub(waiting._redis_client)
    fresh.ensure_started()
    _until(fresh.listening.is_set)
    address = "{}:{}".format(*fresh._pubsub.connection._sock.getsockname()[:2])
    admin = waiting._redis_client()
    assert admin.client_kill(address)  # what Redis restarting does to the subscription
    _until(lambda: not fresh.listening.is_set())
    _until(fresh.listening.is_set)
    assert caplog.text.count("analysis_waiter_hub_disconnected") == 1

    analysis = Analysis.objects.get(pk=submit().json()["id"])

    def finish_elsewhere() -> None:  # another process: only its PUBLISH reaches this one
        try:
            time.sleep(0.5)
            Analysis.objects.filter(pk=analysis.pk).update(status=Status.SUCCEEDED)
            admin.publish(waiting._channel(), str(analysis.pk))
        finally:
            connection.close()

    finisher = threading.Thread(target=finish_elsewhere)
    finisher.start()
    started = time.monotonic()
    waited = waiting.analysis_wait(analysis=analysis, seconds=10)
    finisher.join()
    assert waited.status == Status.SUCCEEDED
    assert time.monotonic() - started < 1.5


@pytest.mark.django_db(transaction=True)
def test_an_analysis_deleted_while_waited_on_is_a_404_for_the_waiter(
    client, caller, submit, settings
):
    settings.ANALYSIS_WAIT_DB_CHECK = 60  # the deletion's announcement wakes the waiter
    analysis_id = submit().json()["id"]

    def delete_later() -> None:
        time.sleep(0.5)
        from django.test import Client

        assert Client().delete(f"/api/v1/analyses/{analysis_id}", **caller[1]).status_code == 204
        connection.close()

    deleter = threading.Thread(target=delete_later)
    deleter.start()
    started = time.monotonic()
    response = get(client, f"/analyses/{analysis_id}?wait=20", **caller[1])
    elapsed = time.monotonic() - started
    deleter.join()

    assert_error(response, 404, "not_found")
    assert 0.4 < elapsed < 3
    assert not Analysis.objects.filter(pk=analysis_id).exists()
