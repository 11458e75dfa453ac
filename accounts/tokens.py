"""Credentials as data: JWT access tokens, opaque refresh tokens, API keys, e-mail link tokens."""

import hashlib
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache

import jwt
from django.conf import settings
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.utils import timezone

ALGORITHM = "HS256"  # pinned: decode never trusts the token's own "alg" header
API_KEY_PREFIX = "prc_"


class InvalidToken(Exception):
    """The token is malformed, expired, wrongly signed or of the wrong type."""


def sha256_hex(value: str) -> str:
    """Hash for high-entropy secrets (refresh tokens, API keys); a slow KDF would add nothing."""
    return hashlib.sha256(value.encode()).hexdigest()


@dataclass(frozen=True)
class AccessClaims:
    user_id: uuid.UUID
    token_version: int
    jti: str
    expires_at: datetime


def access_token_issue(*, user_id: uuid.UUID, token_version: int = 0) -> tuple[str, int]:
    """A signed access JWT and its lifetime in seconds.

    ``token_version`` is the user's current ``User.token_version`` (0 until their tokens are
    first revoked); a token whose version is behind the user's no longer authenticates.
    """
    now = timezone.now()
    ttl = settings.ACCESS_TOKEN_TTL
    claims = {
        "sub": str(user_id),
        "iat": int(now.timestamp()),
        "exp": int((now + ttl).timestamp()),
        "jti": uuid.uuid4().hex,
        "ver": token_version,
        "typ": "access",
        "iss": settings.JWT_ISSUER,
        "aud": settings.JWT_AUDIENCE,
    }
    return jwt.encode(claims, settings.JWT_SIGNING_KEY, algorithm=ALGORITHM), int(
        ttl.total_seconds()
    )


def access_token_decode(token: str) -> AccessClaims:
    """The claims of a valid, unexpired access token; else ``InvalidToken``."""
    claims = _access_token_verified(
        token, settings.JWT_SIGNING_KEY, settings.JWT_AUDIENCE, settings.JWT_ISSUER
    )
    if claims.expires_at.timestamp() <= time.time():  # as PyJWT: expired at exp itself
        raise InvalidToken("Signature has expired")
    return claims


# A client presents the same token on every request of its lifetime: its signature, audience,
# issuer and claims are checked once per process (~50 us of a ~0.5 ms request), its expiry on
# every use above. Only tokens that verified are kept (an exception is never cached), so
# garbage cannot fill it; revocation is the user check's job (token version, active), as before.
@lru_cache(maxsize=4096)
def _access_token_verified(token: str, key: str, audience: str, issuer: str) -> AccessClaims:
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=[ALGORITHM],
            audience=audience,
            issuer=issuer,
            options={"require": ["sub", "iat", "exp", "jti", "ver", "typ", "iss", "aud"]},
        )
        if claims["typ"] != "access":
            raise InvalidToken("not an access token")
        if not isinstance(claims["ver"], int) or isinstance(claims["ver"], bool):
            raise InvalidToken("token version is not an integer")
        return AccessClaims(
            user_id=uuid.UUID(claims["sub"]),
            token_version=claims["ver"],
            jti=claims["jti"],
            expires_at=datetime.fromtimestamp(int(claims["exp"]), tz=UTC),
        )
    # OverflowError: a correctly signed token whose exp lies beyond any representable date.
    except (jwt.PyJWTError, ValueError, TypeError, OverflowError, OSError) as exc:
        raise InvalidToken(str(exc)) from exc


def refresh_token_generate() -> tuple[str, str]:
    """A new opaque refresh token and the hash that is stored."""
    token = secrets.token_urlsafe(48)
    return token, sha256_hex(token)


def api_key_generate() -> tuple[str, str, str]:
    """(full key shown once, visible prefix, stored hash)."""
    prefix = API_KEY_PREFIX + secrets.token_hex(4)
    key = f"{prefix}_{secrets.token_urlsafe(32)}"
    return key, prefix, sha256_hex(key)


class EmailVerificationTokenGenerator(PasswordResetTokenGenerator):
    """Link token that dies once the address is verified or changed."""

    key_salt = "parecer.accounts.email-verification"

    def _make_hash_value(self, user, timestamp: int) -> str:
        return f"{user.pk}{user.email}{user.email_verified_at}{timestamp}"


email_verification_tokens = EmailVerificationTokenGenerator()
# Django's generator hashes the password and last login into the token: it works once, for
# PASSWORD_RESET_TIMEOUT seconds (1 h here).
password_reset_tokens = PasswordResetTokenGenerator()
