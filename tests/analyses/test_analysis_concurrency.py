"""Races on the real PostgreSQL: one key -> one analysis, budgets under N concurrent submissions,
and a worker killed with SIGKILL mid-call (no double completion, no double usage)."""

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client

from analyses.models import Analysis, IdempotencyKey, UsageMonth
from tests.support.analyses_factories import prompt_create
from tests.support.http import post_json

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
ROOT = Path(__file__).resolve().parents[2]


def _concurrently(count: int, call) -> list:
    """Run ``call(i)`` in ``count`` threads released together; each has its own connection."""
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def run(index: int) -> None:
        try:
            barrier.wait()
            results[index] = call(index)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_two_concurrent_requests_with_one_key_make_one_analysis(caller):
    prompt_create()
    body = {"prompt": "summary", "variables": {"text": "same body"}}
    headers = {**caller[1], "HTTP_IDEMPOTENCY_KEY": "twice-at-once"}

    responses = _concurrently(8, lambda i: post_json(Client(), "/analyses", body, **headers))

    assert [r.status_code for r in responses] == [202] * 8, [r.content for r in responses]
    assert len({r.json()["id"] for r in responses}) == 1
    assert Analysis.objects.count() == 1
    assert IdempotencyKey.objects.count() == 1
    usage = UsageMonth.objects.get(user=caller[0])
    assert usage.reserved_tokens == Analysis.objects.get().reserved_tokens  # reserved once


def test_concurrent_submissions_admit_only_what_fits_the_budget(caller, admin):
    from prompts.configuration import config_set

    prompt_create()
    body = {"prompt": "summary", "variables": {"text": "x" * 40}}
    first = post_json(Client(), "/analyses", body, **caller[1])
    per_request = Analysis.objects.get(pk=first.json()["id"]).reserved_tokens
    config_set(key="budget_monthly_tokens", value=per_request * 5, actor=admin)

    responses = _concurrently(12, lambda i: post_json(Client(), "/analyses", body, **caller[1]))

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [202] * 4 + [429] * 8
    refused = next(r for r in responses if r.status_code == 429).json()["error"]
    assert refused["code"] == "budget_exceeded"
    assert Analysis.objects.count() == 5
    usage = UsageMonth.objects.get(user=caller[0])
    assert usage.reserved_tokens == per_request * 5  # never over the budget
    assert usage.reserved_tokens == sum(a.reserved_tokens for a in Analysis.objects.all())


def _worker(fake_base_url: str, lease_seconds: int) -> subprocess.Popen:
    """``manage.py analysis_worker`` in a child process on the test database and the fake LLM."""
    db = settings.DATABASES["default"]
    url = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    script = (
        "import django; django.setup()\n"
        "from django.conf import settings\n"
        f"settings.OPENAI_API_KEY = 'sk-test'; settings.OPENAI_BASE_URL = {fake_base_url!r}\n"
        f"settings.ANALYSIS_LEASE_SECONDS = {lease_seconds}\n"
        "from django.core.management import call_command\n"
        "call_command('analysis_worker', threads=2, interval=0.1)\n"
    )
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "config.settings.test"}
    return subprocess.Popen(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _until(predicate, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("timed out")


def test_a_worker_killed_mid_call_is_replaced_and_the_analysis_completes_once(caller, fake_openai):
    from analyses.tasks import analyses_reap

    prompt_create()
    fake_openai.script(latency=60)  # the first call hangs: the worker is killed inside it
    response = post_json(
        Client(), "/analyses", {"prompt": "summary", "variables": {"text": "x"}}, **caller[1]
    )
    analysis_id = response.json()["id"]

    first = _worker(fake_openai.base_url, lease_seconds=2)
    try:
        _until(lambda: len([r for r in fake_openai.requests if r["method"] == "POST"]) == 1)
        assert Analysis.objects.get(pk=analysis_id).status == "running"
        first.send_signal(signal.SIGKILL)
        first.wait(5)
    finally:
        first.kill()

    time.sleep(2.2)  # the lease lapses
    assert analyses_reap.call() == {"requeued": 1, "finished": 0, "orphans": 0}
    second = _worker(fake_openai.base_url, lease_seconds=30)
    try:
        _until(lambda: Analysis.objects.get(pk=analysis_id).status == "succeeded")
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(10)

    analysis = Analysis.objects.get(pk=analysis_id)
    assert analysis.attempts == 2
    lost, ok = analysis.attempt_rows.order_by("number")
    assert lost.error["code"] == "analysis_worker_lost"
    assert ok.error is None and ok.output_tokens == analysis.output_tokens > 0
    usage = UsageMonth.objects.get(user=caller[0])
    assert usage.used_tokens == analysis.input_tokens + analysis.output_tokens  # once
    assert usage.reserved_tokens == 0
    assert len([r for r in fake_openai.requests if r["method"] == "POST"]) == 2
