"""Back-office building blocks every app's admin shares: short ids, exact times, links to the
admin page of whatever an id names, and a confirmation page for destructive actions."""

from datetime import datetime

from django.contrib import admin
from django.contrib.admin import helpers
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.html import format_html

SHORT_ID = 8
CONFIRM_TEMPLATE = "admin/action_confirmation.html"


def short_id(value) -> str:
    """The first 8 characters; the whole id on hover (and in full on the detail page)."""
    if not value:
        return "-"
    text = str(value)
    return format_html('<span title="{}" class="font-mono">{}</span>', text, text[:SHORT_ID])


def exact_time(value: datetime | None) -> str:
    """To the second, with the zone: the trail is read against logs from other machines."""
    if value is None:
        return "-"
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S %Z")


def admin_change_url(kind: str, pk) -> str | None:
    """The change page of the registered model named ``kind`` (``user``, ``api_key``, ...)."""
    wanted = kind.replace("_", "").lower()
    for model in admin.site._registry:
        if model._meta.model_name == wanted:
            try:
                return reverse(
                    f"admin:{model._meta.app_label}_{model._meta.model_name}_change", args=[pk]
                )
            except NoReverseMatch:
                return None
    return None


def linked_id(kind: str, pk, label: str = "") -> str:
    """``label`` (or the short id) linking to that object's admin page when there is one."""
    if not pk:
        return label or "-"
    url = admin_change_url(kind, pk)
    text = label or str(pk)[:SHORT_ID]
    if url is None:
        return format_html('<span title="{}">{}</span>', str(pk), text)
    return format_html('<a href="{}" title="{}" class="text-primary-600">{}</a>', url, pk, text)


def confirmation_page(
    model_admin: admin.ModelAdmin,
    request: HttpRequest,
    queryset: QuerySet,
    *,
    action: str,
    title: str,
    consequence: str,
) -> TemplateResponse | None:
    """The page asking to confirm ``action`` on ``queryset``; None once it has been confirmed.

    An action starts with ``if page := confirmation_page(...): return page``."""
    if request.POST.get("post") == "yes":
        return None
    opts = model_admin.model._meta
    context = {
        **model_admin.admin_site.each_context(request),
        "title": title,
        "consequence": consequence,
        "queryset": queryset,
        "action": action,
        "opts": opts,
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        "objects_name": opts.verbose_name_plural,
    }
    request.current_app = model_admin.admin_site.name
    return TemplateResponse(request, CONFIRM_TEMPLATE, context)
