"""/health reports the LLM: not configured (no key) is not "down", and never fails readiness."""

from config import health

# Health details are for operators: they present the metrics token.
OPERATOR = {"HTTP_AUTHORIZATION": "Bearer test-metrics-token"}


def test_health_reports_the_llm_as_not_configured_without_a_key(client, db):
    response = client.get("/health", **OPERATOR)
    assert response.status_code == 200
    body = response.json()
    assert body["checks"]["llm"]["status"] == "not_configured"
    assert "llm" not in body["failing"]


def test_health_reports_ok_with_the_fake_server_and_down_when_unreachable(
    client, db, fake_openai, settings, monkeypatch
):
    monkeypatch.setattr(health, "_llm_probe", (0.0, ""))
    assert client.get("/health", **OPERATOR).json()["checks"]["llm"]["status"] == "ok"

    monkeypatch.setattr(health, "_llm_probe", (0.0, ""))
    settings.OPENAI_BASE_URL = "http://127.0.0.1:9/v1"  # nothing listens on the discard port
    response = client.get("/health", **OPERATOR)
    assert response.json()["checks"]["llm"]["status"] == "down"
    assert response.status_code == 200  # analyses retry through an outage: the API stays in
