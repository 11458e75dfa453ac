"""``manage.py task_worker``: tasks under a lease, re-run once when their worker is gone, effects
done once, chains that cannot stop, a loop that outlives the database."""

import subprocess
import sys
import time
from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.tasks import TaskResultStatus
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from core.leases import lease_held
from core.task_worker import DurableWorker, task_leases_reap
from tests.foundation.runner import REPO
from tests.support.http import post_json

pytestmark = pytest.mark.django_db
RESET_TASK = "accounts.tasks.password_reset_email_send"


class WorkerKilled(BaseException):
    """Stands in for kill -9 between the task's effect and the saved result."""


@pytest.fixture
def task_worker(monkeypatch):
    # Keep the test's connection (the worker would close it inside the test transaction).
    monkeypatch.setattr("core.task_worker.close_old_connections", lambda: None)

    def run() -> None:
        call_command("task_worker", batch=True, startup_delay=False, verbosity=0, interval=0)

    return run


def _expire_lease(row: DBTaskResult) -> None:
    DBTaskResult.objects.filter(pk=row.pk).update(run_after=timezone.now() - timedelta(seconds=1))


def test_a_task_whose_worker_died_after_sending_runs_again_and_sends_nothing(
    client, user, task_worker, monkeypatch
):
    assert post_json(client, "/auth/password/reset", {"email": user.email}).status_code == 202
    with monkeypatch.context() as crash:

        def killed(*args, **kwargs):
            raise WorkerKilled

        crash.setattr(DurableWorker, "_finish", killed)
        with pytest.raises(WorkerKilled):
            task_worker()
    row = DBTaskResult.objects.get(task_path=RESET_TASK)
    assert row.status == TaskResultStatus.RUNNING  # what a killed worker leaves behind
    assert len(mail.outbox) == 1
    assert row.run_after > timezone.now()  # the lease, still valid: nobody steals it

    assert task_leases_reap() == {"requeued": 0, "failed": 0}
    _expire_lease(row)
    assert task_leases_reap() == {"requeued": 1, "failed": 0}
    task_worker()

    row.refresh_from_db()
    assert row.status == TaskResultStatus.SUCCESSFUL
    assert row.return_value == {"sent": False}  # the second run found the e-mail already sent
    assert len(row.worker_ids) == 2 and row.worker_ids[0] != row.worker_ids[1]
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [user.email]


def test_a_heartbeat_gives_its_connection_back_after_every_beat(monkeypatch):
    # Held between beats, a worker's N running tasks would lend N pooled connections to idle
    # heartbeats and starve the tasks themselves (the fault suite's analysis_worker_killed).
    events = []

    class Connections:
        def close_all(self) -> None:
            events.append("close")

    def renew(expires_at) -> int:
        events.append("renew")
        return 1

    monkeypatch.setattr("core.leases.connections", Connections())
    with lease_held(renew=renew, ttl=0.15) as lease:
        deadline = time.monotonic() + 5
        while lease.renewals < 3 and time.monotonic() < deadline:
            time.sleep(0.01)

    assert lease.renewals >= 3
    assert events == ["renew", "close"] * lease.renewals


def test_a_task_past_its_attempt_budget_fails_with_a_clear_error(settings):
    settings.TASK_MAX_ATTEMPTS = 2
    row = DBTaskResult.objects.create(
        status=TaskResultStatus.RUNNING,
        task_path=RESET_TASK,
        args_kwargs={"args": [], "kwargs": {"user_id": "x"}},
        backend_name="default",
        worker_ids=["w1", "w2"],
        run_after=timezone.now() - timedelta(seconds=5),
        started_at=timezone.now() - timedelta(minutes=2),
    )

    assert task_leases_reap() == {"requeued": 0, "failed": 1}

    row.refresh_from_db()
    assert row.status == TaskResultStatus.FAILED
    assert row.exception_class_path == "core.task_worker.LeaseExpired"
    assert "worker w2 stopped renewing its lease; gave up after 2 attempts" in row.traceback


def test_health_reports_stuck_and_failed_tasks_without_failing(client):
    common = {
        "task_path": RESET_TASK,
        "args_kwargs": {"args": [], "kwargs": {}},
        "backend_name": "default",
    }
    DBTaskResult.objects.create(
        status=TaskResultStatus.RUNNING,
        worker_ids=["gone"],
        run_after=timezone.now() - timedelta(minutes=5),
        **common,
    )
    DBTaskResult.objects.create(
        status=TaskResultStatus.FAILED,
        run_after=timezone.now(),
        finished_at=timezone.now(),
        **common,
    )

    response = client.get("/health", HTTP_AUTHORIZATION="Bearer test-metrics-token")

    body = response.json()
    assert response.status_code == 200, body
    assert body["reports"]["tasks"] == {"running": 1, "stuck": 1, "failed_last_hour": 1}


def test_the_reaper_restarts_a_periodic_chain_that_stopped(task_worker):
    call_command("schedule_periodic", verbosity=0)
    DBTaskResult.objects.filter(task_path="accounts.tasks.expired_sessions_clear").delete()
    # Only the reaper's chain is left; its run notices the missing housekeeping chain.
    DBTaskResult.objects.update(run_after=timezone.now())

    task_worker()

    recover = DBTaskResult.objects.get(
        task_path="core.tasks.tasks_recover", status=TaskResultStatus.SUCCESSFUL
    )
    assert "accounts.tasks.expired_sessions_clear" in recover.return_value["chains_started"]
    assert DBTaskResult.objects.filter(
        task_path="accounts.tasks.expired_sessions_clear",
        status__in=[TaskResultStatus.READY, TaskResultStatus.SUCCESSFUL],
    ).exists()


def test_the_worker_outlives_a_database_it_cannot_reach(tmp_path):
    env = {
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": "postgres://postgres@127.0.0.1:1/nowhere",
        "DB_POOL_TIMEOUT": "0.5",
        "PATH": "/usr/bin:/bin",
    }
    log = tmp_path / "worker.log"
    with log.open("w") as out:
        worker = subprocess.Popen(
            [sys.executable, "manage.py", "task_worker", "--no-startup-delay"],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 30
        while log.read_text().count("task_worker_database_error") < 3:
            assert worker.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        assert worker.poll() is None, log.read_text()
    finally:
        worker.terminate()
        worker.wait(timeout=10)


def test_a_reaper_run_whose_worker_died_is_requeued_by_the_next_worker(monkeypatch):
    """The reaper re-queues everyone else's lapsed runs; its own is re-queued by the worker loop."""
    monkeypatch.setattr("core.task_worker.close_old_connections", lambda: None)
    call_command("schedule_periodic", verbosity=0)
    DBTaskResult.objects.exclude(task_path="core.tasks.tasks_recover").delete()
    [killed_run] = DBTaskResult.objects.all()
    # What kill -9 during the reaper's own run leaves: RUNNING, its lease lapsed.
    DBTaskResult.objects.update(
        status=TaskResultStatus.RUNNING,
        started_at=timezone.now() - timedelta(minutes=5),
        worker_ids=["killed-worker"],
        run_after=timezone.now() - timedelta(seconds=1),
    )

    call_command("task_worker", max_tasks=1, startup_delay=False, verbosity=0, interval=0)

    recover = DBTaskResult.objects.get(pk=killed_run.pk)
    assert recover.status == TaskResultStatus.SUCCESSFUL
    assert recover.worker_ids[0] == "killed-worker" and len(recover.worker_ids) == 2
    # ...and the chain goes on: its next run is waiting.
    assert DBTaskResult.objects.filter(
        task_path="core.tasks.tasks_recover", status=TaskResultStatus.READY
    ).exists()
