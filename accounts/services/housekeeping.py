"""Writes and workflows of the accounts domain."""

from importlib import import_module

from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import transaction
from django.utils import timezone

from audits.services import audit_event_record


def expired_sessions_clear() -> int | None:
    """Remove expired sessions; returns how many (None when the store expires them itself)."""
    if settings.SESSION_ENGINE == "django.contrib.sessions.backends.db":
        with transaction.atomic():
            removed, _ = Session.objects.filter(expire_date__lt=timezone.now()).delete()
            if removed:
                audit_event_record(
                    action="sessions.expired_cleared",
                    entity_type="session",
                    details={"removed": removed},
                )
        return removed
    import_module(settings.SESSION_ENGINE).SessionStore.clear_expired()
    return None
