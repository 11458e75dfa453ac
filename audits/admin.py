"""Back office for the audit trail: read-only, review fields editable, redaction as an action."""

import json

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html
from unfold.admin import ModelAdmin
from unfold.contrib.filters.admin import RangeDateTimeFilter

from audits import services
from audits.models import AuditCheckpoint, AuditEvent
from core.backoffice import confirmation_page, exact_time, linked_id


@admin.register(AuditEvent)
class AuditEventAdmin(ModelAdmin):
    sidebar_icon = "policy"
    list_display = ("sequence", "occurred", "action", "entity", "actor", "source", "status")
    list_display_links = ("sequence", "action")
    list_filter = (
        "status",
        "source",
        "actor_type",
        "entity_type",
        ("occurred_at", RangeDateTimeFilter),
        ("reviewed_at", RangeDateTimeFilter),
    )
    list_filter_submit = True
    search_fields = ("action", "entity_id", "actor_label", "actor_user_id", "request_id")
    show_full_result_count = False  # COUNT(*) over millions of rows on every page is not worth it
    ordering = ("-sequence",)
    fieldsets = (
        (
            "What happened",
            {"fields": ("action", "entity", "occurred", "recorded", "details_pretty")},
        ),
        ("Who", {"fields": ("actor_type", "actor", "api_key", "actor_label")}),
        ("Where", {"fields": ("source", "request_id", "ip", "user_agent")}),
        ("Review", {"fields": ("status", "review_note", "reviewer", "reviewed")}),
        ("Seal", {"fields": ("id", "sequence", "redacted", "redacted_by")}),
    )
    readonly_fields = (
        "action",
        "entity",
        "occurred",
        "recorded",
        "details_pretty",
        "actor_type",
        "actor",
        "api_key",
        "actor_label",
        "source",
        "request_id",
        "ip",
        "user_agent",
        "reviewer",
        "reviewed",
        "id",
        "sequence",
        "redacted",
        "redacted_by",
    )
    actions = ("redact_events",)

    @admin.display(description="occurred", ordering="occurred_at")
    def occurred(self, event: AuditEvent) -> str:
        return exact_time(event.occurred_at)

    @admin.display(description="recorded")
    def recorded(self, event: AuditEvent) -> str:
        return exact_time(event.recorded_at)

    @admin.display(description="reviewed")
    def reviewed(self, event: AuditEvent) -> str:
        return exact_time(event.reviewed_at)

    @admin.display(description="redacted")
    def redacted(self, event: AuditEvent) -> str:
        return exact_time(event.redacted_at)

    @admin.display(description="entity")
    def entity(self, event: AuditEvent) -> str:
        if not event.entity_id:
            return event.entity_type
        return format_html(
            "{} {}", event.entity_type, linked_id(event.entity_type, event.entity_id)
        )

    @admin.display(description="actor", ordering="actor_label")
    def actor(self, event: AuditEvent) -> str:
        if event.actor_user_id:
            return linked_id("user", event.actor_user_id, event.actor_label)
        return event.actor_label

    @admin.display(description="API key")
    def api_key(self, event: AuditEvent) -> str:
        return linked_id("api_key", event.actor_api_key_id) if event.actor_api_key_id else "-"

    @admin.display(description="reviewer")
    def reviewer(self, event: AuditEvent) -> str:
        return linked_id("user", event.reviewed_by_id) if event.reviewed_by_id else "-"

    @admin.display(description="redacted by")
    def redacted_by(self, event: AuditEvent) -> str:
        return linked_id("user", event.redacted_by_id) if event.redacted_by_id else "-"

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
    def redact_events(self, request: HttpRequest, queryset: QuerySet[AuditEvent]):
        if page := confirmation_page(
            self,
            request,
            queryset,
            action="redact_events",
            title="Redact details",
            consequence="The details of these events are replaced for good (the chain stays "
            "valid: it seals their digest). This cannot be undone.",
        ):
            return page
        already = queryset.filter(redacted_at__isnull=False).count()
        for event in queryset.filter(redacted_at__isnull=True):
            services.audit_event_redact(event=event, redactor=request.user)
        note = f" {already} were already redacted (unchanged)." if already else ""
        self.message_user(request, f"Redacted {queryset.count() - already} event(s).{note}")
        return None

    def has_redact_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser


@admin.register(AuditCheckpoint)
class AuditCheckpointAdmin(ModelAdmin):
    sidebar_icon = "verified"
    list_display = ("sequence", "pruned_count", "created")
    readonly_fields = ("sequence", "hmac", "pruned_count", "created_at", "signature")

    @admin.display(description="created", ordering="created_at")
    def created(self, checkpoint: AuditCheckpoint) -> str:
        return exact_time(checkpoint.created_at)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False
