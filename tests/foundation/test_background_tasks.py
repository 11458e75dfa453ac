"""django.tasks on django-tasks-db, run by the real db_worker command."""

import subprocess
import sys
from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.tasks import TaskResultStatus
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from core import context
from tests.foundation.runner import REPO

pytestmark = pytest.mark.django_db


_HOUSEKEEPING = "accounts.tasks.expired_sessions_clear"


def _session(key: str, *, expires_in: timedelta) -> Session:
    return Session.objects.create(
        session_key=key, session_data="e30=", expire_date=timezone.now() + expires_in
    )


def test_housekeeping_clears_expired_sessions_and_schedules_its_next_run(
    run_tasks, audit_events, settings
):
    # Database sessions (the embedded default); with Redis, sessions expire in the cache itself.
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.db"
    _session("expired1", expires_in=timedelta(hours=-1))
    _session("expired2", expires_in=timedelta(minutes=-1))
    _session("live", expires_in=timedelta(hours=1))

    call_command("schedule_periodic", verbosity=0)
    run_tasks()

    assert list(Session.objects.values_list("session_key", flat=True)) == ["live"]
    # Other apps register periodic tasks of their own: look at this chain only.
    chain = DBTaskResult.objects.filter(task_path=_HOUSEKEEPING)
    done = chain.get(status=TaskResultStatus.SUCCESSFUL)
    assert done.return_value == {"removed": 2}
    waiting = chain.filter(status=TaskResultStatus.READY)
    assert waiting.count() == 1
    assert waiting.get().run_after > timezone.now() + timedelta(minutes=50)
    [event] = audit_events(action="sessions.expired_cleared")
    assert event.details == {"removed": 2}
    assert event.source == "task"


def test_scheduling_twice_keeps_one_chain(capsys):
    call_command("schedule_periodic")
    call_command("schedule_periodic")

    waiting = DBTaskResult.objects.filter(status=TaskResultStatus.READY)
    assert waiting.filter(task_path=_HOUSEKEEPING).count() == 1
    assert waiting.count() == len({row.task_path for row in waiting})  # one chain per task
    assert waiting.filter(task_path="core.tasks.tasks_recover").count() == 1  # the reaper
    assert "already scheduled" in capsys.readouterr().out


def test_a_task_runs_in_the_context_of_whoever_enqueued_it(run_tasks, monkeypatch):
    from accounts import tasks
    from accounts.services import housekeeping

    seen = []
    monkeypatch.setattr(
        housekeeping, "expired_sessions_clear", lambda: seen.append(context.current()) or 0
    )
    started_by = context.RequestContext(request_id="req-from-api", actor_user_id="u1", source="api")
    with context.bound(started_by):
        context.enqueue(tasks.expired_sessions_clear)

    run_tasks()

    [ctx] = seen
    assert ctx.request_id == "req-from-api"
    assert ctx.actor_user_id == "u1"
    assert ctx.source == "task"


def _database_url() -> str:
    db = settings.DATABASES["default"]
    port = db.get("PORT") or 5432
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{port}/{db['NAME']}"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_never_run_the_same_task_twice(tmp_path):
    from tests.foundation.tasks_for_tests import marker_append

    out = tmp_path / "markers.txt"
    markers = [f"m{n:03d}" for n in range(60)]
    for marker in markers:
        marker_append.enqueue(path=str(out), marker=marker)
    env = {"DJANGO_SETTINGS_MODULE": "config.settings.test", "DATABASE_URL": _database_url()}
    command = [sys.executable, "manage.py", "db_worker", "--batch", "--no-reload",
               "--no-startup-delay", "--queue-name", "*", "-v0"]  # fmt: skip
    import os

    workers = [subprocess.Popen(command, cwd=REPO, env={**os.environ, **env}) for _ in range(2)]
    for worker in workers:
        assert worker.wait(timeout=120) == 0

    lines = out.read_text().splitlines()
    assert sorted(lines) == markers  # every task ran exactly once
    results = DBTaskResult.objects.filter(task_path__endswith="marker_append")
    assert set(results.values_list("status", flat=True)) == {TaskResultStatus.SUCCESSFUL}
    worker_ids = {result.worker_ids[0] for result in results}
    assert len(worker_ids) == 2  # both workers took part
