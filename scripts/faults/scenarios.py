"""The scenarios: each breaks one thing under load and returns its figures and its checks
(name, passed, detail). Outages are shortened to what still proves the point (see run.py)."""

import http.client
import json
import os
import signal
import subprocess
import time
import urllib.parse
import urllib.request

from load import Load, summary
from services import PG_PORT, WEB_PORT, Redis, TaskWorker

DB_OUTAGE_SECONDS = float(os.environ.get("FAULTS_DB_OUTAGE", "15"))
LOCK_SECONDS = float(os.environ.get("FAULTS_LOCK", "12"))
REDIS_OUTAGE_SECONDS = float(os.environ.get("FAULTS_REDIS_OUTAGE", "6"))
POOL_BUDGET = 3.0  # DB_POOL_TIMEOUT: the longest a request waits for a connection
LOCK_BUDGET = 2.0  # DB_LOCK_TIMEOUT for web requests
TASKS_TABLE = "django_tasks_database_dbtaskresult"


def _api_checks(samples, label: str) -> list[tuple]:
    api = [s for s in samples if s.kind in ("read", "write")]
    bad = sorted({s.code for s in api if s.code and (s.code == "not_enveloped" or s.status == 500)})
    client = sorted({s.code for s in api if s.code and s.code.startswith("client:")})
    return [
        (f"{label}: every API error is an envelope, no 500", not bad, bad or "ok"),
        (f"{label}: no client-side timeout or reset", not client, client or "ok"),
    ]


def _live_check(samples, label: str) -> tuple:
    live = summary(samples, "live")
    return (
        f"{label}: /health/live p99 < 100 ms",
        live["p99_ms"] < 100 and live["ok"] == live["n"],
        live,
    )


def database_outage(suite) -> tuple[dict, list]:
    load = Load(token=suite.token).start()
    time.sleep(3)
    down = time.monotonic()
    suite.postgres.stop()
    time.sleep(DB_OUTAGE_SECONDS)
    suite.postgres.start()
    up = time.monotonic()
    time.sleep(8)
    samples = load.stop()
    suite.writes += [s for s in samples if s.kind == "write"]
    during = [s for s in samples if s.kind in ("read", "write") and down <= s.started < up]
    worst = max((s.seconds for s in during), default=0)
    late_failures = [
        s.started - up
        for s in samples
        if s.kind in ("read", "write") and s.started >= up and s.status >= 500
    ]
    recovery = max(late_failures, default=0.0)
    figures = {
        "outage_s": DB_OUTAGE_SECONDS,
        "read_during": summary(samples, "read", since=down, until=up),
        "write_during": summary(samples, "write", since=down, until=up),
        "live": summary(samples, "live"),
        "ready_during": summary(samples, "ready", since=down, until=up),
        "recovery_s": round(recovery, 2),
    }
    p99 = sorted(s.seconds for s in during)[int(0.99 * len(during))] if during else 0
    checks = [
        *_api_checks(samples, "db outage"),
        ("db outage: p99 < pool budget + 1 s", p99 < POOL_BUDGET + 1, round(p99, 2)),
        (
            "db outage: no response slower than budget + 1 s",
            worst < POOL_BUDGET + 1,
            round(worst, 2),
        ),
        _live_check(samples, "db outage"),
        ("db outage: recovered within 5 s of the restart", recovery < 5, round(recovery, 2)),
    ]
    return figures, checks


