"""Redis down in the admin: an HTML 503 (never a JSON envelope, never a silent logout)."""

import pytest
from django.test import Client

from config import redis_breaker
from config.errors import CACHE_ERRORS

CLOSED_REDIS = "redis://127.0.0.1:1/0"

pytestmark = pytest.mark.django_db


@pytest.fixture
def redis_down(settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": CLOSED_REDIS,
            "OPTIONS": {
                "SOCKET_CONNECT_TIMEOUT": 0.2,
                "SOCKET_TIMEOUT": 0.2,
                "CONNECTION_POOL_KWARGS": {"connection_class": redis_breaker.BreakerConnection},
            },
        }
    }
    settings.SESSION_ENGINE = "config.sessions"
    # As in production: the error handler answers, the test client does not re-raise.
    yield Client(raise_request_exception=False)
    redis_breaker._breaker.record_success()  # the real Redis of the next test is fine


def _assert_html_503(response) -> None:
    assert response.status_code == 503
    assert response["Content-Type"].startswith("text/html")
    assert response["Retry-After"] == "5"
    page = response.content.decode()
    assert "<h1>Temporarily unavailable</h1>" in page
    assert "The cache is unavailable" in page
    assert response["X-Request-ID"] in page
    assert '"error"' not in page


def test_an_admin_page_is_an_html_503_not_a_redirect_to_login(redis_down):
    client = redis_down
    client.cookies["sessionid"] = "a-session-that-lives-in-redis"

    response = client.get("/admin/")

    _assert_html_503(response)


def test_the_admin_login_form_is_an_html_503(redis_down, admin):
    client = redis_down
    client.get("/admin/login/")  # the form itself needs no session

    response = client.post(
        "/admin/login/",
        {"username": admin.email, "password": "correct-horse-battery-staple"},
    )

    _assert_html_503(response)


def test_the_api_keeps_its_envelope_when_redis_is_down(redis_down):
    client = redis_down
    response = client.post(
        "/api/v1/auth/login",
        {"email": "a@example.com", "password": "whatever-it-is"},
        content_type="application/json",
    )

    assert response.status_code == 503
    assert response.json()["error"]["code"] == "cache_unavailable"


def test_a_frozen_redis_costs_one_timeout_then_calls_fail_at_once(settings):
    import socket
    import time

    from django.core.cache import cache

    silent = socket.create_server(("127.0.0.1", 8174))  # accepts, never answers: a frozen Redis
    settings.CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:8174/0",
            "OPTIONS": {
                "SOCKET_CONNECT_TIMEOUT": 0.3,
                "SOCKET_TIMEOUT": 0.3,
                "CONNECTION_POOL_KWARGS": {"connection_class": redis_breaker.BreakerConnection},
            },
        }
    }
    try:
        timings = []
        for _ in range(5):
            started = time.perf_counter()
            with pytest.raises(Exception) as failure:
                cache.get("anything")
            timings.append(time.perf_counter() - started)
            assert isinstance(failure.value, CACHE_ERRORS)  # what the envelope maps to 503
    finally:
        silent.close()
        redis_breaker._breaker.record_success()

    assert timings[0] >= 0.3  # the one call that waited out the socket timeout
    assert max(timings[1:]) < 0.05  # then refused at once while the breaker is open
