"""Tests: the embedded defaults unless DATABASE_URL / REDIS_URL point at real services."""

import os

os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ.setdefault("METRICS_TOKEN", "test-metrics-token")

from .base import *  # noqa: F403
from .base import CACHES, PASSWORD_HASHERS, REDIS_URL

# Hashing cost is not what the tests are about; Argon2 stays first in production.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *PASSWORD_HASHERS]
MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
# A developer's .env must never point the tests at a real LLM: tests that need one use the
# fake_openai fixture (tests/fakes/openai_server.py), which overrides these.
OPENAI_API_KEY = ""
OPENAI_BASE_URL = ""
OPENAI_ORGANIZATION = ""
OPENAI_PROJECT = ""
OPENAI_API_STYLE = "chat"
# Parallel test workers (pytest-xdist) share one Redis database: each gets its own key prefix so
# one worker's cached rows (a resolved prompt version, say) never answer another worker's test.
if REDIS_URL and os.environ.get("PYTEST_XDIST_WORKER"):
    CACHES["default"]["KEY_PREFIX"] = f"parecer-test-{os.environ['PYTEST_XDIST_WORKER']}"
