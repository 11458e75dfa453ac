"""What every scenario checks, and the budgets it checks against."""

import os

from load import summary

DB_OUTAGE_SECONDS = float(os.environ.get("FAULTS_DB_OUTAGE", "15"))
LOCK_SECONDS = float(os.environ.get("FAULTS_LOCK", "12"))
REDIS_OUTAGE_SECONDS = float(os.environ.get("FAULTS_REDIS_OUTAGE", "6"))
POOL_BUDGET = 3.0  # DB_POOL_TIMEOUT: the longest a request waits for a connection
LOCK_BUDGET = 2.0  # DB_LOCK_TIMEOUT for web requests
TASKS_TABLE = "django_tasks_database_dbtaskresult"


def api_checks(samples, label: str) -> list[tuple]:
    api = [s for s in samples if s.kind in ("read", "write")]
    bad = sorted({s.code for s in api if s.code and (s.code == "not_enveloped" or s.status == 500)})
    client = sorted({s.code for s in api if s.code and s.code.startswith("client:")})
    return [
        (f"{label}: every API error is an envelope, no 500", not bad, bad or "ok"),
        (f"{label}: no client-side timeout or reset", not client, client or "ok"),
    ]


def live_check(samples, label: str) -> tuple:
    """Liveness p99 under 100 ms; on a saturated machine (the control, a bare static-file
    process, is itself over 100 ms) at most 100 ms worse than the control."""
    live, control = summary(samples, "live"), summary(samples, "control")
    saturated = control["p99_ms"] >= 100
    passed = live["ok"] == live["n"] and (
        live["p99_ms"] < 100 or (saturated and live["p99_ms"] < control["p99_ms"] + 100)
    )
    detail = {
        "live": live,
        "control_p99_ms": control["p99_ms"],
        "control_max_ms": control["max_ms"],
    }
    return (f"{label}: /health/live p99 < 100 ms (or the machine's own + 100 ms)", passed, detail)


def analyses_account_problems(entries: list[dict]) -> list[str]:
    """Each analysis whose account is not 'completed once', and why: one successful call per
    success, a row per claim, its usage the sum of its attempts', one audit event each way."""
    problems = []
    for entry in entries:
        wrong = []
        expected_successes = 1 if entry["status"] == "succeeded" else 0
        if entry["status"] not in ("succeeded", "failed"):
            wrong.append(f"ended {entry['status']}")
        if entry["succeeded_rows"] != expected_successes:
            wrong.append(f"{entry['succeeded_rows']} successful calls recorded")
        if entry["attempt_rows"] != entry["attempts"]:
            wrong.append(f"{entry['attempt_rows']} attempt rows for {entry['attempts']} claims")
        if entry["tokens"] != entry["attempt_tokens"]:
            wrong.append(f"usage {entry['tokens']} != attempts' {entry['attempt_tokens']}")
        if entry["reserved"]:
            wrong.append(f"{entry['reserved']} tokens still reserved")
        if entry["created_events"] != 1:
            wrong.append(f"{entry['created_events']} analysis.created events")
        if entry["failed_events"] != (entry["status"] == "failed"):
            wrong.append(f"{entry['failed_events']} analysis.failed events")
        if wrong:
            problems.append(f"{entry['id'][:8]}: {', '.join(wrong)}")
    return problems
