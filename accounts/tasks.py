"""Background work of the accounts domain. Services enqueue these; they call services back
(imported inside each function: services import this module at load time)."""

from django.conf import settings

from core.task_effects import effect_once
from core.tasks import background_task, periodic


@periodic(every=lambda: settings.HOUSEKEEPING_INTERVAL)
def expired_sessions_clear() -> dict:
    """Delete expired Django sessions (the next run is scheduled by ``@periodic``)."""
    from accounts.services import housekeeping

    return {"removed": housekeeping.expired_sessions_clear()}


@background_task()
def password_reset_email_send(*, user_id: str) -> dict:
    """E-mail a single-use password reset link, valid PASSWORD_RESET_TIMEOUT seconds (1 h)."""
    from accounts.models import User
    from accounts.services.passwords import password_reset_link_parts

    user = User.objects.filter(pk=user_id, is_active=True).first()
    return _link_email_once(user=user, kind="password_reset", link_parts=password_reset_link_parts)


@background_task()
def email_verification_send(*, user_id: str) -> dict:
    """E-mail the link that verifies the user's current address."""
    from accounts.models import User
    from accounts.services.profile import email_verification_link_parts

    user = User.objects.filter(pk=user_id, email_verified_at__isnull=True).first()
    return _link_email_once(
        user=user, kind="email_verification", link_parts=email_verification_link_parts
    )


@background_task()
def email_change_notice_send(*, user_id: str, old_email: str, new_email: str) -> dict:
    """Tell the previous address that the account's address changed: if a stolen session made
    the change, this is how the owner finds out."""
    from accounts import emails

    sent = effect_once(
        name="email",
        perform=lambda: emails.template_email_send(
            to=old_email,
            kind="email_changed",
            values={"old_email": old_email, "new_email": new_email},
        ),
    )
    return {"sent": sent}


def _link_email_once(*, user, kind: str, link_parts) -> dict:
    """E-mail ``user`` their ``kind`` link (None: nobody to tell), once per request even if the
    task re-runs after its worker died (core.task_effects)."""
    from accounts import emails

    if user is None:
        return {"sent": False}
    uid, token = link_parts(user=user)
    sent = effect_once(
        name="email",
        perform=lambda: emails.link_email_send(user=user, kind=kind, uid=uid, token=token),
    )
    return {"sent": sent}
