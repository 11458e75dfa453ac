"""Recent authentication: changes that could hand the account to someone else (e-mail, API keys,
password) need the current password, not only a bearer token that may have been stolen."""

from accounts import throttles
from accounts.models import User
from audits.services import audit_event_record
from core import context
from core.errors import PermissionDenied


def current_password_confirm(*, user: User, password: str | None) -> None:
    """Raise 403 ``reauthentication_required`` without a password, 403 ``invalid_credentials``
    for a wrong one; each wrong guess counts against the account's sign-in lockout (429
    ``login_locked`` once it trips), so a stolen token cannot guess the password at leisure."""
    if not password:
        raise PermissionDenied(
            "Confirm this change with your current password (current_password).",
            code="reauthentication_required",
            details=[{"field": "current_password", "in": "body", "reason": "required"}],
        )
    ip = context.current().ip
    account = throttles.lockout_account(user_id=user.pk, email=user.email)
    throttles.login_lockout_check(account=account, ip=ip)
    if user.check_password(password):
        return
    locked = throttles.login_failure_count(account=account, ip=ip)
    # Outside any transaction on purpose: the refusal below must not take the record with it.
    audit_event_record(
        action="auth.reauthentication.failed",
        entity_type="user",
        entity_id=user.pk,
        details={"locked_out": locked},
    )
    # 403, not 401: the session is fine, the confirmation is not (401 reads as "signed out").
    raise PermissionDenied("The current password is incorrect.", code="invalid_credentials")
