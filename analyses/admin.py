"""Back-office for analyses: list, detail with provenance, retry/cancel through the services, and
this month's usage per user and per prompt."""

import json
from decimal import Decimal

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import path
from django.utils.html import format_html

from analyses import selectors
from analyses.admin_test_run import TestRunViews
from analyses.models import Analysis, AnalysisAttempt, UsageMonth
from analyses.services import lifecycle
from core.errors import DomainError


class CostFilter(admin.SimpleListFilter):
    title = "cost"
    parameter_name = "cost"

    def lookups(self, request, model_admin):
        return (("free", "Free (0)"), ("paid", "Above 0"), ("over1", "Above 1 USD"))

    def queryset(self, request, queryset):
        if self.value() == "free":
            return queryset.filter(cost_usd=0)
        if self.value() == "paid":
            return queryset.filter(cost_usd__gt=0)
        if self.value() == "over1":
            return queryset.filter(cost_usd__gt=Decimal(1))
        return queryset


class AttemptInline(admin.TabularInline):
    model = AnalysisAttempt
    extra = 0
    can_delete = False
    fields = (
        "number",
        "started_at",
        "latency_ms",
        "model",
        "finish_reason",
        "input_tokens",
        "output_tokens",
        "error",
        "upstream_request_id",
        "worker",
    )
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


def _pretty(value) -> str:
    return format_html("<pre style='white-space: pre-wrap'>{}</pre>", json.dumps(value, indent=2))


@admin.register(Analysis)
class AnalysisAdmin(TestRunViews, admin.ModelAdmin):
    list_display = (
        "id",
        "owner",
        "prompt",
        "status",
        "model",
        "cost_usd",
        "cache_hit",
        "attempts",
        "created_at",
    )
    list_filter = (
        "status",
        ("prompt", admin.RelatedOnlyFieldListFilter),
        ("owner", admin.RelatedOnlyFieldListFilter),
        CostFilter,
        "cache_hit",
    )
    search_fields = ("id", "owner__email", "prompt__slug")
    list_select_related = ("owner", "prompt")
    inlines = (AttemptInline,)
    actions = ("retry_analyses", "cancel_analyses")
    fieldsets = (
        (None, {"fields": ("id", "owner", "api_key", "status", "cancel_requested", "error_view")}),
        ("Prompt", {"fields": ("prompt", "prompt_version", "label", "model", "api_style")}),
        (
            "Input",
            {"fields": ("variables_view", "messages_view", "messages_sha256", "input_files_view")},
        ),
        ("Result", {"fields": ("result_text", "result_json_view", "cache_hit", "cached_from")}),
        (
            "Usage",
            {
                "fields": (
                    "input_tokens",
                    "cached_input_tokens",
                    "output_tokens",
                    "reasoning_tokens",
                    "cost_usd",
                    "reserved_tokens",
                    "reserved_cost_usd",
                )
            },
        ),
        (
            "Timing",
            {
                "fields": (
                    "created_at",
                    "started_at",
                    "finished_at",
                    "queue_wait_ms",
                    "attempts",
                    "lease_expires_at",
                )
            },
        ),
    )

    def get_readonly_fields(self, request, obj=None):
        return [name for fieldset in self.fieldsets for name in fieldset[1]["fields"]]

    @admin.display(description="error")
    def error_view(self, obj: Analysis) -> str:
        return _pretty(obj.error) if obj.error else "-"

    @admin.display(description="variables")
    def variables_view(self, obj: Analysis) -> str:
        return _pretty(obj.variables)

    @admin.display(description="rendered messages")
    def messages_view(self, obj: Analysis) -> str:
        return _pretty(obj.messages)

    @admin.display(description="input files")
    def input_files_view(self, obj: Analysis) -> str:
        return _pretty(obj.input_files)

    @admin.display(description="result JSON")
    def result_json_view(self, obj: Analysis) -> str:
        return _pretty(obj.result_json) if obj.result_json is not None else "-"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # analyses are submitted through the API, which validates and admits them

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def _each(self, request, queryset, service, done: str) -> None:
        count = 0
        for analysis in queryset:
            try:
                service(analysis=analysis)
                count += 1
            except DomainError as error:
                self.message_user(request, f"{analysis.pk}: {error.message}", messages.WARNING)
        if count:
            self.message_user(request, f"{count} analyses {done}.")

    def get_urls(self):
        return self.test_run_urls(path) + super().get_urls()

    @admin.action(description="Retry (failed or cancelled)")
    def retry_analyses(self, request: HttpRequest, queryset: QuerySet[Analysis]) -> None:
        self._each(request, queryset, lifecycle.analysis_retry, "queued again")

    @admin.action(description="Cancel (queued or running)")
    def cancel_analyses(self, request: HttpRequest, queryset: QuerySet[Analysis]) -> None:
        self._each(request, queryset, lifecycle.analysis_cancel, "cancelled")


@admin.register(UsageMonth)
class UsageMonthAdmin(admin.ModelAdmin):
    """Per user per month: spent and reserved; the page also sums this month per prompt."""

    list_display = (
        "user",
        "month",
        "used_tokens",
        "used_cost_usd",
        "reserved_tokens",
        "reserved_cost_usd",
    )
    list_filter = ("month",)
    search_fields = ("user__email",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def changelist_view(self, request, extra_context=None):
        summary = selectors.usage_this_month()
        return super().changelist_view(
            request, extra_context={**(extra_context or {}), "usage_summary": summary}
        )
