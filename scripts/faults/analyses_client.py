"""What the analyses scenarios drive and read: the API as a client (a prompt, the attempt budget,
submissions from client threads, /health as an operator) and the database's account of each
analysis (attempt rows, usage, audit events)."""

import http.client
import json
import threading
import time
import uuid

from load import Sample
from services import DB_NAME, WEB_PORT

PROMPT = "faults-summary"
FINAL = ("succeeded", "failed", "cancelled")


def api(suite, method: str, path: str, body=None, *, timeout: float = 10.0) -> tuple[int, dict]:
    """One JSON request as the suite's admin (a JWT): status and body, or (0, {}) when the
    connection failed."""
    headers = {"Authorization": f"Bearer {suite.token}"}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    connection = http.client.HTTPConnection("127.0.0.1", WEB_PORT, timeout=timeout)
    try:
        connection.request(method, path, body=data, headers=headers)
        response = connection.getresponse()
        payload = response.read()
        return response.status, json.loads(payload) if payload else {}
    finally:
        connection.close()


def prompt_ensure(suite) -> None:
    """The scenarios' prompt, created through the API once per run (409 `slug_taken`: there)."""
    status, body = api(
        suite,
        "POST",
        "/api/v1/prompts",
        {
            "slug": PROMPT,
            "name": "Fault suite summary",
            "version": {
                "messages": [{"role": "user", "content": "Summarise this case: {{ text }}"}],
                "variables_schema": {
                    "type": "object",
                    "properties": {"text": {"type": "string"}},
                    "required": ["text"],
                },
                "model": "gpt-4o-mini",
                "parameters": {"max_output_tokens": 64},
            },
        },
    )
    assert status == 201 or body["error"]["code"] == "slug_taken", (status, body)


def attempt_budget_set(suite, attempts: int) -> None:
    status, body = api(
        suite, "PUT", "/api/v1/configurations/analysis_attempt_budget", {"value": attempts}
    )
    assert status == 200 and body["value"] == attempts, (status, body)


def submit(suite, number: int) -> Sample:
    """POST one analysis. Every case's text has the same length, so every call that succeeds
    reports the same usage (the fake's tokens are four characters each)."""
    body = {"prompt": PROMPT, "variables": {"text": f"fault case {number:06d}"}}
    started = time.monotonic()
    try:
        status, reply = api(suite, "POST", "/api/v1/analyses", body)
    except (OSError, http.client.HTTPException) as exc:
        return Sample("submit", started, time.monotonic() - started, 0, f"client:{exc}")
    code = reply.get("error", {}).get("code") if status >= 400 else None
    return Sample("submit", started, time.monotonic() - started, status, code, reply.get("id"))


class Submitter:
    """``clients`` threads submitting analyses back to back, ``pause`` seconds apart."""

    def __init__(self, suite, *, clients: int = 2, pause: float = 0.5, first: int = 0) -> None:
        self.suite, self.clients, self.pause = suite, clients, pause
        self.samples: list[Sample] = []
        self._numbers = iter(range(first, first + 1_000_000))
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> "Submitter":
        for _ in range(self.clients):
            thread = threading.Thread(target=self._run, daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> list[Sample]:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=30)
        return self.samples

    def _run(self) -> None:
        while not self._stop.is_set():
            with self._lock:
                number = next(self._numbers)
            self.samples.append(submit(self.suite, number))
            self._stop.wait(self.pause)


