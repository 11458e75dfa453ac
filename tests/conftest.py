"""Shared fixtures. Tests run on the embedded defaults, or on DATABASE_URL / REDIS_URL when set.

Tests marked ``postgres`` or ``redis`` need that real service: they skip on a laptop without it,
and fail under CI=true, where a skipped proof is a missing proof.
"""

import os

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import Client

ON_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _has_postgres() -> bool:
    return settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"


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


@pytest.fixture(autouse=True)
def _clean_cache():
    """Throttle, lockout and session state must not leak from one test into the next."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def client() -> Client:
    """Django's test client: the full middleware stack, not only ninja's."""
    return Client()
