"""Back office for the audit trail: read-only, review fields editable, redaction as an action."""

import json

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html
from unfold.admin import ModelAdmin

from audits import services
from audits.models import AuditCheckpoint, AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(ModelAdmin):
    list_display = (
        "sequence",
        "occurred_at",
        "action",
        "entity_type",
        "entity_id",
        "actor_label",
        "source",
        "status",
    )
    list_filter = ("source", "status", "actor_type", "entity_type")
    search_fields = ("action", "entity_id", "actor_label", "request_id")
    show_full_result_count = False  # COUNT(*) over millions of rows on every page is not worth it
    ordering = ("-sequence",)
    fields = (
        "id",
        "sequence",
        "occurred_at",
        "recorded_at",
        "action",
        "entity_type",
        "entity_id",
        "actor_type",
        "actor_user_id",
        "actor_api_key_id",
        "actor_label",
        "request_id",
        "ip",
        "user_agent",
        "source",
        "details_pretty",
        "redacted_at",
        "redacted_by_id",
        "status",
        "review_note",
        "reviewed_by_id",
        "reviewed_at",
    )
    readonly_fields = tuple(f for f in fields if f not in ("status", "review_note"))
    actions = ("redact_events",)

    @admin.display(description="details (changes show before/after)")
    def details_pretty(self, event: AuditEvent) -> str:
        return format_html(
            "<pre>{}</pre>", json.dumps(event.details, indent=2, sort_keys=True, default=str)
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def save_model(self, request, obj: AuditEvent, form, change: bool) -> None:
        services.audit_event_review(
            event=obj,
            reviewer=request.user,
            status=form.cleaned_data.get("status"),
            review_note=form.cleaned_data.get("review_note"),
        )

    @admin.action(
        description="Redact details (keeps the row and the chain)", permissions=["redact"]
    )
    def redact_events(self, request: HttpRequest, queryset: QuerySet[AuditEvent]) -> None:
        for event in queryset:
            services.audit_event_redact(event=event, redactor=request.user)
        self.message_user(request, f"Redacted {queryset.count()} event(s).")

    def has_redact_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser


@admin.register(AuditCheckpoint)
class AuditCheckpointAdmin(ModelAdmin):
    list_display = ("sequence", "pruned_count", "created_at")
    readonly_fields = ("sequence", "hmac", "pruned_count", "created_at", "signature")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False
