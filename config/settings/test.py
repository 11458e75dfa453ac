"""Tests: the embedded defaults unless DATABASE_URL / REDIS_URL point at real services.

Never the developer's ``.env`` (base.py skips it for this module), and every provider pinned
here, after the base import: e-mail in memory, OpenAI pointed at nothing (tests that call it
start the local fake in tests/fakes/ and point at it), uploads in a temporary directory.
"""

import atexit
import os
import shutil
import tempfile
from pathlib import Path

from config.logging import configure_logging

from .base import *  # noqa: F403
from .base import LOG_FORMAT, PASSWORD_HASHERS, env

LOG_LEVEL = env.str("LOG_LEVEL", default="WARNING").upper()  # quiet unless a test asks
LOGGING = configure_logging(level=LOG_LEVEL, fmt=LOG_FORMAT)
METRICS_TOKEN = "test-metrics-token"

# Hashing cost is not what the tests are about; Argon2 stays first in production.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *PASSWORD_HASHERS]
MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}

OPENAI_API_KEY = ""
OPENAI_BASE_URL = "http://127.0.0.1:9/v1"  # the discard port: nothing real is ever called
OPENAI_ORGANIZATION = ""
OPENAI_PROJECT = ""
OPENAI_API_STYLE = "chat"

MEDIA_ROOT = Path(tempfile.mkdtemp(prefix="parecer-test-media-"))
atexit.register(shutil.rmtree, MEDIA_ROOT, ignore_errors=True)

# Parallel test workers (pytest-xdist) share one Redis database: each gets its own key prefix,
# and tests/conftest.py clears only its own keys (django-redis's clear() is a FLUSHDB).
if CACHES["default"]["BACKEND"] == "django_redis.cache.RedisCache":  # noqa: F405
    CACHES["default"]["KEY_PREFIX"] = "parecer-test-" + os.environ.get(  # noqa: F405
        "PYTEST_XDIST_WORKER", "main"
    )

# One process (tasks run in it): the local-memory cache is shared by everything a test runs.
DOCUMENT_CACHE = True