def table_lock(suite) -> tuple[dict, list]:
    # 4 writers: fewer than the server's 8 threads. With more blocked writers than threads,
    # readers queue behind them (docs/operations.md gives that figure too).
    load = Load(token=suite.token, writers=4).start()
    time.sleep(2)
    holder = subprocess.Popen(
        [
            "psql",
            "-X",
            "-q",
            "-h",
            "127.0.0.1",
            "-p",
            str(PG_PORT),
            "-U",
            "postgres",
            "-d",
            "parecer_faults",
            "-c",
            f"BEGIN; LOCK TABLE audits_auditevent IN ACCESS EXCLUSIVE MODE; "
            f"SELECT pg_sleep({LOCK_SECONDS}); COMMIT;",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    locked = time.monotonic()
    holder.wait()
    released = time.monotonic()
    time.sleep(3)
    samples = load.stop()
    suite.writes += [s for s in samples if s.kind == "write"]
    writes = summary(samples, "write", since=locked + 0.5, until=released)
    reads = summary(samples, "read", since=locked + 0.5, until=released)
    figures = {
        "lock_s": LOCK_SECONDS,
        "write_during": writes,
        "read_during": reads,
        "live": summary(samples, "live"),
    }
    checks = [
        *_api_checks(samples, "table lock"),
        # A write waits at most twice: for the audit chain's head row (held by a writer stuck
        # on the table), then for the table itself; each wait is cut at DB_LOCK_TIMEOUT.
        (
            "table lock: no write beyond 2 lock waits + 1 s",
            writes["max_ms"] < (2 * LOCK_BUDGET + 1) * 1000,
            writes["max_ms"],
        ),
        (
            "table lock: writes give up with database_timeout",
            "database_timeout" in writes["codes"],
            writes["codes"],
        ),
        (
            "table lock: reads unaffected (all 2xx, p99 < 1 s)",
            reads["ok"] == reads["n"] and reads["p99_ms"] < 1000,
            reads,
        ),
        _live_check(samples, "table lock"),
    ]
    return figures, checks


class AdminBrowser:
    """Just enough of a browser for the admin: cookies by hand (production marks them Secure,
    which urllib's jar would not send over the suite's plain http) and the proxy's https header."""

    def __init__(self) -> None:
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, form: dict | None = None):
        headers = {"X-Forwarded-Proto": "https", "Referer": f"https://127.0.0.1:{WEB_PORT}{path}"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        started = time.monotonic()
        connection = http.client.HTTPConnection("127.0.0.1", WEB_PORT, timeout=10)
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        page = response.read().decode("utf-8", "replace")
        for name, value in response.getheaders():
            if name.lower() == "set-cookie":
                key, _, rest = value.partition("=")
                self.cookies[key] = rest.split(";", 1)[0]
        connection.close()
        kind = response.getheader("Content-Type", "")
        return response.status, kind, page, time.monotonic() - started


def admin_login(suite) -> AdminBrowser:
    browser = AdminBrowser()
    browser.request("GET", "/admin/login/")
    status, _, page, _ = browser.request(
        "POST",
        "/admin/login/",
        {
            "username": suite.admin_email,
            "password": suite.admin_password,
            "csrfmiddlewaretoken": browser.cookies.get("csrftoken", ""),
            "next": "/admin/",
        },
    )
    assert status == 302, (status, page[:500])
    status, _, page, _ = browser.request("GET", "/admin/")
    assert status == 200 and "Site administration" in page, (status, page[:300])
    return browser


def redis_outages(suite) -> tuple[dict, list]:
    browser = admin_login(suite)
    load = Load(token=suite.token).start()
    time.sleep(2)
    frozen = time.monotonic()
    suite.redis.freeze()
    time.sleep(1)
    admin_frozen = browser.request("GET", "/admin/")
    time.sleep(REDIS_OUTAGE_SECONDS - 1)
    suite.redis.thaw()
    thawed = time.monotonic()
    time.sleep(2)
    admin_after_thaw = browser.request("GET", "/admin/")
    killed = time.monotonic()
    suite.redis.stop()
    time.sleep(REDIS_OUTAGE_SECONDS)
    suite.redis = Redis(suite.root)
    suite.redis.start()
    restarted = time.monotonic()
    time.sleep(4)
    samples = load.stop()
    suite.writes += [s for s in samples if s.kind == "write"]
    late = [
        s.started - restarted
        for s in samples
        if s.kind in ("read", "write") and s.started >= restarted and s.status >= 500
    ]
    late += [
        s.started - thawed
        for s in samples
        if s.kind in ("read", "write") and thawed <= s.started < killed and s.status >= 500
    ]
    figures = {
        "outage_s": REDIS_OUTAGE_SECONDS,
        "write_frozen": summary(samples, "write", since=frozen, until=thawed),
        "read_frozen": summary(samples, "read", since=frozen, until=thawed),
        "write_stopped": summary(samples, "write", since=killed, until=restarted),
        "admin_frozen": {
            "status": admin_frozen[0],
            "type": admin_frozen[1],
            "ms": round(admin_frozen[3] * 1000),
        },
        "admin_after_thaw": admin_after_thaw[0],
        "recovery_s": round(max(late, default=0.0), 2),
        "live": summary(samples, "live"),
    }
    checks = [
        *_api_checks(samples, "redis"),
        (
            "redis frozen: admin answers an HTML 503 within 2 s",
            admin_frozen[0] == 503
            and admin_frozen[1].startswith("text/html")
            and admin_frozen[3] < 2,
            figures["admin_frozen"],
        ),
        (
            "redis thawed: the admin session is still signed in",
            admin_after_thaw[0] == 200 and "Site administration" in admin_after_thaw[2],
            admin_after_thaw[0],
        ),
        (
            "redis: no response slower than 2 s",
            max(figures[k]["max_ms"] for k in ("write_frozen", "read_frozen", "write_stopped"))
            < 2000,
            [figures[k]["max_ms"] for k in ("write_frozen", "read_frozen", "write_stopped")],
        ),
        ("redis: recovered within 2 s", figures["recovery_s"] < 2, figures["recovery_s"]),
        _live_check(samples, "redis"),
    ]
    return figures, checks


def web_worker_killed(suite) -> tuple[dict, list]:
    load = Load(token=suite.token).start()
    time.sleep(2)
    before = suite.gunicorn.worker_pids()
    os.kill(before[0], signal.SIGKILL)
    killed = time.monotonic()
    replaced_after = None
    while time.monotonic() - killed < 15:
        pids = suite.gunicorn.worker_pids()
        if len(pids) == len(before) and before[0] not in pids:
            replaced_after = time.monotonic() - killed
            break
        time.sleep(0.05)
    time.sleep(3)
    samples = load.stop()
    suite.writes += [s for s in samples if s.kind == "write"]
    api = [s for s in samples if s.kind in ("read", "write") and s.started >= killed - 1]
    resets = [s for s in api if s.code and s.code.startswith("client:")]
    late_resets = [s for s in resets if s.started > killed + 1]
    figures = {
        "replaced_after_s": replaced_after and round(replaced_after, 2),
        "client_resets": len(resets),
        "late_resets": len(late_resets),
        "read": summary(samples, "read", since=killed),
        "live": summary(samples, "live"),
    }
    checks = [
        (
            "web worker kill: gunicorn replaced it within 5 s",
            replaced_after is not None and replaced_after < 5,
            figures["replaced_after_s"],
        ),
        # Connections the killed worker held (in flight or kept alive) fail once each; a client
        # reconnecting is served by the other worker, then by the replacement.
        (
            "web worker kill: only connections open on it failed, at most one per client",
            len(resets) <= 32 and not late_resets,
            {"resets": len(resets), "late": len(late_resets)},
        ),
        ("web worker kill: no 500", not [s for s in api if s.status == 500], "ok"),
    ]
    return figures, checks


def _task_row(suite, task_id: str) -> dict:
    row = suite.postgres.psql(
        f"SELECT status, worker_ids FROM {TASKS_TABLE} WHERE id = '{task_id}'", "parecer_faults"
    )
    status, workers = row.split("|", 1)
    return {"status": status, "worker_ids": json.loads(workers)}


def _latest_reset_task(suite) -> str:
    return suite.postgres.psql(
        f"SELECT id FROM {TASKS_TABLE} WHERE task_path = 'accounts.tasks.password_reset_email_send'"
        " ORDER BY enqueued_at DESC LIMIT 1",
        "parecer_faults",
    )


def _request_reset(suite) -> str:
    body = json.dumps({"email": suite.admin_email}).encode()
    request = urllib.request.Request(
        f"http://127.0.0.1:{WEB_PORT}/api/v1/auth/password/reset",
        data=body,
        headers={"Content-Type": "application/json"},
    )
    assert urllib.request.urlopen(request, timeout=10).status == 202
    return _latest_reset_task(suite)


def _wait_status(suite, task_id: str, statuses: set[str], timeout: float) -> dict:
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
    task_id = _request_reset(suite)
    running = _wait_status(suite, task_id, {"RUNNING"}, 10)
    time.sleep(0.5)
    suite.workers[0].kill()
    killed = time.monotonic()
    suite.smtp.banner_delay = 0.0
    suite.workers[0] = TaskWorker(
        suite.env, suite.root / "worker.log"
    )  # the supervisor restarts it
    done = _wait_status(suite, task_id, {"SUCCESSFUL", "FAILED"}, 40)
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
    task_id = _request_reset(suite)
    _wait_status(suite, task_id, {"RUNNING"}, 10)
    suite.postgres.stop()
    time.sleep(3)
    suite.postgres.start()
    done = _wait_status(suite, task_id, {"SUCCESSFUL", "FAILED"}, 40)
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


def connections_exhausted(suite) -> tuple[dict, list]:
    import psycopg

    held = []
    while True:
        try:
            held.append(
                psycopg.connect(
                    f"host=127.0.0.1 port={PG_PORT} user=postgres "
                    "dbname=parecer_faults connect_timeout=2"
                )
            )
        except psycopg.OperationalError:
            break
    load = Load(token=suite.token, clients=8, writers=2).start()
    newcomer = TaskWorker(suite.env, suite.root / "worker-exhausted.log")
    time.sleep(8)
    survived = newcomer.alive()
    for connection in held:
        connection.close()
    released = time.monotonic()
    time.sleep(4)
    samples = load.stop()
    suite.writes += [s for s in samples if s.kind == "write"]
    task_id = _request_reset(suite)
    done = _wait_status(suite, task_id, {"SUCCESSFUL", "FAILED"}, 20)
    newcomer.stop()
    late = [
        s.started - released
        for s in samples
        if s.kind in ("read", "write") and s.started >= released and s.status >= 500
    ]
    figures = {
        "held_connections": len(held),
        "read": summary(samples, "read", until=released),
        "write": summary(samples, "write", until=released),
        "recovery_s": round(max(late, default=0.0), 2),
        "task_after": done["status"],
    }
    checks = [
        *_api_checks(samples, "connections exhausted"),
        ("connections exhausted: a worker started meanwhile survives", survived, survived),
        (
            "connections exhausted: tasks run again once released",
            done["status"] == "SUCCESSFUL",
            done["status"],
        ),
        _live_check(samples, "connections exhausted"),
    ]
    return figures, checks
