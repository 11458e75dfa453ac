"""Writes and workflows of the accounts domain."""

from importlib import import_module

from django.conf import settings
from django.contrib.sessions.models import Session
from django.utils import timezone


def expired_sessions_clear() -> int | None:
    """Remove expired sessions; returns how many (None when the store expires them itself)."""
    if settings.SESSION_ENGINE == "django.contrib.sessions.backends.db":
        removed, _ = Session.objects.filter(expire_date__lt=timezone.now()).delete()
        return removed
    import_module(settings.SESSION_ENGINE).SessionStore.clear_expired()
    return None
