"""The analyses app's cards on the back-office dashboard (config/backoffice.py collects them)."""

from django.http import HttpRequest
from django.urls import reverse

from analyses import selectors


def dashboard_cards(request: HttpRequest) -> list[dict]:
    """Analyses waiting, running and failed, and this month's spend, linked to the filtered list."""
    figures = selectors.dashboard_figures()
    can_view = request.user.has_perm("analyses.view_analysis")
    changelist = reverse("admin:analyses_analysis_changelist") if can_view else None

    def link(status: str) -> str | None:
        return f"{changelist}?status__exact={status}" if changelist else None

    counts = figures["by_status"]
    return [
        {
            "key": "analyses_active",
            "title": "Analyses queued / running",
            "value": f"{counts['queued']} / {counts['running']}",
            "icon": "pending",
            "link": link("queued"),
        },
        {
            "key": "analyses_failed",
            "title": "Analyses failed",
            "value": counts["failed"],
            "icon": "error",
            "link": link("failed"),
        },
        {
            "key": "analyses_spend_month",
            "title": f"Spend since {figures['month']:%d %b %Y}",
            "value": f"${figures['spend_usd']:.2f}",
            "icon": "payments",
            "link": changelist,
        },
    ]
