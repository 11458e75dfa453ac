"""Analyses when the LLM breaks: the upstream failing, then gone, while clients submit; and an
analysis worker killed mid-call. The LLM is the fake OpenAI server (llm_standin.py); the database
(attempt rows, usage, audit events) says whether each analysis completed exactly once."""

import itertools
import time

import analyses_client as client
from checks import analyses_account_problems
from load import Sample, summary
from services import AnalysisWorker, manage

# The outage's three faces, one after the other: 503 + Retry-After, dropped connections, nothing
# listening. 13 s in all: with retries 0.5 s doubling to 3 s (services.app_environment), 20
# attempts span ~27 s on average (the shortest plausible draw ~17 s), so an analysis outlives the
# outage and succeeds once the LLM is back; with 2 attempts, one fails with llm_unavailable.
OUTAGE_503_S, OUTAGE_DROP_S, OUTAGE_STOPPED_S = 4.0, 4.0, 5.0
DOOMED_BUDGET, OUTAGE_BUDGET, KILL_BUDGET = 2, 20, 3
RETRY_AFTER_S = 1  # sent with each 503: no retry may come sooner
SUBMIT_P99_BUDGET_S = 1.0  # a submission never calls the LLM: admission, a row, a task
HEALTH_DETECT_S = 5.0  # HEALTH_LLM_PROBE_TTL (2 s in the suite) + the probe itself, with slack
SLOW_LLM_S = 3.0
DOOMED_COUNT, KILL_BURST = 3, 12


def _ids(samples: list[Sample]) -> list[str]:
    return [s.ref for s in samples if s.status == 202 and s.ref]


def _retry_gaps(suite, ids: list[str]) -> tuple[list[float], list[float]]:
    """Seconds from each failed attempt's end to the next attempt's start: after a 503 (which
    said Retry-After), and after the other failures."""
    after_503, other = [], []
    rows = client.attempts(suite, ids)
    for previous, following in itertools.pairwise(rows):
        if previous[0] != following[0]:
            continue
        gap = following[2] - previous[3]
        (after_503 if previous[4] == "503" else other).append(gap)
    return after_503, other


