"""The back office's frame: sidebar navigation and the dashboard, built from what is registered.

Nothing here names a model. The sidebar lists every registered model the signed-in person may
view (``admin.site.get_app_list``), so a new app's admin appears by itself, under its app's
name, with the icon its ModelAdmin declares (``sidebar_icon``). The dashboard asks each app for
its cards: an AppConfig may name a callable ``dashboard_cards = "app.dashboard.cards"`` taking
the request and returning ``[{"title", "value", "link", "icon"}]`` (analyses by status and spend
this month plug in the same way once those apps exist).
"""

from typing import Any

from django.apps import apps
from django.contrib import admin
from django.http import HttpRequest
from django.templatetags.static import static
from django.urls import reverse
from django.utils.module_loading import import_string

DEFAULT_ICON = "table_rows"


def favicon_url(request: HttpRequest) -> str:
    return static("ninja/favicon.svg")


def sidebar_navigation(request: HttpRequest) -> list[dict[str, Any]]:
    """Overview first, then one group per app with the models this person may view."""
    groups: list[dict[str, Any]] = [
        {
            "title": "Overview",
            "items": [
                {"title": "Dashboard", "icon": "dashboard", "link": reverse("admin:index")},
                {
                    "title": "API docs",
                    "icon": "api",
                    "link": "/api/v1/docs",
                    "active": False,
                },
            ],
        }
    ]
    for app in admin.site.get_app_list(request):
        items = []
        for entry in app["models"]:
            if not entry["admin_url"]:
                continue
            model_admin = admin.site._registry[entry["model"]]
            items.append(
                {
                    "title": entry["name"],
                    "icon": getattr(model_admin, "sidebar_icon", DEFAULT_ICON),
                    "link": entry["admin_url"],
                }
            )
        if items:
            groups.append({"title": app["name"], "separator": True, "items": items})
    return groups


def dashboard_cards(request: HttpRequest) -> list[dict[str, Any]]:
    """Every app's cards, in INSTALLED_APPS order; a card without a permitted link has none."""
    cards: list[dict[str, Any]] = []
    for config in apps.get_app_configs():
        path = getattr(config, "dashboard_cards", None)
        if path:
            cards.extend(import_string(path)(request))
    return cards


def dashboard_callback(request: HttpRequest, context: dict[str, Any]) -> dict[str, Any]:
    context["dashboard_cards"] = dashboard_cards(request)
    return context
