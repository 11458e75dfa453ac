"""Single-request cost of each bench path, in process (no server, no concurrency): where time goes.

Run after `make bench` has created the bench database and .bench/env:
    scripts/bench/request_cost.sh
"""

import os
import time

import django

django.setup()

from django.test import Client  # noqa: E402

from audits.models import AuditEvent  # noqa: E402
from audits.schemas import AuditEventOut  # noqa: E402
from config.pagination import _count, _count_key, _page_queryset  # noqa: E402

ROUNDS = 300


def per_call_ms(call) -> float:
    call()
    started = time.perf_counter()
    for _ in range(ROUNDS):
        call()
    return (time.perf_counter() - started) / ROUNDS * 1000


client = Client(HTTP_HOST="127.0.0.1")
jwt = {"HTTP_AUTHORIZATION": "Bearer " + os.environ["BENCH_JWT"]}
key = {"HTTP_X_API_KEY": os.environ["BENCH_API_KEY"]}
invoice_paid = AuditEvent.objects.filter(action="invoice.paid").order_by("-sequence")
rows = list(invoice_paid[:20])
parts = {
    "GET /health/live": lambda: client.get("/health/live"),
    "GET /health": lambda: client.get("/health"),
    "GET /api/v1/auth/me (JWT)": lambda: client.get("/api/v1/auth/me", **jwt),
    "GET /api/v1/auth/me (API key)": lambda: client.get("/api/v1/auth/me", **key),
    "GET /api/v1/prompts/{slug} (resolve, cached)": lambda: client.get(
        f"/api/v1/prompts/{os.environ['BENCH_PROMPT']}", **jwt
    ),
    "GET /api/v1/analyses/{id} (cached)": lambda: client.get(
        f"/api/v1/analyses/{os.environ['BENCH_ANALYSIS_ID']}", **jwt
    ),
    "GET /api/v1/audits?action=invoice.paid": lambda: client.get(
        "/api/v1/audits?action=invoice.paid", **jwt
    ),
    "  the ORM's page (keys in a subquery, 1 query)": lambda: list(
        _page_queryset(invoice_paid, 0, 20)
    ),
    "  the ORM's count (cached above 1,000)": lambda: _count(
        key=lambda: _count_key(invoice_paid),
        queryset=lambda: invoice_paid,
        offset=0,
        page_length=20,
        page_size=20,
    ),
    "  of which: 20 events to JSON-ready dicts": lambda: [
        AuditEventOut.model_validate(row).model_dump(mode="json") for row in rows
    ],
}
for name, call in parts.items():
    print(f"{name:45s} {per_call_ms(call):7.3f} ms")
