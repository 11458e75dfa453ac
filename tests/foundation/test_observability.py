"""Health, the JSON access log, request ids and /metrics."""

import json

import pytest

from tests.foundation.runner import run_python

pytestmark = pytest.mark.django_db


def test_health_reports_each_check_with_latency(client):
    # The details are for operators: the metrics token (config/settings/test.py) shows them.
    response = client.get("/health", HTTP_AUTHORIZATION="Bearer test-metrics-token")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["failing"] == []
    assert set(body["checks"]) == {"database", "cache", "migrations", "task_backlog", "llm"}
    # The LLM is reported, not required: without OPENAI_API_KEY it is "not_configured".
    assert body["checks"].pop("llm")["status"] == "not_configured"
    for check in body["checks"].values():
        assert check["status"] == "ok"
        assert isinstance(check["latency_ms"], float | int)
    assert response["Cache-Control"] == "no-store"


def test_an_anonymous_readiness_probe_runs_only_the_checks_that_decide_it(client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get("/health")  # the migration plan, remembered once it is clean

    with CaptureQueriesContext(connection) as anonymous:
        assert client.get("/health").json() == {"status": "ok"}
    with CaptureQueriesContext(connection) as operator:
        response = client.get("/health", HTTP_AUTHORIZATION="Bearer test-metrics-token")

    assert [q["sql"] for q in anonymous.captured_queries] == ["SELECT 1"]
    # The backlog is reported to operators, never failing readiness: only they pay its count.
    assert response.json()["checks"]["task_backlog"]["status"] == "ok"
    assert any("django_tasks_database" in q["sql"] for q in operator.captured_queries)


def test_liveness_does_nothing_but_answer(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/health/live")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


LOG_SCRIPT = """
    import django
    django.setup()
    from django.test import Client
    from accounts.models import User
    from accounts.tokens import access_token_issue
    from django.core.management import call_command
    call_command("migrate", "-v0")
    user = User.objects.create_user(email="log@example.com", password="x")
    token, _ = access_token_issue(user_id=user.pk)
    client = Client()
    client.get("/api/v1/", HTTP_X_REQUEST_ID="req-test-12345")
    client.get("/api/v1/nope/123")
    client.get("/api/v1/audits/6f1c6bd0-5c7e-4d5e-9a43-2f1f0f2d9e11",
               HTTP_AUTHORIZATION="Bearer " + token)
    print("USER" + str(user.pk))
"""


def test_access_log_is_one_json_line_per_request(tmp_path):
    completed = run_python(
        LOG_SCRIPT,
        env={
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
            "LOG_FORMAT": "json",
            "LOG_LEVEL": "INFO",
        },
    )
    assert completed.returncode == 0, completed.stderr
    user_id = completed.stdout.split("USER")[-1].strip()
    lines = [json.loads(line) for line in completed.stderr.splitlines() if line.startswith("{")]
    access = [line for line in lines if line.get("event") == "request"]
    assert len(access) == 3

    root, unmatched, detail = access
    assert root["request_id"] == "req-test-12345"
    assert root["method"] == "GET"
    assert root["route"] == "/api/v1/"
    assert root["status"] == 200
    assert isinstance(root["duration_ms"], float | int)
    assert root["user_id"] is None
    assert root["level"] == "info"
    assert root["timestamp"].endswith("Z")
    assert unmatched["route"] == "<unmatched>"
    assert unmatched["status"] == 404
    # The URL pattern, not the raw path with its id, so metrics and log queries group by route.
    assert detail["route"] == "/api/v1/audits/<event_id>"
    assert detail["path"].endswith("2f1f0f2d9e11")
    assert detail["status"] == 404
    assert detail["user_id"] == user_id


def test_metrics_need_the_bearer_token(client):
    missing = client.get("/metrics")
    wrong = client.get("/metrics", HTTP_AUTHORIZATION="Bearer nope")

    for response in (missing, wrong):
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "not_authenticated"


def test_metrics_count_requests_by_route_and_status(client):
    client.get("/health/live")

    response = client.get("/metrics", HTTP_AUTHORIZATION="Bearer test-metrics-token")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    text = response.content.decode()
    assert 'parecer_http_requests_total{method="GET",route="/health/live",status="200"}' in text
    assert "parecer_http_request_duration_seconds_bucket" in text
    assert "process_resident_memory_bytes" in text


def test_metrics_are_off_without_a_token(client, settings):
    settings.METRICS_TOKEN = ""

    response = client.get("/metrics")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
