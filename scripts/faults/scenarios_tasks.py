"""Task workers break mid-task: killed, or the database restarting under them."""

import json
import subprocess
import time
import urllib.error
import urllib.request

from checks import TASKS_TABLE
from services import DB_NAME, WEB_PORT, TaskWorker


def _task_row(suite, task_id: str) -> dict:
    row = suite.postgres.psql(
        f"SELECT status, worker_ids FROM {TASKS_TABLE} WHERE id = '{task_id}'", DB_NAME
    )
    status, workers = row.split("|", 1)
    return {"status": status, "worker_ids": json.loads(workers)}


def _latest_reset_task(suite) -> str:
    return suite.postgres.psql(
        f"SELECT id FROM {TASKS_TABLE} WHERE task_path = 'accounts.tasks.password_reset_email_send'"
        " ORDER BY enqueued_at DESC LIMIT 1",
        DB_NAME,
    )


def request_reset(suite) -> str:
    """POST a password reset like a client that honours 503 + Retry-After (up to 15 s)."""
    body = json.dumps({"email": suite.admin_email}).encode()
    deadline = time.monotonic() + 15
    while True:
        request = urllib.request.Request(
            f"http://127.0.0.1:{WEB_PORT}/api/v1/auth/password/reset",
            data=body,
            headers={"Content-Type": "application/json"},
        )
        try:
            assert urllib.request.urlopen(request, timeout=10).status == 202
            return _latest_reset_task(suite)
        except urllib.error.HTTPError as error:
            if error.code != 503 or time.monotonic() > deadline:
                raise
            time.sleep(1)


def wait_status(suite, task_id: str, statuses: set[str], timeout: float) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            row = _task_row(suite, task_id)
            if row["status"] in statuses:
                return row
        except subprocess.CalledProcessError:
            pass  # the database is restarting
        time.sleep(0.1)
    return _task_row(suite, task_id)


def _resets_sent(suite) -> int:
    # Only the admin's password resets: registrations under load send verification e-mails too.
    return sum(
        1
        for message in suite.smtp.messages
        if f"To: {suite.admin_email}" in message and "password" in message.lower()
    )


def task_worker_killed(suite) -> tuple[dict, list]:
    sent_before = _resets_sent(suite)
    suite.smtp.banner_delay = 3.0  # the task is mid-send when its worker dies
    task_id = request_reset(suite)
    running = wait_status(suite, task_id, {"RUNNING"}, 10)
    time.sleep(0.5)
    suite.workers[0].kill()
    killed = time.monotonic()
    suite.smtp.banner_delay = 0.0
    suite.workers[0] = TaskWorker(
        suite.env, suite.root / "worker.log"
    )  # the supervisor restarts it
    done = wait_status(suite, task_id, {"SUCCESSFUL", "FAILED"}, 40)
    completed_after = time.monotonic() - killed
    time.sleep(1)
    sent = _resets_sent(suite) - sent_before
    figures = {
        "first_claim": running,
        "final": done,
        "completed_after_kill_s": round(completed_after, 1),
        "emails_sent": sent,
    }
    checks = [
        ("task worker kill: the task completed", done["status"] == "SUCCESSFUL", done),
        (
            "task worker kill: on a new worker",
            len(set(done["worker_ids"])) == 2,
            done["worker_ids"],
        ),
        ("task worker kill: e-mail sent exactly once", sent == 1, sent),
    ]
    return figures, checks


def database_restart_during_task(suite) -> tuple[dict, list]:
    sent_before = _resets_sent(suite)
    suite.smtp.banner_delay = 4.0
    task_id = request_reset(suite)
    wait_status(suite, task_id, {"RUNNING"}, 10)
    suite.postgres.stop()
    time.sleep(3)
    suite.postgres.start()
    done = wait_status(suite, task_id, {"SUCCESSFUL", "FAILED"}, 40)
    suite.smtp.banner_delay = 0.0
    time.sleep(1)
    sent = _resets_sent(suite) - sent_before
    alive = all(worker.alive() for worker in suite.workers)
    figures = {"final": done, "emails_sent": sent, "workers_alive": alive}
    checks = [
        (
            "db restart during task: completed once",
            done["status"] == "SUCCESSFUL" and sent == 1,
            figures,
        ),
        ("db restart during task: workers still running", alive, alive),
    ]
    return figures, checks