class HealthWatch:
    """``GET /health`` as an operator (the metrics token shows each check) every ``pause`` s:
    (started, seconds, HTTP status, the LLM's reported status, each check's latency in ms)."""

    def __init__(self, suite, *, pause: float = 0.25) -> None:
        self.token, self.pause = suite.env["METRICS_TOKEN"], pause
        self.answers: list[tuple[float, float, int, str, dict]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> "HealthWatch":
        self._thread.start()
        return self

    def stop(self) -> list[tuple[float, float, int, str, dict]]:
        self._stop.set()
        self._thread.join(timeout=30)
        return self.answers

    def _run(self) -> None:
        while not self._stop.is_set():
            started, status, llm, latencies = time.monotonic(), 0, "no answer", {}
            connection = http.client.HTTPConnection("127.0.0.1", WEB_PORT, timeout=10)
            try:
                connection.request(
                    "GET", "/health", headers={"Authorization": f"Bearer {self.token}"}
                )
                response = connection.getresponse()
                status = response.status
                checks = json.loads(response.read())["checks"]
                llm = checks["llm"]["status"]
                latencies = {name: check["latency_ms"] for name, check in checks.items()}
            except (OSError, http.client.HTTPException, ValueError, KeyError):
                pass
            finally:
                connection.close()
            self.answers.append((started, time.monotonic() - started, status, llm, latencies))
            self._stop.wait(self.pause)


def _ids_sql(ids: list[str]) -> str:
    return ",".join(f"'{uuid.UUID(i)}'" for i in ids)  # parsed: only UUIDs reach the SQL


def statuses(suite, ids: list[str]) -> dict[str, int]:
    if not ids:
        return {}
    rows = suite.postgres.psql(
        f"SELECT status, count(*) FROM analyses_analysis WHERE id IN ({_ids_sql(ids)}) "
        "GROUP BY status",
        DB_NAME,
    )
    return {status: int(n) for status, n in (line.split("|") for line in rows.splitlines())}


def wait_final(suite, ids: list[str], timeout: float) -> dict[str, int]:
    """Poll until none of ``ids`` is queued or running (or ``timeout``); their statuses."""
    deadline = time.monotonic() + timeout
    while True:
        counts = statuses(suite, ids)
        if not counts.get("queued") and not counts.get("running"):
            return counts
        if time.monotonic() > deadline:
            return counts
        time.sleep(0.25)


def ledger(suite, ids: list[str]) -> list[dict]:
    """Each analysis as the database tells it: its row, its attempt rows, its audit events."""
    if not ids:
        return []
    rows = suite.postgres.psql(
        f"""
        SELECT a.id, a.status, a.attempts, coalesce(a.error->>'code', ''),
               a.input_tokens + a.output_tokens, a.reserved_tokens,
               count(t.id), count(t.id) FILTER (WHERE t.error IS NULL),
               coalesce(sum(t.input_tokens + t.output_tokens), 0),
               count(t.id) FILTER (WHERE t.error->>'code' = 'analysis_worker_lost'),
               (SELECT count(*) FROM audits_auditevent e
                 WHERE e.entity_id = a.id::text AND e.action = 'analysis.failed'),
               (SELECT count(*) FROM audits_auditevent e
                 WHERE e.entity_id = a.id::text AND e.action = 'analysis.created')
        FROM analyses_analysis a LEFT JOIN analyses_analysisattempt t ON t.analysis_id = a.id
        WHERE a.id IN ({_ids_sql(ids)})
        GROUP BY a.id
        """,
        DB_NAME,
    )
    names = [
        "id",
        "status",
        "attempts",
        "error",
        "tokens",
        "reserved",
        "attempt_rows",
        "succeeded_rows",
        "attempt_tokens",
        "lost_rows",
        "failed_events",
        "created_events",
    ]
    ledger = []
    for line in rows.splitlines():
        values = line.split("|")
        entry = dict(zip(names, values, strict=True))
        for name in names[2:]:
            if name != "error":
                entry[name] = int(entry[name])
        ledger.append(entry)
    return ledger


def attempts(suite, ids: list[str]) -> list[tuple[str, int, float, float, str]]:
    """Every attempt: (analysis, number, started, finished as epoch seconds, upstream status)."""
    if not ids:
        return []
    rows = suite.postgres.psql(
        "SELECT analysis_id, number, extract(epoch FROM started_at), "
        "extract(epoch FROM finished_at), coalesce(error->>'upstream_status', '') "
        f"FROM analyses_analysisattempt WHERE analysis_id IN ({_ids_sql(ids)}) "
        "ORDER BY analysis_id, number",
        DB_NAME,
    )
    return [
        (a, int(n), float(s), float(f), u)
        for a, n, s, f, u in (line.split("|") for line in rows.splitlines())
    ]


def last_finished(suite, ids: list[str]) -> float:
    """When the last of ``ids`` finished (epoch seconds; 0 when none has)."""
    if not ids:
        return 0.0
    row = suite.postgres.psql(
        "SELECT coalesce(max(extract(epoch FROM finished_at)), 0) FROM analyses_analysis "
        f"WHERE id IN ({_ids_sql(ids)})",
        DB_NAME,
    )
    return float(row)


def usage(suite) -> tuple[int, int]:
    """The admin's usage this month: (used tokens, reserved tokens)."""
    row = suite.postgres.psql(
        "SELECT coalesce(sum(m.used_tokens), 0), coalesce(sum(m.reserved_tokens), 0) "
        "FROM analyses_usagemonth m JOIN accounts_user u ON u.id = m.user_id "
        f"WHERE u.email = '{suite.admin_email}'",
        DB_NAME,
    )
    used, reserved = row.split("|")
    return int(used), int(reserved)


def tasks_pending(suite) -> int:
    """``analysis_run`` tasks still waiting or running (a re-queued duplicate included)."""
    return int(
        suite.postgres.psql(
            "SELECT count(*) FROM django_tasks_database_dbtaskresult "
            "WHERE task_path = 'analyses.tasks.analysis_run' AND status IN ('READY', 'RUNNING')",
            DB_NAME,
        )
    )
