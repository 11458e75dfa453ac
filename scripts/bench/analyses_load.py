"""`make bench-analyses`: submit throughput and end-to-end analyses/s against a 2 s fake upstream.

Production settings (gunicorn, PostgreSQL, Redis), the fake OpenAI server answering every call
after BENCH_LLM_LATENCY seconds. Rows printed:

  e2e W x T   BENCH_ANALYSES analyses submitted at once over HTTP from 64 client threads
              (submit req/s), then W `analysis_worker`
              processes with T threads: analyses/s (first claim -> last finish), % of the ideal
              W*T/latency, queue wait p95 of the first W*T (a slot was free) and of all, worker RSS

Run from the repository root with the environment of scripts/bench/analyses.sh.
"""

import json
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import django

django.setup()

from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.models import Role, User  # noqa: E402
from accounts.services.api_keys import api_key_create  # noqa: E402
from analyses.models import Analysis  # noqa: E402
from prompts.models import Prompt, PromptLabel, PromptVersion  # noqa: E402

PY = sys.executable
PORT = int(os.environ.get("BENCH_PORT", "8200"))
BASE = f"http://127.0.0.1:{PORT}"
COUNT = int(os.environ.get("BENCH_ANALYSES", "500"))
LATENCY = float(os.environ.get("BENCH_LLM_LATENCY", "2"))
THREADS = int(os.environ.get("BENCH_WORKER_THREADS", "32"))
WORKERS = [int(n) for n in os.environ.get("BENCH_WORKERS", "1,2,4").split(",")]
BODY = {"prompt": "bench", "variables": {"text": "Parecer bench text."}}


def fixtures() -> str:
    user = User.objects.filter(email="bench-analyses@example.com").first() or (
        User.objects.create_user(
            email="bench-analyses@example.com", password="bench-pass-1234", role=Role.USER
        )
    )
    # API keys need a verified address, and a user holds at most API_KEYS_MAX_ACTIVE of them.
    User.objects.filter(pk=user.pk).update(email_verified_at=timezone.now())
    user.refresh_from_db()
    user.api_keys.all().delete()
    if not Prompt.objects.filter(slug="bench").exists():
        prompt = Prompt.objects.create(slug="bench", name="Bench")
        version = PromptVersion(
            prompt=prompt,
            number=1,
            kind="chat",
            messages=[{"role": "user", "content": "{{ text }}"}],
            variables_schema={"type": "object", "properties": {"text": {"type": "string"}}},
            model="gpt-4o-mini",
            parameters={"max_output_tokens": 64},
        )
        version.save()
        PromptLabel.objects.create(prompt=prompt, name="production", version=version)
    _, secret = api_key_create(user=user, name="bench", scope="read+write")
    return secret


def clear() -> None:
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE analyses_analysis, django_tasks_database_dbtaskresult CASCADE")
        cursor.execute("TRUNCATE analyses_usagemonth")


def post(key: str) -> int:
    request = urllib.request.Request(  # noqa: S310 - our own http:// server
        f"{BASE}/api/v1/analyses",
        data=json.dumps(BODY).encode(),
        headers={"Content-Type": "application/json", "X-API-Key": key},
    )
    with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
        return response.status


def submit_burst(key: str, count: int, connections: int = 64) -> float:
    """``count`` POSTs from ``connections`` threads at once; returns req/s."""
    todo = list(range(count))
    lock = threading.Lock()
    failures = []

    def run() -> None:
        while True:
            with lock:
                if not todo:
                    return
                todo.pop()
            try:
                if post(key) != 202:
                    failures.append(1)
            except Exception:
                failures.append(1)

    started = time.perf_counter()
    threads = [threading.Thread(target=run) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        print(f"  ({len(failures)} submissions failed)")
    return count / (time.perf_counter() - started)


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def p95(values: list[float]) -> float:
    if len(values) < 2:
        return values[0] if values else 0.0
    return statistics.quantiles(values, n=20)[-1]


def start_workers(count: int, threads: int) -> list[subprocess.Popen]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return [
        subprocess.Popen(  # noqa: S603 - our own command line
            [PY, "manage.py", "analysis_worker", "--threads", str(threads), "--interval", "0.1"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(count)
    ]


def stop_workers(procs: list[subprocess.Popen]) -> None:
    for proc in procs:
        proc.send_signal(signal.SIGTERM)
    for proc in procs:
        proc.wait(30)


def queue_wait_probe(key: str, threads: int, count: int = 40) -> None:
    """Queue wait while a slot is free: one idle worker, analyses submitted one at a time, paced
    so that at most half of its threads are busy (each call takes LATENCY)."""
    clear()
    procs = start_workers(1, threads)
    try:
        time.sleep(3)  # the worker is up and polling
        for _ in range(count):
            post(key)
            time.sleep(max(0.1, 2 * LATENCY / threads))
        while Analysis.objects.exclude(status__in=("succeeded", "failed")).exists():
            time.sleep(0.5)
    finally:
        stop_workers(procs)
    waits = list(Analysis.objects.values_list("queue_wait_ms", flat=True))
    print(
        f"queue wait, slot free: p50 {statistics.median(waits):.0f} ms, p95 {p95(waits):.0f} ms, "
        f"max {max(waits)} ms ({count} analyses, 1 worker x {threads})",
        flush=True,
    )


def e2e(key: str, workers: int, threads: int) -> None:
    clear()
    rate = submit_burst(key, COUNT)
    launched = timezone.now()
    procs = start_workers(workers, threads)
    deadline = time.monotonic() + 600
    peak = 0.0
    try:
        while time.monotonic() < deadline:
            peak = max(peak, max(rss_mib(p.pid) for p in procs))
            left = Analysis.objects.exclude(status__in=("succeeded", "failed")).count()
            if left == 0:
                break
            time.sleep(0.5)
    finally:
        stop_workers(procs)
    rows = list(
        Analysis.objects.order_by("started_at").values_list(
            "started_at", "finished_at", "created_at", "status"
        )
    )
    failed = sum(1 for row in rows if row[3] != "succeeded")
    first = min(row[0] for row in rows)
    last = max(row[1] for row in rows)
    seconds = (last - first).total_seconds()
    per_s = len(rows) / seconds
    ideal = workers * threads / LATENCY
    # Waits counted from when the workers started (the burst was submitted before them).
    waits = [(row[0] - max(row[2], launched)).total_seconds() * 1000 for row in rows]
    slot_free = waits[: workers * threads]
    print(
        f"e2e {workers} x {threads:<3} submit {rate:6.0f} req/s (64 threads) | {per_s:6.1f} "
        f"analyses/s ({100 * per_s / ideal:5.1f}% of {ideal:.0f}/s) | claim after start p95: "
        f"first {workers * threads} {p95(slot_free):5.0f} ms, all {p95(waits):6.0f} ms | RSS peak "
        f"{peak:5.0f} MiB | failed {failed}",
        flush=True,
    )


if __name__ == "__main__":
    key = fixtures()
    print(f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}; fake LLM {LATENCY}s", flush=True)
    queue_wait_probe(key, THREADS)
    for workers in WORKERS:
        e2e(key, workers, THREADS)
    clear()
