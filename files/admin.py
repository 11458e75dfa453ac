"""Back office for files: read-only metadata and a text preview; deletion goes through the
service (audited, vetoed while in use, blob removed after commit)."""

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html

from core.errors import DomainError
from files import services
from files.models import File
from files.selectors import file_text_slice

PREVIEW_CHARS = 3000


@admin.register(File)
class FileAdmin(admin.ModelAdmin):
    list_display = ("name", "owner", "content_type", "size", "status", "error_code", "created_at")
    list_filter = ("status", "content_type", ("owner", admin.RelatedOnlyFieldListFilter))
    search_fields = ("name", "sha256", "owner__email")
    list_select_related = ("owner",)
    ordering = ("-created_at",)
    show_full_result_count = False
    fields = (
        "id",
        "owner",
        "name",
        "size",
        "content_type",
        "sha256",
        "purpose",
        "status",
        "error_code",
        "error_message",
        "page_count",
        "text_chars",
        "truncated",
        "width",
        "height",
        "attempts",
        "storage_key",
        "created_at",
        "updated_at",
        "text_preview",
    )
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # files arrive through the upload API only

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    @admin.display(description=f"text (first {PREVIEW_CHARS} characters)")
    def text_preview(self, file: File) -> str:
        text = file_text_slice(file=file, offset=0, limit=PREVIEW_CHARS)
        if not text:
            return "(no extracted text)"
        return format_html(
            '<pre style="white-space: pre-wrap; max-height: 30em; overflow: auto">{}</pre>', text
        )

    def delete_model(self, request: HttpRequest, obj: File) -> None:
        try:
            services.file_delete(file=obj, actor=request.user)
        except DomainError as exc:
            self.message_user(request, f"{obj.name}: not deleted ({exc.message})", messages.ERROR)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[File]) -> None:
        for file in queryset:
            self.delete_model(request, file)
