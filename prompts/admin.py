"""Back office for prompts and configurations; every change goes through the services (and the audit).

Staff curate prompts (the role decides, as in the API); moving ``production`` and changing a
configuration need an admin. Saved versions are read-only here as everywhere: a change is
"save as new version".
"""

from django.contrib import admin, messages
from django.http import HttpRequest
from django.urls import NoReverseMatch, path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from core.errors import DomainError
from core.permissions import is_admin, is_staff_member
from prompts import configuration, selectors
from prompts.admin_forms import (
    ConfigurationForm,
    PromptAddWithVersionForm,
    PromptChangeForm,
    tags_from_text,
)
from prompts.admin_views import PromptToolViews
from prompts.models import Configuration, Prompt, PromptLabelMove, PromptVersion
from prompts.services import prompts as prompt_services


class _StaffReads:
    """Role-based access (the back-office branch will map roles to groups; until then, roles)."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_staff_member(request.user)

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return is_staff_member(request.user)


class VersionInline(_StaffReads, admin.TabularInline):
    """Versions are immutable: shown, never edited or deleted here."""

    model = PromptVersion
    extra = 0
    can_delete = False
    ordering = ("-number",)
    fields = ("number", "kind", "model", "note", "author", "created_at", "content_hash", "tools")
    readonly_fields = fields
    show_change_link = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="")
    def tools(self, version: PromptVersion) -> str:
        base = reverse("admin:prompts_prompt_change", args=[version.prompt_id])
        return format_html(
            '<a href="{}preview/?version={}">preview</a> · <a href="{}diff/?a={}&b={}">diff with previous</a>',
            base, version.number, base, max(1, version.number - 1), version.number,
        )  # fmt: skip


class LabelMoveInline(_StaffReads, admin.TabularInline):
    model = PromptLabelMove
    extra = 0
    can_delete = False
    fields = ("created_at", "label", "from_version", "to_version", "actor_label", "note")
    readonly_fields = fields
    verbose_name_plural = "label history"

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Prompt)
class PromptAdmin(_StaffReads, PromptToolViews, admin.ModelAdmin):
    list_display = ("slug", "name", "label_badges", "tag_list", "latest", "archived_at")
    list_filter = (("archived_at", admin.EmptyFieldListFilter),)
    search_fields = ("slug", "name", "description")
    ordering = ("slug",)
    inlines = (VersionInline, LabelMoveInline)
    actions = ("archive_prompts", "restore_prompts")

    def get_queryset(self, request):
        return selectors.prompt_list(actor=request.user, include_archived=True)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return is_staff_member(request.user)

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return is_staff_member(request.user)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # archive instead: analyses point at versions forever

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["form"] = PromptChangeForm if obj is not None else PromptAddWithVersionForm
        kwargs["fields"] = None
        form = super().get_form(request, obj, change=change, **kwargs)
        form.actor = request.user  # label permissions are checked on the form
        return form

    def get_fieldsets(self, request, obj=None):
        if obj is not None:
            return [(None, {"fields": ("slug_shown", "name", "description", "tags_text", "tools")})]
        return [
            (None, {"fields": ("slug", "name", "description", "tags_text")}),
            (
                "First version",
                {
                    "fields": (
                        "kind", "messages", "template", "variables_schema", "model",
                        "parameters", "output_schema", "api_style", "note", "labels",
                    )
                },
            ),
        ]  # fmt: skip

    def get_readonly_fields(self, request, obj=None):
        return ("slug_shown", "tools") if obj is not None else ()

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else ()

    @admin.display(description="Slug")
    def slug_shown(self, prompt: Prompt) -> str:
        return prompt.slug

    @admin.display(description="Tools")
    def tools(self, prompt: Prompt) -> str:
        base = reverse("admin:prompts_prompt_change", args=[prompt.pk])
        links = [("new-version/", "Save as new version"), ("label/", "Move a label"),
                 ("diff/", "Compare versions"), ("preview/", "Preview")]  # fmt: skip
        return format_html_join(" · ", '<a href="{}{}">{}</a>', ((base, u, t) for u, t in links))

    @admin.display(description="Labels")
    def label_badges(self, prompt: Prompt) -> str:
        return format_html_join(
            " ",
            '<span style="padding:1px 6px;border-radius:8px;background:{};color:#fff">{} → v{}</span>',
            (
                ("#b22" if label.name == "production" else "#357", label.name, label.version.number)
                for label in prompt.labels.all()
            ),
        )

    @admin.display(description="Tags")
    def tag_list(self, prompt: Prompt) -> str:
        return ", ".join(prompt.tags)

    @admin.display(description="Latest")
    def latest(self, prompt: Prompt) -> str:
        return f"v{prompt.latest_number}" if getattr(prompt, "latest_number", None) else "-"

    def save_model(self, request, obj: Prompt, form, change: bool) -> None:
        data = form.cleaned_data
        try:
            if change:
                prompt_services.prompt_update(
                    prompt=obj,
                    actor=request.user,
                    name=data["name"],
                    description=data["description"],
                    tags=tags_from_text(data.get("tags_text") or ""),
                )
                return
            created = prompt_services.prompt_create_checked(
                slug=data["slug"],
                name=data["name"],
                description=data.get("description", ""),
                tags=data.get("tags", []),
                actor=request.user,
                version={**data["content"], "note": data.get("note") or ""},
                labels=data.get("label_list", []),
            )
        except DomainError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return
        obj.pk, obj._state.adding, obj._state.db = created.pk, False, "default"

    @admin.action(description="Archive (no new analyses)")
    def archive_prompts(self, request: HttpRequest, queryset) -> None:
        for prompt in queryset:
            prompt_services.prompt_archive(prompt=prompt, actor=request.user)
        self.message_user(request, f"Archived {queryset.count()} prompt(s).")

    @admin.action(description="Restore")
    def restore_prompts(self, request: HttpRequest, queryset) -> None:
        for prompt in queryset:
            prompt_services.prompt_restore(prompt=prompt, actor=request.user)
        self.message_user(request, f"Restored {queryset.count()} prompt(s).")

    def get_urls(self):
        return self.tool_urls(path) + super().get_urls()

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra = {**(extra_context or {}), "test_run_url": _test_run_url(request)}
        return super().change_view(request, object_id, form_url, extra_context=extra)


def _test_run_url(request: HttpRequest) -> str | None:
    """The analyses admin's "test run" page, by URL name: prompts sits below analyses and must not
    import it. None when that page isn't installed or the user may not see analyses (its rule)."""
    if not request.user.has_perm("analyses.view_analysis"):
        return None
    try:
        return reverse("admin:analyses_analysis_test_run")
    except NoReverseMatch:
        return None


