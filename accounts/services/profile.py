"""A person's own account: registration, profile changes, e-mail verification."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.encoding import force_bytes, force_str
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode

from accounts.models import Role, User, UserManager
from accounts.selectors import email_verification_pending, user_get_by_email
from accounts.services.passwords import password_validate
from accounts.services.reauthentication import current_password_confirm
from accounts.tasks import email_change_notice_send
from accounts.tasks import email_verification_send as email_verification_task
from accounts.tokens import email_verification_tokens
from audits.services import audit_event_record, changes_between
from core import context
from core.errors import Conflict, InvalidInput, PermissionDenied, TooManyRequests
from core.throttles import rate_counter_hit


def user_register(*, email: str, password: str, full_name: str) -> User:
    """Open sign-up (when REGISTRATION_OPEN): always the ``user`` role; a verification mail follows."""
    if not settings.REGISTRATION_OPEN:
        raise PermissionDenied("Registration is closed.", code="registration_closed")
    email = UserManager.normalize_email(email)
    if user_get_by_email(email=email) is not None:
        raise Conflict("An account with this e-mail already exists.", code="email_taken")
    password_validate(
        password=password, user=User(email=email, full_name=full_name), field="password"
    )
    try:
        with transaction.atomic():
            user = User.objects.create_user(email=email, password=password, full_name=full_name)
            audit_event_record(
                action="user.registered",
                entity_type="user",
                entity_id=user.pk,
                actor_user_id=str(user.pk),
                actor_label=user.email,
                details={"email": user.email, "role": Role.USER},
            )
            _verification_mail_enqueue(user=user, raise_when_throttled=False)
    except IntegrityError as exc:  # a concurrent registration won the race
        raise Conflict("An account with this e-mail already exists.", code="email_taken") from exc
    return user


def profile_update(
    *,
    user: User,
    full_name: str | None = None,
    email: str | None = None,
    current_password: str | None = None,
) -> User:
    """Change one's own name or e-mail. A new e-mail needs the current password (recent
    authentication), is unverified until its link is followed, and the old address is told."""
    before = {"full_name": user.full_name, "email": user.email}
    if email is not None:
        email = UserManager.normalize_email(email)
        if email != user.email:
            current_password_confirm(user=user, password=current_password)
            other = user_get_by_email(email=email)
            if other is not None and other.pk != user.pk:
                raise Conflict("An account with this e-mail already exists.", code="email_taken")
            user.email, user.email_verified_at = email, None
    if full_name is not None:
        user.full_name = full_name
    changes = changes_between(before, {"full_name": user.full_name, "email": user.email})
    if not changes:
        return user
    try:
        with transaction.atomic():
            user.save(update_fields=["full_name", "email", "email_verified_at", "updated_at"])
            audit_event_record(
                action="user.updated", entity_type="user", entity_id=user.pk, details=changes
            )
            if "email" in changes:
                # Bouncing an address back and forth must not flood its inbox with notices.
                if _address_mail_allowed(email=before["email"]):
                    context.enqueue(
                        email_change_notice_send,
                        user_id=str(user.pk),
                        old_email=before["email"],
                        new_email=user.email,
                    )
                _verification_mail_enqueue(user=user, raise_when_throttled=False)
    except IntegrityError as exc:
        raise Conflict("An account with this e-mail already exists.", code="email_taken") from exc
    return user


def email_verification_link_parts(*, user: User) -> tuple[str, str]:
    return urlsafe_base64_encode(force_bytes(user.pk)), email_verification_tokens.make_token(user)


def email_verification_send(*, user: User) -> bool:
    """Send (again) the verification link for the current address. At most one such mail waits
    per user: while one is queued, asking again changes nothing (False). 429 when the address
    had its share of mails (``THROTTLE_RATES["email_verification_address"]``)."""
    if user.email_verified_at is not None:
        raise Conflict("This e-mail address is already verified.", code="already_verified")
    with transaction.atomic():
        if not _verification_mail_enqueue(user=user, raise_when_throttled=True):
            return False
        audit_event_record(
            action="auth.email.verification_sent",
            entity_type="user",
            entity_id=user.pk,
            details={"email": user.email},
        )
    return True


def email_verify_confirm(*, uid: str, token: str) -> User:
    """Mark the address verified from a valid link; the link then stops working."""
    try:
        user = User.objects.filter(pk=force_str(urlsafe_base64_decode(uid))).first()
    except (ValueError, TypeError, OverflowError, ValidationError):
        user = None
    if user is None or not email_verification_tokens.check_token(user, token):
        raise InvalidInput("The verification link is invalid or has expired.", code="invalid_link")
    with transaction.atomic():
        user.email_verified_at = timezone.now()
        user.save(update_fields=["email_verified_at", "updated_at"])
        audit_event_record(
            action="auth.email.verified",
            entity_type="user",
            entity_id=user.pk,
            actor_user_id=str(user.pk),
            actor_label=user.email,
            details={"email": user.email},
        )
    return user


def _verification_mail_enqueue(*, user: User, raise_when_throttled: bool) -> bool:
    """Queue the verification mail unless one is already waiting for this user (it will read the
    current address when it runs) or the address had its share; True when queued."""
    if email_verification_pending(user_id=user.pk):
        return False
    if raise_when_throttled:
        rate_counter_hit(scope="email_verification_address", ident=user.email)
    elif not _address_mail_allowed(email=user.email):
        return False  # the account change still happens; the user can ask for the link later
    # The database queue is transactional: the mail goes out only if the change commits.
    context.enqueue(email_verification_task, user_id=str(user.pk))
    return True


def _address_mail_allowed(*, email: str) -> bool:
    """Count one unsolicited mail (link or notice) to ``email``; False once the address had its
    share (``THROTTLE_RATES["email_verification_address"]``)."""
    try:
        rate_counter_hit(scope="email_verification_address", ident=email)
    except TooManyRequests:
        return False
    return True


PREFERENCES_MAX_BYTES = 16 * 1024


def preferences_replace(*, user: User, preferences: dict) -> dict:
    """Replace one's own preferences (a JSON object a frontend owns, at most 16 KiB encoded)."""
    import json

    size = len(json.dumps(preferences, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))
    if size > PREFERENCES_MAX_BYTES:
        raise InvalidInput(
            f"Preferences may take at most {PREFERENCES_MAX_BYTES} bytes as JSON ({size} given).",
            code="preferences_too_large",
            details=[{"field": "body", "in": "body", "reason": f"{size} bytes", "type": "size"}],
        )
    before = user.preferences or {}
    changed = sorted(
        k for k in set(before) | set(preferences) if before.get(k) != preferences.get(k)
    )
    with transaction.atomic():
        user.preferences = preferences
        user.save(update_fields=["preferences", "updated_at"])
        # The names of the changed keys, not their values: preferences are the frontend's business.
        audit_event_record(
            action="user.preferences.updated",
            entity_type="user",
            entity_id=user.pk,
            details={"changed_keys": changed[:50], "bytes": size},
        )
    return user.preferences
