"""Shared fixtures. Tests run on the embedded defaults, or on DATABASE_URL / REDIS_URL when set.

Tests marked ``postgres`` or ``redis`` need that real service: they skip on a laptop without it,
and fail under CI=true, where a skipped proof is a missing proof.
"""

import os
import time

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import Client

ON_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

# The browser suite (tests/browser, `make test-browser`) drives Chromium against a production
# server: it is not part of `make test`.
collect_ignore_glob = [] if os.environ.get("BROWSER_TESTS") == "1" else ["browser/*"]


def _has_postgres() -> bool:
    return settings.DATABASES["default"]["ENGINE"] in (
        "django.db.backends.postgresql",
        "config.postgres",
    )


def _has_redis() -> bool:
    return bool(settings.REDIS_URL)


def pytest_runtest_setup(item: pytest.Item) -> None:
    for marker, available, variable in (
        ("postgres", _has_postgres, "DATABASE_URL=postgres://..."),
        ("redis", _has_redis, "REDIS_URL=redis://..."),
    ):
        if item.get_closest_marker(marker) and not available():
            message = f"needs a real {marker}: set {variable}"
            if ON_CI:
                pytest.fail(f"{message} (CI=true: this proof may not be skipped)")
            pytest.skip(message)


def _cache_clear() -> None:
    if hasattr(cache, "delete_pattern"):  # Redis: only this worker's keys (see settings/test.py)
        cache.delete_pattern("*")
    else:
        cache.clear()


@pytest.fixture(autouse=True)
def _clean_cache():
    """Throttle, lockout and session state must not leak from one test into the next."""
    _cache_clear()
    yield
    _cache_clear()


@pytest.fixture(autouse=True)
def _throttle_clock_pinned(monkeypatch):
    """Every throttle's clock stands still one second into the day, so a test's requests share
    one window: the windows are the wall clock's minutes and hours, and a test straddling a
    boundary would start counting again (the 429 it expects would be a 401)."""
    from core.throttles import ScopedRateThrottle

    pinned = time.time() // 86400 * 86400 + 1
    monkeypatch.setattr(ScopedRateThrottle, "timer", staticmethod(lambda: pinned))


@pytest.fixture
def client() -> Client:
    """Django's test client: the full middleware stack, not only ninja's."""
    return Client()


@pytest.fixture
def user(db):
    from tests.support.factories import UserFactory

    return UserFactory()


@pytest.fixture
def staff(db):
    from tests.support.factories import StaffFactory

    return StaffFactory()


@pytest.fixture
def admin(db):
    from tests.support.factories import AdminFactory

    return AdminFactory()


@pytest.fixture
def admin_client(client, admin):
    """Django's test client signed in to the admin site as an admin."""
    client.force_login(admin)
    return client


@pytest.fixture
def bearer():
    """``bearer(user)`` -> headers for Django's Client carrying a fresh access token."""
    from accounts.tokens import access_token_issue

    def headers_for(someone) -> dict:
        token, _ = access_token_issue(user_id=someone.pk)
        return {"HTTP_AUTHORIZATION": f"Bearer {token}"}

    return headers_for


@pytest.fixture
def api_key_headers():
    """``api_key_headers(user, scope)`` -> headers carrying a newly created API key."""
    from accounts.services.api_keys import api_key_create

    def headers_for(someone, scope: str = "read") -> dict:
        _, secret = api_key_create(user=someone, name=f"test {scope}", scope=scope)
        return {"HTTP_X_API_KEY": secret}

    return headers_for


@pytest.fixture
def run_tasks(monkeypatch):
    """Run every due background task now with ``manage.py db_worker --batch``.

    Like Django's test client, it keeps the test's connection open: the worker's
    ``close_old_connections`` would otherwise close it inside the test transaction.
    """
    from django.core.management import call_command

    monkeypatch.setattr(
        "django_tasks_db.management.commands.db_worker.close_old_connections", lambda: None
    )

    def run() -> None:
        call_command(
            "db_worker", batch=True, reload=False, startup_delay=False, queue_name="*", verbosity=0
        )

    return run


@pytest.fixture
def audit_events():
    """``audit_events()`` -> the audit trail, oldest first, as a list."""
    from audits.models import AuditEvent

    def events(**filters):
        return list(AuditEvent.objects.filter(**filters).order_by("sequence"))

    return events


@pytest.fixture(scope="session")
def _fake_openai_server():
    """One fake OpenAI server per test process, on a free port of 127.0.0.1."""
    from tests.fakes.openai_server import FakeOpenAI

    fake = FakeOpenAI().start()
    yield fake
    fake.stop()


FAKE_OPENAI_KEY = "sk-test-parecer-0123456789abcdefSECRET"


@pytest.fixture
def fake_openai(_fake_openai_server, settings):
    """The fake OpenAI server, with the settings pointing at it and a clean script.

    ``fake_openai.script(status=429, retry_after=2)`` queues how the next request is answered;
    ``fake_openai.requests`` is what it received.
    """
    fake = _fake_openai_server
    fake.reset()
    fake.required_key = ""
    settings.OPENAI_API_KEY = FAKE_OPENAI_KEY
    settings.OPENAI_BASE_URL = fake.base_url
    settings.OPENAI_TIMEOUT = 5.0
    settings.OPENAI_CONNECT_TIMEOUT = 2.0
    settings.OPENAI_API_STYLE = "chat"
    yield fake
    fake.reset()
