"""Prometheus metrics: request count and latency by route and status, plus process metrics.

Under gunicorn with several workers, set PROMETHEUS_MULTIPROC_DIR (the gunicorn config does) so
``/metrics`` aggregates every worker instead of reporting the one that answered.
"""

import hmac
import os

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client import REGISTRY as DEFAULT_REGISTRY

REQUESTS = Counter(
    "parecer_http_requests_total", "HTTP requests served.", ["route", "method", "status"]
)
LATENCY = Histogram(
    "parecer_http_request_duration_seconds",
    "HTTP request latency.",
    ["route", "method", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)


def observe_request(*, route: str, method: str, status: int, seconds: float) -> None:
    """Count one request; the label set is bounded because routes are URL patterns."""
    labels = (route, method, str(status))
    REQUESTS.labels(*labels).inc()
    LATENCY.labels(*labels).observe(seconds)


def _registry() -> CollectorRegistry:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return registry
    return DEFAULT_REGISTRY


def metrics_token_presented(request: HttpRequest) -> bool:
    """``Authorization: Bearer <METRICS_TOKEN>`` (the scheme is required), with a token set."""
    token = settings.METRICS_TOKEN
    scheme, _, presented = request.headers.get("Authorization", "").partition(" ")
    return (
        bool(token)
        and scheme.lower() == "bearer"
        and hmac.compare_digest(presented.strip().encode(), token.encode())
    )


def metrics_view(request: HttpRequest) -> HttpResponse:
    """Prometheus text format, behind ``Authorization: Bearer <METRICS_TOKEN>``; off when unset."""
    from config.errors import error_response

    token = settings.METRICS_TOKEN
    if not token:
        return error_response(status=404, message="Metrics are disabled.")
    if not metrics_token_presented(request):
        return error_response(
            status=401,
            message="A valid metrics bearer token is required.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return HttpResponse(generate_latest(_registry()), content_type=CONTENT_TYPE_LATEST)
