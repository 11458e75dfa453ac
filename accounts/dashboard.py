"""The accounts app's cards on the back-office dashboard (config/backoffice.py collects them)."""

from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from accounts import selectors


def dashboard_cards(request: HttpRequest) -> list[dict]:
    """Active users and usable API keys, linked to their lists when this person may view them."""
    can = request.user.has_perm
    return [
        {
            "key": "active_users",
            "title": "Active users",
            "value": selectors.active_user_count(),
            "icon": "group",
            "link": reverse("admin:accounts_user_changelist") + "?is_active__exact=1"
            if can("accounts.view_user")
            else None,
        },
        {
            "key": "usable_api_keys",
            "title": "Usable API keys",
            "value": selectors.api_key_usable_count(now=timezone.now()),
            "icon": "key",
            "link": reverse("admin:accounts_apikey_changelist") + "?revoked_at__isnull=True"
            if can("accounts.view_apikey")
            else None,
        },
    ]
