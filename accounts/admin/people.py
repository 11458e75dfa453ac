"""Back office for people: users (role, activation, password, erasure) and the role groups."""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.models import Group
from django.contrib.auth.views import PasswordChangeView
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from unfold.admin import ModelAdmin
from unfold.contrib.filters.admin import RangeDateTimeFilter

from accounts.admin_forms import AdminOwnPasswordChangeForm, password_field_clean
from accounts.models import ApiKey, RefreshToken, User
from accounts.services import passwords, users
from core.backoffice import confirmation_page, exact_time
from core.errors import DomainError


class UserAdminForm(forms.ModelForm):
    password = forms.CharField(
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=(
            "New user: leave empty to let them set one through a reset link. Existing user: a new "
            "password replaces theirs and ends every API session. The API's password rules apply."
        ),
    )

    class Meta:
        model = User
        fields = ("email", "full_name", "role", "is_active", "email_verified_at")

    def clean(self) -> dict:
        # The page shows the refusal next to the form; save_model's check stays for races.
        cleaned = super().clean()
        if cleaned.get("password"):
            person = self.instance if not self.instance._state.adding else None
            if person is None:
                person = User(
                    email=cleaned.get("email", ""), full_name=cleaned.get("full_name", "")
                )
            try:
                password_field_clean(password=cleaned["password"], user=person)
            except forms.ValidationError as exc:
                self.add_error("password", exc)
        if not self.instance._state.adding:
            try:
                users.last_admin_guard(
                    target=self.instance,
                    role=cleaned.get("role", self.instance.role),
                    is_active=cleaned.get("is_active", self.instance.is_active),
                )
            except DomainError as exc:
                raise forms.ValidationError(exc.message, code=exc.code) from None
        return cleaned


def _password_change_view(request: HttpRequest, extra_context=None):
    """/admin/password_change/ through the API's password service. The theme's site hard-codes
    its own form class (ignoring ``password_change_form``), so the view is replaced instead."""
    request.current_app = admin.site.name
    return PasswordChangeView.as_view(
        form_class=AdminOwnPasswordChangeForm,
        success_url=reverse("admin:password_change_done"),
        extra_context={**admin.site.each_context(request), **(extra_context or {})},
    )(request)


admin.site.password_change = _password_change_view


@admin.register(User)
class UserAdmin(ModelAdmin):
    form = UserAdminForm
    sidebar_icon = "group"
    list_display = ("email", "full_name", "role", "is_active", "last_login_at", "created")
    list_filter = (
        "role",
        "is_active",
        ("last_login", RangeDateTimeFilter),
        ("created_at", RangeDateTimeFilter),
    )
    list_filter_submit = True
    search_fields = ("email", "full_name")
    ordering = ("email",)
    readonly_fields = ("id", "credentials", "last_login", "created_at", "updated_at")
    actions = ("deactivate_users", "send_password_reset")

    @admin.display(description="last sign-in", ordering="last_login")
    def last_login_at(self, user: User) -> str:
        return exact_time(user.last_login)

    @admin.display(description="created", ordering="created_at")
    def created(self, user: User) -> str:
        return exact_time(user.created_at)

    @admin.display(description="keys, sessions and events")
    def credentials(self, user: User) -> str:
        """Links to this person's API keys, API sessions and audit events (as actor)."""
        keys = reverse("admin:accounts_apikey_changelist") + f"?user__id__exact={user.pk}"
        tokens = reverse("admin:accounts_refreshtoken_changelist") + f"?user__id__exact={user.pk}"
        events = reverse("admin:audits_auditevent_changelist") + f"?actor_user_id={user.pk}"
        return format_html(
            '<a href="{}" class="text-primary-600">{} API key(s)</a> · '
            '<a href="{}" class="text-primary-600">{} live API session token(s)</a> · '
            '<a href="{}" class="text-primary-600">audit events as actor</a>',
            keys,
            user.api_keys.count(),
            tokens,
            user.refresh_tokens.filter(revoked_at__isnull=True).count(),
            events,
        )

    def get_fields(self, request, obj=None):
        base = ["email", "full_name", "role", "is_active", "email_verified_at"]
        if obj is None:
            return ["password", *base]
        if not self.has_change_permission(request, obj):
            return [*base, *self.readonly_fields]
        return [*base, "password", *self.readonly_fields]

    def save_model(self, request, obj: User, form, change: bool) -> None:
        before = users.user_admin_snapshot(User.objects.get(pk=obj.pk)) if change else None
        try:
            users.user_save_from_admin(
                user=obj, before=before, password=form.cleaned_data.get("password")
            )
        except DomainError as exc:
            self.message_user(request, exc.message, messages.ERROR)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        # Hard delete stays possible for admins (e.g. erasure requests); the API only deactivates.
        return request.user.is_superuser

    def get_deleted_objects(self, objs, request: HttpRequest):
        # A person's refresh tokens and keys have no delete permission of their own (revoke is
        # the everyday tool), but erasure takes them too, in users.user_delete: not a blocker.
        deleted, model_count, perms_needed, protected = super().get_deleted_objects(objs, request)
        credential_names = {ApiKey._meta.verbose_name, RefreshToken._meta.verbose_name}
        return deleted, model_count, perms_needed - credential_names, protected

    def delete_model(self, request: HttpRequest, obj: User) -> None:
        try:
            users.user_delete(target=obj)
        except DomainError as exc:
            self.message_user(request, f"{obj.email}: {exc.message}", messages.ERROR)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        for user in queryset:
            self.delete_model(request, user)

    @admin.action(description="Deactivate (and sign out everywhere)", permissions=["change"])
    def deactivate_users(self, request: HttpRequest, queryset: QuerySet[User]):
        if page := confirmation_page(
            self,
            request,
            queryset,
            action="deactivate_users",
            title="Deactivate and sign out",
            consequence="These people will be deactivated: every API session and admin session "
            "ends now and they cannot sign in until reactivated.",
        ):
            return page
        already = queryset.filter(is_active=False).count()
        queryset = queryset.filter(is_active=True)
        done = 0
        for user in queryset:
            try:
                users.user_deactivate(target=user)
                done += 1
            except DomainError as exc:
                self.message_user(request, f"{user.email}: {exc.message}", messages.ERROR)
        note = f" {already} were already inactive." if already else ""
        self.message_user(request, f"Deactivated {done} user(s).{note}")
        return None

    @admin.action(description="Send a password reset link", permissions=["change"])
    def send_password_reset(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        for user in queryset:
            passwords.password_reset_request(email=user.email)
        self.message_user(request, f"Reset links queued for {queryset.count()} user(s).")


admin.site.unregister(Group)


@admin.register(Group)
class RoleGroupAdmin(ModelAdmin):
    """What each role may do, for reading: groups follow roles (accounts/role_groups.py) and their
    permissions come from data migrations, so the page offers no edits that the next deploy or
    role change would silently undo."""

    list_display = ("name", "permission_count")
    filter_horizontal = ("permissions",)
    readonly_fields = ("name", "permissions")

    @admin.display(description="permissions")
    def permission_count(self, group: Group) -> int:
        return group.permissions.count()

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False
