"""Reads of the analyses domain: what an actor may see, and the usage summaries."""

import datetime as dt
from decimal import Decimal

from django.db.models import Count, QuerySet, Sum

from analyses.models import ACTIVE_STATUSES, OUTCOME_FIELDS, Analysis, Status, UsageMonth
from analyses.services.budget import month_start
from core.permissions import is_staff_member

# What the API shows of an analysis (AnalysisDetailOut): reads load only these columns, and only
# the slug and number of its prompt and version, not their templates and schemas.
SHOWN_FIELDS = (
    "owner_id",
    "status",
    "label",
    "model",
    "variables",
    "input_files",
    "messages",
    "messages_sha256",
    *OUTCOME_FIELDS,
    "cache_hit",
    "attempts",
    "cancel_requested",
    "created_at",
    "started_at",
    "finished_at",
    "queue_wait_ms",
    "prompt__slug",
    "prompt_version__number",
)


def analyses_visible(*, actor) -> QuerySet[Analysis]:
    """An actor's own analyses; staff see everyone's (another user's id is then a 404)."""
    queryset = Analysis.objects.select_related("prompt", "prompt_version")
    if is_staff_member(actor):
        return queryset
    return queryset.filter(owner=actor)


# The list shows everything but the rendered messages (which may hold whole files' text).
LISTED_FIELDS = tuple(f for f in SHOWN_FIELDS if f not in ("messages", "messages_sha256"))


def analyses_shown(*, actor) -> QuerySet[Analysis]:
    """``analyses_visible`` with only what the API shows: for reads, not for changes."""
    return analyses_visible(actor=actor).only(*SHOWN_FIELDS)


def analyses_list(
    *,
    actor,
    status: str | None = None,
    prompt: str | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> QuerySet[Analysis]:
    """Visible analyses, newest first, filtered by status, prompt slug and creation time."""
    queryset = analyses_visible(actor=actor).only(*LISTED_FIELDS)
    if status:
        queryset = queryset.filter(status=status)
    if prompt:
        queryset = queryset.filter(prompt__slug=prompt)
    if since:
        queryset = queryset.filter(created_at__gte=since)
    if until:
        queryset = queryset.filter(created_at__lt=until)
    return queryset.order_by("-created_at", "-id")


def file_in_active_analysis(*, file_id) -> bool:
    """Whether a queued or running analysis uses this file (it may not be deleted then)."""
    return Analysis.objects.filter(files__pk=file_id, status__in=ACTIVE_STATUSES).exists()


def usage_this_month(*, month: dt.date | None = None) -> dict:
    """Tokens and cost this month per user (the budget rows) and per prompt (the analyses)."""
    month = month or month_start()
    per_user = list(
        UsageMonth.objects.filter(month=month)
        .select_related("user")
        .order_by("-used_cost_usd", "-used_tokens")
    )
    start = dt.datetime.combine(month, dt.time.min, tzinfo=dt.UTC)
    per_prompt = list(
        Analysis.objects.filter(created_at__gte=start)
        .values("prompt__slug")
        .annotate(
            analyses=Count("id"),
            input_tokens=Sum("input_tokens"),
            output_tokens=Sum("output_tokens"),
            cost_usd=Sum("cost_usd"),
        )
        .order_by("-cost_usd")
    )
    return {"month": month, "per_user": per_user, "per_prompt": per_prompt}


def dashboard_figures(*, month: dt.date | None = None) -> dict:
    """Analyses by status (all time) and the spend of this month, for the back-office dashboard."""
    month = month or month_start()
    by_status = dict(Analysis.objects.values_list("status").annotate(n=Count("id")))
    spend = UsageMonth.objects.filter(month=month).aggregate(cost=Sum("used_cost_usd"))["cost"]
    return {
        "by_status": {status: by_status.get(status, 0) for status in Status.values},
        "spend_usd": spend or Decimal("0"),
        "month": month,
    }
