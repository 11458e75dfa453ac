"""The database breaks: stopped under load, a long table lock, its connections exhausted."""

import os
import subprocess
import time

from checks import (
    DB_OUTAGE_SECONDS,
    LOCK_BUDGET,
    LOCK_SECONDS,
    POOL_BUDGET,
    api_checks,
    live_check,
)
from load import Load, summary
from scenarios_tasks import request_reset, wait_status
from services import DB_NAME, PG_PORT, TaskWorker


def database_outage(suite) -> tuple[dict, list]:
    load = Load(token=suite.token, password=suite.admin_password).start()
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
        "control": summary(samples, "control"),
        "ready_during": summary(samples, "ready", since=down, until=up),
        "recovery_s": round(recovery, 2),
    }
    p99 = sorted(s.seconds for s in during)[int(0.99 * len(during))] if during else 0
    checks = [
        *api_checks(samples, "db outage"),
        ("db outage: p99 < pool budget + 1 s", p99 < POOL_BUDGET + 1, round(p99, 2)),
        (
            "db outage: no response slower than budget + 1 s",
            worst < POOL_BUDGET + 1,
            round(worst, 2),
        ),
        live_check(samples, "db outage"),
        ("db outage: recovered within 5 s of the restart", recovery < 5, round(recovery, 2)),
    ]
    return figures, checks


def table_lock(suite) -> tuple[dict, list]:
    # 2 writers: even both on one worker leave it 2 of its 4 threads. With as many blocked
    # writers as a worker has threads, readers queue behind them there (docs/operations.md).
    load = Load(
        token=suite.token,
        password=suite.admin_password,
        writers=int(os.environ.get("FAULTS_LOCK_WRITERS", "2")),
    ).start()
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
            DB_NAME,
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
        "control": summary(samples, "control"),
    }
    checks = [
        *api_checks(samples, "table lock"),
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
        live_check(samples, "table lock"),
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
                    f"dbname={DB_NAME} connect_timeout=2"
                )
            )
        except psycopg.OperationalError:
            break
    load = Load(token=suite.token, password=suite.admin_password, clients=8, writers=2).start()
    newcomer = TaskWorker(suite.env, suite.root / "worker-exhausted.log")
    time.sleep(8)
    survived = newcomer.alive()
    for connection in held:
        connection.close()
    released = time.monotonic()
    time.sleep(4)
    samples = load.stop()
    suite.writes += [s for s in samples if s.kind == "write"]
    task_id = request_reset(suite)
    done = wait_status(suite, task_id, {"SUCCESSFUL", "FAILED"}, 20)
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
        *api_checks(samples, "connections exhausted"),
        ("connections exhausted: a worker started meanwhile survives", survived, survived),
        (
            "connections exhausted: tasks run again once released",
            done["status"] == "SUCCESSFUL",
            done["status"],
        ),
        live_check(samples, "connections exhausted"),
    ]
    return figures, checks
