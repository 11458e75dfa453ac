"""Signing in to and out of the back office (admin site): the API's lockout, throttle and audit.

The admin keeps Django's session login; only the credential check is shared with the API: the
same lockout counters (``accounts.throttles``, per account and per IP, failing closed when the
cache is down), the same equal-cost miss, the same audit actions with ``details.via = "admin"``.
"""

from django.db import transaction
from django.utils import timezone

from accounts import throttles
from accounts.models import User
from accounts.selectors import user_get_by_email
from audits.services import audit_event_record
from core import context
from core.errors import NotAuthenticated, PermissionDenied
from core.permissions import is_staff_member

VIA = {"via": "admin"}


def admin_sign_in(*, email: str, password: str) -> User:
    """The staff member or admin with these credentials; the caller starts the session.

    Raises ``TooManyRequests`` while locked out, ``NotAuthenticated`` for wrong credentials
    (counted towards the lockout), ``PermissionDenied`` for a right password without a
    back-office role (audited, not counted: the password was right).
    """
    ip = context.current().ip
    user = user_get_by_email(email=email)
    # The same counter as the API's login: the resolved account (or the normalised address).
    account = throttles.lockout_account(user_id=user.pk if user else None, email=email)
    throttles.login_lockout_check(account=account, ip=ip)
    usable = user is not None and user.has_usable_password()
    if not usable:
        User().set_password(password)  # every kind of miss costs one hash, like a wrong password
    if usable and user.is_active and user.check_password(password):
        throttles.login_failures_reset(account=account)
        context.set_actor(user_id=str(user.pk), label=user.email)
        if not is_staff_member(user):
            audit_event_record(
                action="auth.login.failed",
                entity_type="user",
                entity_id=user.pk,
                details={**VIA, "reason": "no back-office role"},
            )
            raise PermissionDenied(
                "This account has no back-office role.", code="no_backoffice_role"
            )
        with transaction.atomic():
            user.last_login = timezone.now()
            user.save(update_fields=["last_login"])
            audit_event_record(
                action="auth.login.succeeded", entity_type="user", entity_id=user.pk, details=VIA
            )
        return user
    locked = throttles.login_failure_count(account=account, ip=ip)
    audit_event_record(
        action="auth.login.locked_out" if locked else "auth.login.failed",
        entity_type="user",
        entity_id=user.pk if user else "",
        details={**VIA, "email": email.strip().lower()[:254]},
    )
    raise NotAuthenticated("E-mail or password is incorrect.", code="invalid_credentials")


def admin_sign_out(*, user: User) -> None:
    """Audit the end of a back-office session (Django's logout ends it)."""
    audit_event_record(
        action="auth.logout",
        entity_type="user",
        entity_id=user.pk,
        actor_user_id=str(user.pk),
        actor_label=user.email,
        details={**VIA, "scope": "admin_session"},
    )
