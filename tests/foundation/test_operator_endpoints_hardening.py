"""Issue 10: /metrics takes only the documented ``Bearer`` form, and /health shows anonymous
callers its status and nothing of the internals."""

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "header", ["test-metrics-token", "Token test-metrics-token", "Bearertest-metrics-token"]
)
def test_metrics_refuse_the_token_without_the_bearer_scheme(client, header):
    response = client.get("/metrics", HTTP_AUTHORIZATION=header)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert b"parecer_http_requests_total" not in response.content


def test_health_shows_anonymous_callers_only_the_status(client):
    anonymous = client.get("/health")
    bare_token = client.get("/health", HTTP_AUTHORIZATION="test-metrics-token")
    operator = client.get("/health", HTTP_AUTHORIZATION="Bearer test-metrics-token")

    assert anonymous.status_code == bare_token.status_code == operator.status_code == 200
    assert anonymous.json() == bare_token.json() == {"status": "ok"}
    assert set(operator.json()["checks"]) >= {"database", "cache", "migrations"}
    assert anonymous["Cache-Control"] == "no-store"
