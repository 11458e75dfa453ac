"""The back office's credential forms, each a thin shell over the service the API uses."""

from django import forms
from django.contrib.auth.signals import user_logged_out
from django.dispatch import receiver
from unfold.forms import AdminOwnPasswordChangeForm as ThemedPasswordChangeForm
from unfold.forms import AuthenticationForm

from accounts.models import User
from accounts.services import admin_sessions, passwords
from core.errors import DomainError, InvalidInput, ServiceUnavailable
from core.throttles import ScopedRateThrottle


def _form_error(exc: DomainError) -> forms.ValidationError:
    if isinstance(exc, InvalidInput) and exc.details:
        return forms.ValidationError([detail["reason"] for detail in exc.details])
    return forms.ValidationError(exc.message, code=exc.code)


class AdminLoginForm(AuthenticationForm):
    """The admin login (settings.UNFOLD["LOGIN"]["form"]): lockout, throttle and audit of the API."""

    def clean(self) -> dict:
        email = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        # The API's per-IP "login" rate, on the same counter: one budget, whichever door is used.
        throttle = ScopedRateThrottle("login")
        if self.request is not None and not throttle.allow_request(self.request):
            wait = int(throttle.wait() or 1)
            raise forms.ValidationError(
                f"Too many sign-in attempts; try again in {wait} s.", code="throttled"
            )
        if email is not None and password:
            try:
                self.user_cache = admin_sessions.admin_sign_in(email=email, password=password)
            except ServiceUnavailable as exc:
                # The lockout store is down: fail closed with the admin's cache-outage page (HTML
                # 503), which recognises the cache's own error, not the API's envelope.
                raise (exc.__cause__ or exc) from None
            except DomainError as exc:  # locked out, wrong password, no back-office role
                raise _form_error(exc) from None
        return self.cleaned_data


class AdminOwnPasswordChangeForm(ThemedPasswordChangeForm):
    """/admin/password_change/: the API's password change (validators, every API session
    signed out, audited); the admin view then keeps this browser session signed in."""

    def save(self, commit: bool = True) -> User:
        # The form has checked the current password and run the same validators already.
        passwords.password_change(
            user=self.user,
            current_password=self.cleaned_data["old_password"],
            new_password=self.cleaned_data["new_password1"],
        )
        return self.user


def password_field_clean(*, password: str, user: User | None) -> str:
    """A password typed into the user page: the API's validators, as form errors."""
    if password:
        try:
            passwords.password_validate(password=password, user=user, field="password")
        except DomainError as exc:
            raise _form_error(exc) from None
    return password


@receiver(user_logged_out, dispatch_uid="accounts.admin_sign_out_audited")
def _audit_admin_sign_out(sender, request, user, **kwargs) -> None:
    if user is not None:
        admin_sessions.admin_sign_out(user=user)