@admin.register(Configuration)
class ConfigurationAdmin(_StaffReads, admin.ModelAdmin):
    """Stored values of declared keys; deleting one restores its default (config_reset)."""

    form = ConfigurationForm
    list_display = ("key", "value", "default", "description", "updated_by", "updated_at")
    search_fields = ("key",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return is_admin(request.user)

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return is_admin(request.user)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return is_admin(request.user)

    def get_readonly_fields(self, request, obj=None):
        return ("key",) if obj is not None else ()

    @admin.display(description="Default")
    def default(self, row: Configuration):
        return configuration.REGISTRY[row.key].default if row.key in configuration.REGISTRY else "-"

    @admin.display(description="Description")
    def description(self, row: Configuration) -> str:
        declared = configuration.REGISTRY.get(row.key)
        return declared.description if declared else "(no longer declared)"

    def save_model(self, request, obj: Configuration, form, change: bool) -> None:
        configuration.config_set(
            key=obj.key, value=form.cleaned_data.get("value"), actor=request.user
        )
        obj.updated_at = timezone.now()
        obj._state.adding, obj._state.db = False, "default"

    def delete_model(self, request, obj: Configuration) -> None:
        configuration.config_reset(key=obj.key, actor=request.user)

    def delete_queryset(self, request, queryset) -> None:
        for row in queryset:
            configuration.config_reset(key=row.key, actor=request.user)
