"""Liveness and readiness: ``/health/live`` does no I/O; ``/health`` checks what requests need."""

import threading
import time
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, JsonResponse

from config.metrics import metrics_token_presented
from core import context

# Computing the migration plan costs ~10 ms; once everything is applied it stays applied until the
# next deploy restarts the process, so a positive answer is remembered for a while.
_MIGRATIONS_OK_TTL = 60.0
_migrations_ok_until = 0.0


def _check_database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return "ok"


def _check_cache() -> str:
    # Two round trips, a write and a read of a value unique to this request; it expires by itself.
    token = context.current().request_id or "health"
    cache.set("health:probe", token, timeout=5)
    # Another probe may have written in between: any value proves the write and the read worked.
    if cache.get("health:probe") is None:
        raise RuntimeError("cache did not return what was written")
    return "ok"


def _check_migrations() -> str:
    global _migrations_ok_until
    if time.monotonic() < _migrations_ok_until:
        return "ok"
    executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
    pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if pending:
        raise RuntimeError(f"{len(pending)} unapplied migration(s)")
    _migrations_ok_until = time.monotonic() + _MIGRATIONS_OK_TTL
    return "ok"


def _check_task_backlog() -> str:
    from django_tasks_db.models import DBTaskResult

    backlog = DBTaskResult.objects.ready().count()  # due now (immediate or past run_after)
    if backlog > settings.HEALTH_TASK_BACKLOG_MAX:
        raise RuntimeError(f"{backlog} tasks waiting (max {settings.HEALTH_TASK_BACKLOG_MAX})")
    return f"{backlog} waiting"


CHECKS: dict[str, Callable[[], str]] = {
    "database": _check_database,
    "cache": _check_cache,
    "migrations": _check_migrations,
    "task_backlog": _check_task_backlog,
}


_NEEDS_DATABASE = frozenset({"migrations", "task_backlog"})
# Reported, never failing readiness: any signed-in user can enqueue tasks, so a backlog must not
# be able to take every replica out of rotation. Alert on it from /metrics or the report instead.
_REPORT_ONLY = frozenset({"task_backlog"})


def _reports() -> dict:
    """Information for operators that never fails readiness: a backlog or a failed task is not
    something restarting or unrouting this server would fix."""
    from core.task_worker import task_health_report

    try:
        return {"tasks": task_health_report()}
    except Exception as exc:
        return {"tasks": {"error": type(exc).__name__}}


class _LLMProbe:
    """The LLM's status as ``ok``, ``down`` or ``not_configured``, for /health's operators.

    A probe (GET /models, bounded by its own 2 s timeout) runs at most once per
    ``HEALTH_LLM_PROBE_TTL`` per process, in a thread of its own: the health checks of a busy
    server share one probe instead of hammering the provider, and an answer waits for it at most
    ``HEALTH_LLM_PROBE_WAIT``. A probe still running then (a provider that hangs, the SDK's first
    import) leaves the answer with the last status known (``unknown`` before the first) and
    ``stale: true``; the probe's result serves the next one.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._status, self._fresh_until = "", 0.0
        self._running: threading.Event | None = None

    def report(self) -> dict:
        started = time.perf_counter()
        if not settings.OPENAI_API_KEY:  # what llm.llm_configured() says, without importing the SDK
            status, stale, detail = "not_configured", False, "OPENAI_API_KEY is not set"
        else:
            status, stale = self._status_within(settings.HEALTH_LLM_PROBE_WAIT)
            detail = "the probe is still running" if stale else ""
        return {
            "status": status,
            "stale": stale,
            "detail": detail,
            "latency_ms": round((time.perf_counter() - started) * 1000, 2),
        }

    def forget(self) -> None:
        """The next report probes again (a probe still running is left to finish unheard)."""
        with self._lock:
            self._status, self._fresh_until, self._running = "", 0.0, None

    def _status_within(self, wait: float) -> tuple[str, bool]:
        with self._lock:
            if time.monotonic() < self._fresh_until:
                return self._status, False
            done = self._running
            if done is None:
                done = self._running = threading.Event()
                threading.Thread(
                    target=self._probe, args=(done,), name="health-llm-probe", daemon=True
                ).start()
        fresh = done.wait(wait)
        with self._lock:
            return self._status or "unknown", not fresh

    def _probe(self, done: threading.Event) -> None:
        status = "down"
        try:
            from analyses import llm

            status = llm.llm_status()  # anything but an answer from the server is "down"
        finally:
            with self._lock:
                if self._running is done:  # not forgotten meanwhile
                    self._status, self._running = status, None
                    self._fresh_until = time.monotonic() + settings.HEALTH_LLM_PROBE_TTL
            done.set()


llm_probe = _LLMProbe()


def live(request: HttpRequest) -> JsonResponse:
    """The process is up and serving; touches nothing else."""
    return JsonResponse({"status": "ok"})


def ready(request: HttpRequest) -> JsonResponse:
    """200 when every check passes, else 503. Anonymous callers get only the status; with
    ``Authorization: Bearer <METRICS_TOKEN>`` each check with its latency and the failing ones."""
    results: dict[str, dict] = {}
    failing: list[str] = []
    operator = metrics_token_presented(request)
    for name, check in CHECKS.items():
        if name in _REPORT_ONLY and not operator:
            continue  # it could not change the answer, and an anonymous caller is not shown it
        if name in _NEEDS_DATABASE and "database" in failing:
            # Without the database these would only wait out the same outage again.
            results[name] = {"status": "skipped", "detail": "database unavailable", "latency_ms": 0}
            continue
        started = time.perf_counter()
        try:
            detail, status = check(), "ok"
        except Exception as exc:
            first_line = str(exc).splitlines()[0][:200] if str(exc) else ""
            detail = f"{type(exc).__name__}: {first_line}"
            status = "warn" if name in _REPORT_ONLY else "fail"
            if status == "fail":
                failing.append(name)
        results[name] = {
            "status": status,
            "detail": detail,
            "latency_ms": round((time.perf_counter() - started) * 1000, 2),
        }
    body = {"status": "fail" if failing else "ok", "failing": failing, "checks": results}
    if not operator:
        body = {"status": body["status"]}  # internals only for operators (the metrics token)
    else:
        results["llm"] = llm_probe.report()
        if "database" not in failing:
            body["reports"] = _reports()
    response = JsonResponse(body, status=503 if failing else 200)
    if failing:
        response["Retry-After"] = "5"
    response["Cache-Control"] = "no-store"
    return response
