"""Redis down in the admin: an HTML 503 (never a JSON envelope, never a silent logout)."""

import pytest
from django.test import Client

CLOSED_REDIS = "redis://127.0.0.1:1/0"

pytestmark = pytest.mark.django_db


@pytest.fixture
def redis_down(settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": CLOSED_REDIS,
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.2, "SOCKET_TIMEOUT": 0.2},
        }
    }
    settings.SESSION_ENGINE = "config.sessions"
    # As in production: the error handler answers, the test client does not re-raise.
    return Client(raise_request_exception=False)


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
