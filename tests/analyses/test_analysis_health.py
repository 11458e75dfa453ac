"""/health reports the LLM: not configured (no key) is not "down", and never fails readiness;
the probe is shared and bounded, so a provider that hangs never slows /health down."""

import socket
import time

import pytest

from config import health

# Health details are for operators: they present the metrics token.
OPERATOR = {"HTTP_AUTHORIZATION": "Bearer test-metrics-token"}


@pytest.fixture(autouse=True)
def _no_remembered_probe():
    health.llm_probe.forget()
    yield
    health.llm_probe.forget()


def _llm(client) -> dict:
    response = client.get("/health", **OPERATOR)
    assert response.status_code == 200  # analyses retry through an outage: the API stays in
    assert "llm" not in response.json()["failing"]
    return response.json()["checks"]["llm"]


def test_health_reports_the_llm_as_not_configured_without_a_key(client, db):
    llm = _llm(client)
    assert (llm["status"], llm["stale"]) == ("not_configured", False)
    assert llm["detail"] == "OPENAI_API_KEY is not set"


def test_health_reports_ok_with_the_fake_server_and_down_when_unreachable(
    client, db, fake_openai, settings
):
    assert _llm(client)["status"] == "ok"

    health.llm_probe.forget()
    settings.OPENAI_BASE_URL = "http://127.0.0.1:9/v1"  # nothing listens on the discard port
    assert _llm(client)["status"] == "down"


def test_one_probe_serves_every_health_check_until_it_expires(client, db, fake_openai, settings):
    settings.HEALTH_LLM_PROBE_TTL = 0.5
    assert [_llm(client)["status"] for _ in range(3)] == ["ok", "ok", "ok"]
    assert len(fake_openai.requests) == 1
    time.sleep(0.6)
    llm = _llm(client)
    assert (llm["status"], llm["stale"], llm["detail"]) == ("ok", False, "")
    assert len(fake_openai.requests) == 2


@pytest.fixture
def hanging_provider(settings):
    """Connections accepted (the kernel's backlog) and never answered: a probe waits out its
    own 2 s timeout."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    yield f"http://127.0.0.1:{listener.getsockname()[1]}/v1"
    listener.close()


def test_a_hanging_provider_never_holds_health_longer_than_the_wait(
    client, db, fake_openai, settings, hanging_provider
):
    settings.OPENAI_BASE_URL = hanging_provider
    settings.HEALTH_LLM_PROBE_WAIT = 0.3
    timings, reports = [], []
    for _ in range(2):
        started = time.monotonic()
        reports.append(_llm(client))
        timings.append(time.monotonic() - started)
    assert [(r["status"], r["stale"]) for r in reports] == [("unknown", True)] * 2
    assert reports[0]["detail"] == "the probe is still running"
    assert max(timings) < 1.0, timings

    # The one probe running gives up on its own timeout; the next answer has its result.
    deadline = time.monotonic() + 5
    while (llm := _llm(client))["stale"] and time.monotonic() < deadline:
        pass
    assert (llm["status"], llm["stale"]) == ("down", False)


def test_a_stale_answer_keeps_the_last_status_known(
    client, db, fake_openai, settings, hanging_provider
):
    settings.HEALTH_LLM_PROBE_TTL = 0.2
    assert _llm(client)["status"] == "ok"
    settings.OPENAI_BASE_URL = hanging_provider
    settings.HEALTH_LLM_PROBE_WAIT = 0.2
    time.sleep(0.3)
    llm = _llm(client)
    assert (llm["status"], llm["stale"]) == ("ok", True)
