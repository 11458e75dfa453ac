"""Development: DEBUG on, console logs, embedded defaults (SQLite, local memory, console e-mail)."""

import os

os.environ.setdefault("DEBUG", "true")
os.environ.setdefault("LOG_FORMAT", "console")
os.environ.setdefault("AUTH_COOKIE_SECURE", "false")

from .base import *  # noqa: F403
