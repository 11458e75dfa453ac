"""The audit trail's card on the back-office dashboard (config/backoffice.py collects it)."""

from django.http import HttpRequest
from django.urls import reverse

from audits import selectors


def dashboard_cards(request: HttpRequest) -> list[dict]:
    """Events waiting for review, linked to that filtered list."""
    link = None
    if request.user.has_perm("audits.view_auditevent"):
        link = reverse("admin:audits_auditevent_changelist") + "?status__exact=open"
    return [
        {
            "key": "open_audit_events",
            "title": "Audit events to review",
            "value": selectors.audit_event_open_count(),
            "icon": "policy",
            "link": link,
        }
    ]
