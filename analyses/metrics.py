"""Prometheus metrics of analyses; ``/metrics`` (config/metrics.py) exposes the default registry.

Counters and histograms are observed where things happen (submission, execution); the gauges of
current state (analyses by status, queue depth) are read from the database at scrape time.
"""

import contextlib

from prometheus_client import Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import REGISTRY, Collector

CREATED = Counter("parecer_analyses_created_total", "Analyses admitted.", ["cache_hit"])
FINISHED = Counter("parecer_analyses_finished_total", "Analyses finished.", ["status"])
QUEUE_WAIT = Histogram(
    "parecer_analysis_queue_wait_seconds",
    "Time from queued to claimed by a worker.",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
)
LLM_LATENCY = Histogram(
    "parecer_llm_call_duration_seconds",
    "LLM call latency.",
    ["model", "outcome"],
    buckets=(0.25, 0.5, 1, 2, 4, 8, 15, 30, 60, 120),
)
TOKENS = Counter("parecer_llm_tokens_total", "Tokens used.", ["model", "kind"])
COST = Counter("parecer_llm_cost_usd_total", "Cost in USD (from the price table).", ["model"])
RETRIES = Counter("parecer_analysis_retries_total", "Attempts retried, by error.", ["code"])


def analysis_created(analysis) -> None:
    CREATED.labels(str(analysis.cache_hit).lower()).inc()


def analysis_finished(analysis) -> None:
    FINISHED.labels(analysis.status).inc()


def attempt_observed(*, model: str, outcome: str, latency_ms: int | None, usage, cost) -> None:
    if latency_ms is not None:
        LLM_LATENCY.labels(model, outcome).observe(latency_ms / 1000)
    if usage is not None:
        for kind in ("input_tokens", "cached_input_tokens", "output_tokens", "reasoning_tokens"):
            value = getattr(usage, kind)
            if value:
                TOKENS.labels(model, kind.removesuffix("_tokens")).inc(value)
    if cost:
        COST.labels(model).inc(float(cost))  # a metric sample, not money: float is fine here


class _StateCollector(Collector):
    """Analyses by status and the queue's depth, counted at scrape time."""

    def describe(self):
        # Registering must not query the database (it would, to learn the names, without this).
        yield GaugeMetricFamily("parecer_analyses", "Analyses by status.", labels=["status"])
        yield GaugeMetricFamily("parecer_analyses_queue_depth", "Analyses waiting for a worker.")

    def collect(self):
        from django.db.models import Count

        from analyses.models import Analysis

        by_status = GaugeMetricFamily(
            "parecer_analyses", "Analyses by status (all time).", labels=["status"]
        )
        try:
            counts = Analysis.objects.values("status").annotate(n=Count("id")).order_by()
            rows = [(row["status"], row["n"]) for row in counts]
        except Exception:  # no database at scrape time: report nothing rather than fail /metrics
            return
        depth = 0
        for status, n in rows:
            by_status.add_metric([status], n)
            if status == "queued":
                depth = n
        yield by_status
        queue = GaugeMetricFamily("parecer_analyses_queue_depth", "Analyses waiting for a worker.")
        queue.add_metric([], depth)
        yield queue


_collector = _StateCollector()


def register_state_collector() -> None:
    """Called once from AnalysesConfig.ready()."""
    with contextlib.suppress(ValueError):  # already registered (ready() run twice)
        REGISTRY.register(_collector)