def _health_figures(answers, *, outage: float, recovered: float) -> dict:
    down = [a for a in answers if a[3] == "down"]
    detected = next((a[0] - outage for a in down if a[0] >= outage), None)
    settled = [a for a in answers if outage + HEALTH_DETECT_S <= a[0] < recovered]
    last_down = max((a[0] for a in down), default=recovered)
    seconds = sorted(a[1] for a in answers)
    slowest = sorted(answers, key=lambda a: a[1])[-3:]
    return {
        "n": len(answers),
        "statuses": sorted({a[2] for a in answers}),
        "p50_ms": round(seconds[len(seconds) // 2] * 1000) if seconds else 0,
        "p95_ms": round(seconds[int(0.95 * len(seconds))] * 1000) if seconds else 0,
        "max_ms": round(seconds[-1] * 1000) if seconds else 0,
        # (s since the outage began, ms, the LLM's status, each check's ms as the server saw it)
        "slowest": [(round(a[0] - outage, 1), round(a[1] * 1000), a[3], a[4]) for a in slowest],
        "down_after_s": detected and round(detected, 2),
        "not_down_in_outage": sum(1 for a in settled if a[3] != "down"),
        "ok_again_after_s": round(max(0.0, last_down - recovered), 2),
        "ok_at_end": bool(answers) and answers[-1][3] == "ok",
    }


def llm_upstream_outage(suite) -> tuple[dict, list]:
    worker = AnalysisWorker(suite.env, suite.root / "analysis-worker.log")
    client.prompt_ensure(suite)
    client.attempt_budget_set(suite, DOOMED_BUDGET)
    used_before, reserved_before = client.usage(suite)
    health = client.HealthWatch(suite).start()
    # Healthy first: the worker is up and the pipeline works end to end.
    warm_ids = _ids([client.submit(suite, n) for n in range(2)])
    warm = client.wait_final(suite, warm_ids, 30)
    time.sleep(1)
    outage = time.monotonic()
    suite.llm.behave(status=503, retry_after=RETRY_AFTER_S)
    # A budget of 2 attempts cannot outlive the outage: these fail, and say why.
    doomed_ids = _ids([client.submit(suite, n) for n in range(2, 2 + DOOMED_COUNT)])
    doomed = client.wait_final(suite, doomed_ids, 20)
    client.attempt_budget_set(suite, OUTAGE_BUDGET)
    submitter = client.Submitter(suite, first=1000).start()
    time.sleep(OUTAGE_503_S)
    suite.llm.behave(drop=True)
    time.sleep(OUTAGE_DROP_S)
    suite.llm.stop()
    time.sleep(OUTAGE_STOPPED_S)
    # The outage ends when the restart begins: the server answers before start() returns, and a
    # probe in that window is not an outage answer.
    recovered, recovered_at = time.monotonic(), time.time()
    suite.llm.start()
    time.sleep(3)
    samples = submitter.stop()
    outage_ids = _ids(samples)
    outage_final = client.wait_final(suite, outage_ids, 30)
    settled_after = client.last_finished(suite, outage_ids) - recovered_at
    answers = health.stop()
    worker_alive = worker.alive()
    worker.stop()

    ids = warm_ids + doomed_ids + outage_ids
    entries = client.ledger(suite, ids)
    by_id = {entry["id"]: entry for entry in entries}
    used_after, reserved_after = client.usage(suite)
    after_503, other_gaps = _retry_gaps(suite, ids)
    outage_entries = [by_id[i] for i in outage_ids if i in by_id]
    doomed_entries = [by_id[i] for i in doomed_ids if i in by_id]
    health_figures = _health_figures(answers, outage=outage, recovered=recovered)
    problems = analyses_account_problems(entries)
    submits = summary(samples, "submit")
    figures = {
        "outage_s": OUTAGE_503_S + OUTAGE_DROP_S + OUTAGE_STOPPED_S,
        "submit": submits,
        "warm": warm,
        "doomed": doomed,
        "outage_submissions": outage_final,
        "last_done_after_recovery_s": round(settled_after, 1),
        "attempts_max": max((e["attempts"] for e in outage_entries), default=0),
        "attempts_mean": round(
            sum(e["attempts"] for e in outage_entries) / max(1, len(outage_entries)), 1
        ),
        "retry_gap_after_503_min_s": round(min(after_503, default=0.0), 2),
        "retry_gap_other_mean_s": round(sum(other_gaps) / max(1, len(other_gaps)), 2),
        "health": health_figures,
        "usage_tokens": used_after - used_before,
    }
    checks = [
        (
            "llm outage: every submission answered 202, none 5xx",
            submits["n"] > 0 and submits["ok"] == submits["n"] and set(submits["codes"]) == {"202"},
            submits["codes"],
        ),
        (
            f"llm outage: submissions p99 < {SUBMIT_P99_BUDGET_S:g} s",
            submits["p99_ms"] < SUBMIT_P99_BUDGET_S * 1000,
            {k: submits[k] for k in ("p50_ms", "p99_ms", "max_ms")},
        ),
        # One probe per process per HEALTH_LLM_PROBE_TTL, in its own thread: an answer waits for
        # it HEALTH_LLM_PROBE_WAIT (1 s) at most, whatever the provider or the SDK's import does.
        (
            "llm outage: /health stays 200 (the LLM never fails readiness), p95 < 0.5 s, max < 2 s",
            health_figures["statuses"] == [200]
            and health_figures["p95_ms"] < 500
            and health_figures["max_ms"] < 2000,
            {k: health_figures[k] for k in ("statuses", "p50_ms", "p95_ms", "max_ms", "slowest")},
        ),
        (
            f"llm outage: /health says the LLM is down within {HEALTH_DETECT_S:g} s, all along",
            health_figures["down_after_s"] is not None
            and health_figures["down_after_s"] < HEALTH_DETECT_S
            and health_figures["not_down_in_outage"] == 0,
            {k: health_figures[k] for k in ("down_after_s", "not_down_in_outage")},
        ),
        (
            f"llm outage: /health says ok again within {HEALTH_DETECT_S:g} s of the recovery",
            health_figures["ok_again_after_s"] < HEALTH_DETECT_S and health_figures["ok_at_end"],
            health_figures["ok_again_after_s"],
        ),
        (
            f"llm outage: with {DOOMED_BUDGET} attempts, failed with llm_unavailable once spent",
            len(doomed_entries) == DOOMED_COUNT
            and all(
                (e["status"], e["error"], e["attempts"])
                == ("failed", "llm_unavailable", DOOMED_BUDGET)
                for e in doomed_entries
            ),
            [(e["status"], e["error"], e["attempts"]) for e in doomed_entries],
        ),
        (
            f"llm outage: with {OUTAGE_BUDGET} attempts, every analysis succeeded after recovery",
            warm == {"succeeded": 2}
            and outage_final == {"succeeded": len(outage_ids)}
            and len(outage_ids) > 0,
            {"warm": warm, "outage_submissions": outage_final},
        ),
        (
            f"llm outage: retries honour Retry-After ({RETRY_AFTER_S} s) and back off",
            bool(after_503)
            and min(after_503) >= RETRY_AFTER_S - 0.01
            # Without backoff the next claim would come at the worker's 0.2 s poll.
            and figures["retry_gap_other_mean_s"] >= 0.5
            and figures["attempts_max"] <= OUTAGE_BUDGET,
            {
                k: figures[k]
                for k in (
                    "retry_gap_after_503_min_s",
                    "retry_gap_other_mean_s",
                    "attempts_max",
                    "attempts_mean",
                )
            },
        ),
        (
            "llm outage: every analysis completed exactly once (attempts, usage, audit)",
            not problems and len(entries) == len(ids),
            problems[:5] or f"{len(entries)} analyses",
        ),
        (
            "llm outage: the month's usage is the analyses' usage, nothing left reserved",
            used_after - used_before == sum(e["tokens"] for e in entries)
            and reserved_after == reserved_before,
            {
                "used": used_after - used_before,
                "analyses": sum(e["tokens"] for e in entries),
                "reserved": reserved_after,
            },
        ),
        ("llm outage: the analysis worker kept running", worker_alive, worker_alive),
    ]
    return figures, checks


def _wait_tasks_drained(suite, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    while (pending := client.tasks_pending(suite)) and time.monotonic() < deadline:
        time.sleep(0.25)
    return pending


def analysis_worker_killed(suite) -> tuple[dict, list]:
    client.prompt_ensure(suite)
    client.attempt_budget_set(suite, KILL_BUDGET)
    suite.llm.behave(latency=SLOW_LLM_S)
    used_before, reserved_before = client.usage(suite)
    first = AnalysisWorker(suite.env, suite.root / "analysis-worker.log")
    ids = _ids([client.submit(suite, 2000 + n) for n in range(KILL_BURST)])
    deadline = time.monotonic() + 20  # the worker starts (Django, the SDK) and claims
    while client.statuses(suite, ids).get("running", 0) < KILL_BURST // 2:
        if time.monotonic() > deadline:
            break
        time.sleep(0.1)
    time.sleep(1)  # mid-call: the fake answers after 3 s
    running_at_kill = client.statuses(suite, ids).get("running", 0)
    first.kill()
    killed = time.monotonic()
    second = AnalysisWorker(suite.env, suite.root / "analysis-worker.log")  # its supervisor
    final = client.wait_final(suite, ids, 45)
    completed_after = time.monotonic() - killed
    pending = _wait_tasks_drained(suite, 15)
    suite.llm.behave()
    second.stop()

    entries = client.ledger(suite, ids)
    used_after, reserved_after = client.usage(suite)
    succeeded = [e for e in entries if e["status"] == "succeeded"]
    per_call = {e["tokens"] for e in succeeded}
    lost = sum(e["lost_rows"] for e in entries)
    problems = analyses_account_problems(entries)
    verify = manage(suite.env, "audit_verify", check=False)
    # A lost call is noticed when its lease lapses (12 s after the claim, in the suite), at the
    # next reaper run (every 2 s), then runs again (3 s): allow 8 s more on a loaded machine.
    bound = (
        int(suite.env["ANALYSIS_LEASE_SECONDS"])
        + int(suite.env["ANALYSIS_REAPER_INTERVAL"])
        + SLOW_LLM_S
        + 8
    )
    figures = {
        "submitted": len(ids),
        "running_at_kill": running_at_kill,
        "lost_calls": lost,
        "final": final,
        "completed_after_kill_s": round(completed_after, 1),
        "tasks_pending": pending,
        "tokens_per_call": sorted(per_call),
        "usage_tokens": used_after - used_before,
    }
    checks = [
        (
            "analysis worker kill: the kill cut calls short (recorded analysis_worker_lost)",
            running_at_kill > 0 and 0 < lost <= running_at_kill,
            {"running_at_kill": running_at_kill, "lost": lost},
        ),
        (
            f"analysis worker kill: every analysis succeeded within {bound:g} s",
            final == {"succeeded": KILL_BURST} and completed_after < bound,
            {"final": final, "after_s": round(completed_after, 1)},
        ),
        (
            "analysis worker kill: every analysis completed exactly once (attempts, usage, audit)",
            not problems and len(entries) == KILL_BURST,
            problems[:5] or f"{len(entries)} analyses",
        ),
        (
            "analysis worker kill: usage charged once (month = succeeded x one call)",
            len(per_call) == 1
            and used_after - used_before == len(succeeded) * next(iter(per_call))
            and reserved_after == reserved_before,
            {
                "used": used_after - used_before,
                "succeeded": len(succeeded),
                "per_call": sorted(per_call),
                "reserved": reserved_after,
            },
        ),
        ("analysis worker kill: no analysis task left waiting or running", pending == 0, pending),
        (
            "analysis worker kill: audit chain verifies",
            verify.returncode == 0,
            verify.stdout.strip().splitlines()[-1:],
        ),
    ]
    return figures, checks
