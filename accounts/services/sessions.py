"""Signing in and out: login, token refresh with rotation and reuse detection, logout."""

from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.functional import SimpleLazyObject

from accounts import cached_users, throttles
from accounts.models import RefreshToken, User
from accounts.selectors import user_get_by_email
from accounts.tokens import access_token_issue, refresh_token_generate, sha256_hex
from audits.services import audit_event_record
from core import context
from core.errors import InvalidInput, NotAuthenticated

# Checked against when the e-mail is unknown, so a miss costs the same hash time as a wrong password.
_DUMMY_HASH = SimpleLazyObject(lambda: make_password("parecer-timing-equaliser"))


@dataclass(frozen=True)
class IssuedTokens:
    access_token: str
    refresh_token: str
    expires_in: int
    refresh_expires_in: int
    user: User


def _issue(*, user: User, family=None) -> IssuedTokens:
    access, expires_in = access_token_issue(user_id=user.pk, token_version=user.token_version)
    refresh, refresh_hash = refresh_token_generate()
    fields = {"family": family} if family else {}
    RefreshToken.objects.create(
        user=user,
        token_hash=refresh_hash,
        expires_at=timezone.now() + settings.REFRESH_TOKEN_TTL,
        **fields,
    )
    return IssuedTokens(
        access_token=access,
        refresh_token=refresh,
        expires_in=expires_in,
        refresh_expires_in=int(settings.REFRESH_TOKEN_TTL.total_seconds()),
        user=user,
    )


def _password_matches(*, user: User | None, password: str) -> bool:
    """One full hash check whoever asks: unknown, deactivated or password-less accounts cost the
    same time as a wrong password, so timing reveals neither existence nor state."""
    if user is None or not user.has_usable_password():
        check_password(password, str(_DUMMY_HASH))
        return False
    return user.check_password(password)


def login(*, email: str, password: str) -> IssuedTokens:
    """Check the password (same cost for every kind of miss), enforce the lockout, issue tokens."""
    ip = context.current().ip
    user = user_get_by_email(email=email)
    account = throttles.lockout_account(user_id=user.pk if user else None, email=email)
    throttles.login_lockout_check(account=account, ip=ip)
    if _password_matches(user=user, password=password) and user.is_active:
        throttles.login_failures_reset(account=account)
        with transaction.atomic():
            user.last_login = timezone.now()
            user.save(update_fields=["last_login"])
            context.set_actor(user_id=str(user.pk), label=user.email)
            audit_event_record(action="auth.login.succeeded", entity_type="user", entity_id=user.pk)
            return _issue(user=user)
    locked = throttles.login_failure_count(account=account, ip=ip)
    audit_event_record(
        action="auth.login.locked_out" if locked else "auth.login.failed",
        entity_type="user",
        entity_id=user.pk if user else "",
        details={"email": email.strip().lower()[:254]},
    )
    raise NotAuthenticated("E-mail or password is incorrect.", code="invalid_credentials")


def refresh(*, refresh_token: str) -> IssuedTokens:
    """Rotate: the presented token is spent and a new pair is issued in the same family.

    Presenting an already-spent token means it was stolen or replayed: the whole family is
    revoked, so the thief's copy and the owner's current one both stop working.
    """
    now = timezone.now()
    token_hash = sha256_hex(refresh_token)
    with transaction.atomic():
        owner_id = (
            RefreshToken.objects.filter(token_hash=token_hash).values_list("user_id", flat=True)
        ).first()
        if owner_id is None:
            raise NotAuthenticated("The refresh token is not valid.", code="invalid_token")
        # One lock order wherever sessions end: the user's row, then their tokens (as
        # sessions_end_all does). A refresh racing a logout everywhere waits for it and then
        # finds its token revoked, instead of minting a token the logout never saw, or deadlocking.
        User.objects.select_for_update(no_key=True).filter(pk=owner_id).values_list("pk").first()
        token = (
            RefreshToken.objects.select_for_update(of=("self",))
            .select_related("user")
            .filter(token_hash=token_hash)
            .first()
        )
        if token is None:  # its owner was deleted in between
            raise NotAuthenticated("The refresh token is not valid.", code="invalid_token")
        if token.used_at is not None:
            revoked = RefreshToken.objects.filter(
                family=token.family, revoked_at__isnull=True
            ).update(revoked_at=now)
            audit_event_record(
                action="auth.token.reuse_detected",
                entity_type="user",
                entity_id=token.user_id,
                details={"family": str(token.family), "revoked_tokens": revoked},
            )
        elif token.revoked_at is None and token.expires_at > now and token.user.is_active:
            token.used_at = now
            token.save(update_fields=["used_at"])
            audit_event_record(
                action="auth.token.refreshed",
                entity_type="user",
                entity_id=token.user_id,
                actor_user_id=str(token.user_id),
                actor_label=token.user.email,
                details={"family": str(token.family)},
            )
            return _issue(user=token.user, family=token.family)
    raise NotAuthenticated("The refresh token is not valid.", code="invalid_token")


def refresh_tokens_revoke_all(*, user: User) -> int:
    """Revoke every live refresh token of ``user`` (deactivation, and within ``sessions_end_all``)."""
    return RefreshToken.objects.filter(user=user, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )


def sessions_end_all(*, user: User) -> int:
    """End every session of ``user`` at once: refresh tokens revoked, and the token version
    raised so access tokens already issued stop working on their next request. Returns how
    many refresh tokens were revoked. Call inside the transaction of the change that needs it."""
    User.objects.filter(pk=user.pk).update(token_version=F("token_version") + 1)
    cached_users.user_changed(user.pk)
    user.refresh_from_db(fields=["token_version"])
    return refresh_tokens_revoke_all(user=user)


def logout(*, user: User, refresh_token: str | None, everywhere: bool) -> None:
    """End one session (the refresh token's family) or, with ``everywhere``, every session and
    every access token. Ending "this session" needs its refresh token: guessing would either
    end nothing or end everything, both wrong."""
    if not everywhere and not refresh_token:
        raise InvalidInput(
            "Send the session's refresh_token (or the refresh cookie), or everywhere: true.",
            code="refresh_token_required",
            details=[{"field": "refresh_token", "in": "body", "reason": "required"}],
        )
    with transaction.atomic():
        if everywhere:
            scope = "all_sessions"
            sessions_end_all(user=user)
        else:
            scope = "session"
            token = RefreshToken.objects.filter(
                user=user, token_hash=sha256_hex(refresh_token)
            ).first()
            if token is not None:
                RefreshToken.objects.filter(family=token.family, revoked_at__isnull=True).update(
                    revoked_at=timezone.now()
                )
        audit_event_record(
            action="auth.logout", entity_type="user", entity_id=user.pk, details={"scope": scope}
        )


def refresh_families_revoke(*, families: set) -> int:
    """Back office: end these sign-in sessions (token families), one audit event per session."""
    revoked = 0
    with transaction.atomic():
        for family in sorted(families, key=str):
            owner_id = (
                RefreshToken.objects.filter(family=family).values_list("user_id", flat=True).first()
            )
            count = RefreshToken.objects.filter(family=family, revoked_at__isnull=True).update(
                revoked_at=timezone.now()
            )
            if count:
                revoked += 1
                audit_event_record(
                    action="auth.session.revoked",
                    entity_type="user",
                    entity_id=owner_id,
                    details={"family": str(family), "revoked_refresh_tokens": count},
                )
    return revoked
