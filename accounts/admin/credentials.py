"""Back office for credentials: API keys, the API's sign-in sessions, admin-site sessions."""

from django.contrib import admin
from django.contrib.sessions.models import Session
from django.db.models import QuerySet
from django.http import HttpRequest
from unfold.admin import ModelAdmin
from unfold.contrib.filters.admin import RangeDateTimeFilter

from accounts.models import ApiKey, RefreshToken
from accounts.services import api_keys, sessions
from core.backoffice import confirmation_page, exact_time, linked_id, short_id


class ReadOnlyTimesMixin:
    """List columns for the usual credential times: to the second, with the zone."""

    @admin.display(description="created", ordering="created_at")
    def created(self, obj) -> str:
        return exact_time(obj.created_at)

    @admin.display(description="expires", ordering="expires_at")
    def expires(self, obj) -> str:
        return exact_time(obj.expires_at) if obj.expires_at else "never"

    @admin.display(description="revoked", ordering="revoked_at")
    def revoked(self, obj) -> str:
        return exact_time(obj.revoked_at)

    @admin.display(description="owner", ordering="user__email")
    def owner(self, obj) -> str:
        return linked_id("user", obj.user_id, obj.user.email)


@admin.register(ApiKey)
class ApiKeyAdmin(ReadOnlyTimesMixin, ModelAdmin):
    sidebar_icon = "key"
    list_display = (
        "name",
        "prefix",
        "owner",
        "scope",
        "created",
        "last_used",
        "expires",
        "revoked",
    )
    list_select_related = ("user",)
    list_filter = (
        "scope",
        ("revoked_at", admin.EmptyFieldListFilter),
        ("created_at", RangeDateTimeFilter),
        ("expires_at", RangeDateTimeFilter),
        ("last_used_at", RangeDateTimeFilter),
    )
    list_filter_submit = True
    search_fields = ("name", "prefix", "user__email")
    readonly_fields = [f.name for f in ApiKey._meta.fields if f.name != "key_hash"]
    exclude = ("key_hash",)
    actions = ("revoke_keys",)

    @admin.display(description="last used", ordering="last_used_at")
    def last_used(self, api_key: ApiKey) -> str:
        return exact_time(api_key.last_used_at)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # keys are created by their owner through the API, which shows the secret once

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # revoke instead: the row is what the trail's key ids point at

    def has_revoke_permission(self, request: HttpRequest) -> bool:
        # Revoking is the only change a key takes; the Staff group holds it (role_groups.py).
        return request.user.has_perm("accounts.change_apikey")

    @admin.action(description="Revoke", permissions=["revoke"])
    def revoke_keys(self, request: HttpRequest, queryset: QuerySet[ApiKey]):
        if page := confirmation_page(
            self,
            request,
            queryset,
            action="revoke_keys",
            title="Revoke keys",
            consequence="These API keys stop working on their next request; this cannot be undone.",
        ):
            return page
        already = queryset.filter(revoked_at__isnull=False).count()
        revoked = 0
        for api_key in queryset.filter(revoked_at__isnull=True):
            api_keys.api_key_revoke(api_key=api_key)
            revoked += 1
        note = f" {already} already revoked (unchanged)." if already else ""
        self.message_user(request, f"Revoked {revoked} key(s).{note}")
        return None


@admin.register(RefreshToken)
class RefreshTokenAdmin(ReadOnlyTimesMixin, ModelAdmin):
    """The API's sign-in sessions (refresh token families)."""

    sidebar_icon = "passkey"
    list_display = ("token", "owner", "session", "created", "expires", "used", "revoked")
    list_select_related = ("user",)
    list_filter = (
        ("revoked_at", admin.EmptyFieldListFilter),
        ("created_at", RangeDateTimeFilter),
        ("expires_at", RangeDateTimeFilter),
    )
    list_filter_submit = True
    search_fields = ("user__email",)
    exclude = ("token_hash",)
    readonly_fields = ("user", "family", "created_at", "expires_at", "used_at", "revoked_at")
    actions = ("revoke_family",)

    @admin.display(description="token")
    def token(self, refresh_token: RefreshToken) -> str:
        return short_id(refresh_token.pk)

    @admin.display(description="session (family)")
    def session(self, refresh_token: RefreshToken) -> str:
        return short_id(refresh_token.family)

    @admin.display(description="used", ordering="used_at")
    def used(self, refresh_token: RefreshToken) -> str:
        return exact_time(refresh_token.used_at)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # revoke instead (audited); expired rows are cleared by the cleanup task

    @admin.action(description="Revoke the whole session (token family)", permissions=["change"])
    def revoke_family(self, request: HttpRequest, queryset: QuerySet[RefreshToken]):
        if page := confirmation_page(
            self,
            request,
            queryset,
            action="revoke_family",
            title="Revoke sessions",
            consequence="Each selected token's whole session (its token family) ends: the client "
            "must sign in again.",
        ):
            return page
        families = set(queryset.values_list("family", flat=True))
        revoked = sessions.refresh_families_revoke(families=families)
        unchanged = len(families) - revoked
        note = f" {unchanged} were already revoked (unchanged)." if unchanged else ""
        self.message_user(request, f"Revoked {revoked} session(s).{note}")
        return None


@admin.register(Session)
class SessionAdmin(ModelAdmin):
    """Admin-site sessions (database store; with Redis they live in the cache and expire there)."""

    sidebar_icon = "cookie"
    list_display = ("key", "expires")
    readonly_fields = ("session_key", "expire_date")
    exclude = ("session_data",)

    @admin.display(description="session")
    def key(self, session: Session) -> str:
        return f"{session.session_key[:8]}…"  # never the whole key: it is a bearer credential

    @admin.display(description="expires", ordering="expire_date")
    def expires(self, session: Session) -> str:
        return exact_time(session.expire_date)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # read-only: admin sessions expire; deactivating a user ends theirs
