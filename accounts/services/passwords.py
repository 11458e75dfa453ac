"""Password change and the e-mailed, single-use reset link."""

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.encoding import force_bytes, force_str
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode

from accounts.models import User
from accounts.selectors import user_get_by_email
from accounts.services.api_keys import api_keys_revoke_all
from accounts.services.reauthentication import current_password_confirm
from accounts.services.sessions import sessions_end_all
from accounts.tasks import password_reset_email_send
from accounts.tokens import password_reset_tokens
from audits.services import audit_event_record
from core import context
from core.errors import InvalidInput


def password_validate(*, password: str, user: User | None, field: str) -> None:
    """Django's validators, reported as a 422 naming the field."""
    try:
        validate_password(password, user=user)
    except ValidationError as exc:
        raise InvalidInput(
            "The password is not acceptable.",
            details=[{"field": field, "in": "body", "reason": message} for message in exc.messages],
        ) from exc


def _password_replace(*, user: User, new_password: str, action: str, revoke_api_keys: bool) -> None:
    """Validate, store, end every session (refresh and access tokens), optionally revoke the
    API keys, and audit with the user as the actor."""
    password_validate(password=new_password, user=user, field="new_password")
    with transaction.atomic():
        user.set_password(new_password)
        user.save(update_fields=["password", "updated_at"])
        details = {"revoked_refresh_tokens": sessions_end_all(user=user)}
        if revoke_api_keys:
            details["revoked_api_keys"] = api_keys_revoke_all(user=user)
        audit_event_record(
            action=action,
            entity_type="user",
            entity_id=user.pk,
            actor_user_id=str(user.pk),
            actor_label=user.email,
            details=details,
        )


def password_change(*, user: User, current_password: str, new_password: str) -> None:
    """Needs the current password (wrong guesses count toward the lockout); ends every session,
    the caller's included. API keys stay: the person who knows the password made them."""
    current_password_confirm(user=user, password=current_password)
    _password_replace(
        user=user, new_password=new_password, action="auth.password.changed", revoke_api_keys=False
    )


def password_reset_request(*, email: str) -> None:
    """E-mail a reset link if the address belongs to an active user; say nothing either way."""
    user = user_get_by_email(email=email)
    if user is None or not user.is_active:
        return
    with transaction.atomic():
        audit_event_record(
            action="auth.password.reset_requested", entity_type="user", entity_id=user.pk
        )
        # The task row is written in this transaction: it exists exactly when the change does.
        context.enqueue(password_reset_email_send, user_id=str(user.pk))


def password_reset_link_parts(*, user: User) -> tuple[str, str]:
    return urlsafe_base64_encode(force_bytes(user.pk)), password_reset_tokens.make_token(user)


def _user_from_uid(uid: str) -> User | None:
    try:
        return User.objects.filter(pk=force_str(urlsafe_base64_decode(uid)), is_active=True).first()
    except (ValueError, TypeError, OverflowError, ValidationError):
        return None


def password_reset_confirm(*, uid: str, token: str, new_password: str) -> User:
    """Set the new password from a valid link (which then stops working), end all sessions and
    revoke every API key: whoever held the account before the reset (say, someone who signed up
    with this address first) keeps no credential."""
    user = _user_from_uid(uid)
    if user is None or not password_reset_tokens.check_token(user, token):
        raise InvalidInput("The reset link is invalid or has expired.", code="invalid_reset_link")
    _password_replace(
        user=user, new_password=new_password, action="auth.password.reset", revoke_api_keys=True
    )
    return user
