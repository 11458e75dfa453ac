"""Admin management of people: role, activation, name."""

from django.db import transaction

from accounts.models import Role, User
from accounts.selectors import active_admin_count
from accounts.services.sessions import sessions_end_all
from audits.services import audit_event_record, changes_between
from core.errors import Conflict


def last_admin_guard(*, target: User, role: str, is_active: bool) -> None:
    """Refuse (Conflict ``last_admin``) a change that would leave no active admin."""
    losing_admin = (
        target.role == Role.ADMIN and target.is_active and (role != Role.ADMIN or not is_active)
    )
    if losing_admin and active_admin_count() <= 1:
        raise Conflict(
            "This is the last active admin; promote someone else first.", code="last_admin"
        )


def _user_change_audit(*, user: User, changes: dict) -> None:
    """One event per change, named by its most significant part; deactivation signs out."""
    if changes.get("is_active", {}).get("after") is False:
        action = "user.deactivated"
        changes["revoked_refresh_tokens"] = sessions_end_all(user=user)
    elif "role" in changes:
        action = "user.role.changed"
    elif "is_active" in changes:
        action = "user.reactivated"
    else:
        action = "user.updated"
    audit_event_record(action=action, entity_type="user", entity_id=user.pk, details=changes)


def user_update(
    *,
    target: User,
    role: str | None = None,
    is_active: bool | None = None,
    full_name: str | None = None,
) -> User:
    """Change role, activation or name; deactivation revokes every refresh token at once."""
    new_role = role if role is not None else target.role
    new_active = is_active if is_active is not None else target.is_active
    with transaction.atomic():
        # Lock the row so two admins demoting each other cannot both pass the last-admin guard.
        list(
            User.objects.select_for_update(no_key=True)
            .filter(role=Role.ADMIN, is_active=True)
            .values_list("pk", flat=True)
        )
        last_admin_guard(target=target, role=new_role, is_active=new_active)
        before = {"role": target.role, "is_active": target.is_active, "full_name": target.full_name}
        target.role, target.is_active = new_role, new_active
        if full_name is not None:
            target.full_name = full_name
        after = {"role": target.role, "is_active": target.is_active, "full_name": target.full_name}
        changes = changes_between(before, after)
        if not changes:
            return target
        target.save(update_fields=["role", "is_active", "full_name", "updated_at"])
        _user_change_audit(user=target, changes=changes)
    return target


def user_deactivate(*, target: User) -> User:
    return user_update(target=target, is_active=False)


USER_ADMIN_FIELDS = ("email", "full_name", "role", "is_active", "email_verified_at")


def user_admin_snapshot(user: User) -> dict:
    return {field: getattr(user, field) for field in USER_ADMIN_FIELDS}


def user_save_from_admin(*, user: User, before: dict | None, password: str | None = None) -> User:
    """Save a user edited in the admin site, with the same guard and one audit event."""
    with transaction.atomic():
        if before is None:
            if password:
                user.set_password(password)
            else:
                user.set_unusable_password()
            user.save()
            audit_event_record(
                action="user.created",
                entity_type="user",
                entity_id=user.pk,
                details={"email": user.email, "role": user.role},
            )
            return user
        last_admin_guard(
            target=User(role=before["role"], is_active=before["is_active"]),
            role=user.role,
            is_active=user.is_active,
        )
        changes = changes_between(before, user_admin_snapshot(user))
        if password:
            user.set_password(password)
        user.save()
        if password:
            # As after the user's own change: every API session (refresh and access tokens) ends;
            # the trail says who did it.
            audit_event_record(
                action="auth.password.set_by_admin",
                entity_type="user",
                entity_id=user.pk,
                details={"revoked_refresh_tokens": sessions_end_all(user=user)},
            )
        if not changes:
            return user
        _user_change_audit(user=user, changes=changes)
    return user


def user_delete(*, target: User) -> None:
    """Back office hard delete (erasure requests); the API only deactivates.

    One transaction: the person's refresh tokens and API keys go with them (every API credential
    dies at once; an admin-site session dies with the row it points at), and one event records
    what went. The trail itself is not rewritten: its actor ids and labels are plain values, and
    rewriting sealed rows would break the chain."""
    with transaction.atomic():
        last_admin_guard(target=target, role="", is_active=False)
        user_id, role = target.pk, target.role
        key_prefixes = sorted(target.api_keys.values_list("prefix", flat=True))
        deleted_tokens, _ = target.refresh_tokens.all().delete()
        target.api_keys.all().delete()
        target.delete()
        audit_event_record(
            action="user.deleted",
            entity_type="user",
            entity_id=user_id,
            details={
                "role": role,
                "deleted_refresh_tokens": deleted_tokens,
                "deleted_api_key_prefix": key_prefixes,
            },
        )
