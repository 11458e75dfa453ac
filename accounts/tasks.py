"""Background work of the accounts domain."""

from datetime import timedelta

from django.conf import settings
from django.tasks import TaskResultStatus, task
from django.utils import timezone

from accounts.services import housekeeping
from core.context import runs_in_request_context


def periodic_ensure_scheduled(*, periodic_task, delay_seconds: int) -> bool:
    """Enqueue the next run of ``periodic_task`` unless one is already waiting.

    Every run calls this when it finishes, so the chain keeps itself going; because it first looks
    for a waiting run, a second chain started by accident folds into the first.
    """
    from django_tasks_db.models import DBTaskResult

    # Not .ready(): that means "due now", and the next run waits in the future.
    waiting = DBTaskResult.objects.filter(
        status=TaskResultStatus.READY, task_path=periodic_task.module_path
    )
    if waiting.exists():
        return False
    run_after = timezone.now() + timedelta(seconds=delay_seconds)
    periodic_task.using(run_after=run_after).enqueue()
    return True


@task()
@runs_in_request_context
def expired_sessions_clear() -> dict:
    """Delete expired Django sessions, then schedule the next run."""
    removed = housekeeping.expired_sessions_clear()
    periodic_ensure_scheduled(
        periodic_task=expired_sessions_clear, delay_seconds=settings.HOUSEKEEPING_INTERVAL
    )
    return {"removed": removed}


def _link_mail_send(*, user, link_parts, path: str, subject: str, body) -> dict:
    """E-mail the user a frontend link carrying ``uid`` and ``token``; ``body(link)`` words it."""
    from django.core.mail import send_mail

    if user is None:
        return {"sent": False}
    uid, token = link_parts(user=user)
    link = f"{settings.FRONTEND_URL}/{path}?uid={uid}&token={token}"
    send_mail(subject, body(link), settings.DEFAULT_FROM_EMAIL, [user.email])
    return {"sent": True}


@task()
@runs_in_request_context
def password_reset_email_send(*, user_id: str) -> dict:
    """E-mail a single-use password reset link, valid PASSWORD_RESET_TIMEOUT seconds (1 h)."""
    from accounts.models import User
    from accounts.services.passwords import password_reset_link_parts

    user = User.objects.filter(pk=user_id, is_active=True).first()
    return _link_mail_send(
        user=user,
        link_parts=password_reset_link_parts,
        path="reset-password",
        subject="Reset your Parecer password",
        body=lambda link: (
            f"Someone asked to reset the password of {user.email}.\n\nTo choose a "
            f"new one, open {link}\n\nThe link works once, for one hour. If it was not you, ignore "
            "this e-mail."
        ),
    )


@task()
@runs_in_request_context
def email_verification_send(*, user_id: str) -> dict:
    """E-mail the link that verifies the user's current address."""
    from accounts.models import User
    from accounts.services.profile import email_verification_link_parts

    user = User.objects.filter(pk=user_id, email_verified_at__isnull=True).first()
    return _link_mail_send(
        user=user,
        link_parts=email_verification_link_parts,
        path="verify-email",
        subject="Verify your e-mail address for Parecer",
        body=lambda link: f"To confirm {user.email} for your Parecer account, open {link}",
    )
