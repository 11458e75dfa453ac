"""Access tokens, refresh rotation and reuse detection, and every way a session ends."""

import base64
import json
import time
import uuid

import jwt
import pytest
from django.conf import settings

from accounts.models import RefreshToken
from accounts.tokens import sha256_hex
from tests.accounts.helpers import PASSWORD, bearer_of, error_code, login, post_json

pytestmark = pytest.mark.django_db


def test_login_returns_a_pinned_short_lived_access_token_and_a_refresh_token(
    client, user, audit_events
):
    response = login(client, user.email.upper())

    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 15 * 60
    header = jwt.get_unverified_header(body["access_token"])
    assert header["alg"] == "HS256"
    claims = jwt.decode(
        body["access_token"],
        settings.JWT_SIGNING_KEY,
        algorithms=["HS256"],
        audience=settings.JWT_AUDIENCE,
    )
    assert set(claims) == {"sub", "iat", "exp", "jti", "ver", "typ", "iss", "aud"}
    assert claims["ver"] == user.token_version == 0
    assert claims["sub"] == str(user.pk) and claims["typ"] == "access"
    assert claims["exp"] - claims["iat"] == 900
    stored = RefreshToken.objects.get(user=user)
    assert stored.token_hash == sha256_hex(body["refresh_token"])  # only the hash is kept
    assert body["refresh_token"] not in json.dumps(list(RefreshToken.objects.values()), default=str)
    [event] = audit_events(action="auth.login.succeeded")
    assert event.actor_user_id == str(user.pk)
    assert event.request_id == response["X-Request-ID"]


def test_wrong_password_and_unknown_email_look_the_same(client, user, audit_events):
    wrong = login(client, user.email, "not-the-password")
    unknown = login(client, "nobody@example.com", "whatever")

    assert wrong.status_code == unknown.status_code == 401
    assert error_code(wrong) == error_code(unknown) == "invalid_credentials"
    assert wrong.json()["error"]["message"] == unknown.json()["error"]["message"]
    failed = audit_events(action="auth.login.failed")
    assert [e.entity_id for e in failed] == [str(user.pk), ""]
    assert all("not-the-password" not in json.dumps(e.details) for e in failed)


def test_refresh_rotates_and_reuse_revokes_the_whole_family(client, user, audit_events):
    first = login(client, user.email).json()
    second = post_json(client, "/auth/refresh", {"refresh_token": first["refresh_token"]})
    assert second.status_code == 200
    second = second.json()
    assert second["refresh_token"] != first["refresh_token"]
    third = post_json(client, "/auth/refresh", {"refresh_token": second["refresh_token"]}).json()

    replay = post_json(client, "/auth/refresh", {"refresh_token": first["refresh_token"]})

    assert replay.status_code == 401
    assert error_code(replay) == "invalid_token"
    # The thief's replay also kills the legitimate holder's current token.
    after = post_json(client, "/auth/refresh", {"refresh_token": third["refresh_token"]})
    assert after.status_code == 401
    assert not RefreshToken.objects.filter(user=user, revoked_at__isnull=True).exists()
    [event] = audit_events(action="auth.token.reuse_detected")
    assert event.entity_id == str(user.pk)
    assert event.details["revoked_tokens"] == 3  # the whole family: two spent, one live


def test_logout_revokes_that_session_only(client, user, audit_events):
    laptop = login(client, user.email).json()
    phone = login(client, user.email).json()

    response = post_json(
        client, "/auth/logout", {"refresh_token": laptop["refresh_token"]}, **bearer_of(laptop)
    )

    assert response.status_code == 204
    assert (
        post_json(client, "/auth/refresh", {"refresh_token": laptop["refresh_token"]}).status_code
        == 401
    )
    assert (
        post_json(client, "/auth/refresh", {"refresh_token": phone["refresh_token"]}).status_code
        == 200
    )
    [event] = audit_events(action="auth.logout")
    assert event.details == {"scope": "session"}
    assert event.request_id == response["X-Request-ID"]


def test_logout_everywhere_revokes_every_session(client, user):
    laptop = login(client, user.email).json()
    phone = login(client, user.email).json()

    post_json(client, "/auth/logout", {"everywhere": True}, **bearer_of(laptop))

    for tokens in (laptop, phone):
        assert (
            post_json(
                client, "/auth/refresh", {"refresh_token": tokens["refresh_token"]}
            ).status_code
            == 401
        )


def test_deactivation_stops_access_tokens_at_once(client, user, admin, bearer):
    tokens = login(client, user.email).json()
    assert client.get("/api/v1/auth/me", **bearer_of(tokens)).status_code == 200

    response = client.delete(f"/api/v1/users/{user.pk}", **bearer(admin))

    assert response.status_code == 204
    assert client.get("/api/v1/auth/me", **bearer_of(tokens)).status_code == 401
    assert (
        post_json(client, "/auth/refresh", {"refresh_token": tokens["refresh_token"]}).status_code
        == 401
    )


def test_password_change_revokes_refresh_tokens(client, user, audit_events):
    tokens = login(client, user.email).json()

    response = post_json(
        client,
        "/auth/password/change",
        {"current_password": PASSWORD, "new_password": "a-new-long-passphrase-7"},
        **bearer_of(tokens),
    )

    assert response.status_code == 204
    assert (
        post_json(client, "/auth/refresh", {"refresh_token": tokens["refresh_token"]}).status_code
        == 401
    )
    assert login(client, user.email, "a-new-long-passphrase-7").status_code == 200
    [event] = audit_events(action="auth.password.changed")
    assert "a-new-long-passphrase-7" not in json.dumps(event.details)


def test_expired_refresh_token_is_refused(client, user):
    tokens = login(client, user.email).json()
    RefreshToken.objects.update(expires_at="2000-01-01T00:00:00Z")

    response = post_json(client, "/auth/refresh", {"refresh_token": tokens["refresh_token"]})

    assert response.status_code == 401


def _forge(claims: dict, *, key: str | None = None, alg: str = "HS256") -> str:
    return jwt.encode(claims, key or settings.JWT_SIGNING_KEY, algorithm=alg)


def _claims(user, **changes) -> dict:
    now = int(time.time())
    claims = {
        "sub": str(user.pk), "iat": now, "exp": now + 600, "jti": uuid.uuid4().hex, "ver": 0,
        "typ": "access", "iss": settings.JWT_ISSUER, "aud": settings.JWT_AUDIENCE,
    }  # fmt: skip
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def _alg_none(user) -> str:
    def part(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(_claims(user))}."


BAD_TOKENS = {
    "malformed": lambda user: "not.a.jwt",
    "expired": lambda user: _forge(
        _claims(user, iat=int(time.time()) - 7200, exp=int(time.time()) - 3600)
    ),
    "wrongly signed": lambda user: _forge(
        _claims(user), key="another-key-that-is-long-enough-0123456789"
    ),
    "alg none": _alg_none,
    "wrong audience": lambda user: _forge(_claims(user, aud="someone-else")),
    "wrong type": lambda user: _forge(_claims(user, typ="refresh")),
    "missing jti": lambda user: _forge(_claims(user, jti=None)),
    "unknown user": lambda user: _forge(_claims(user, sub=str(uuid.uuid4()))),
    "missing token version": lambda user: _forge(_claims(user, ver=None)),
    "revoked token version": lambda user: _forge(_claims(user, ver=-1)),
    "boolean token version": lambda user: _forge(_claims(user, ver=False)),
    # Validly signed, but its expiry is past any date: was an OverflowError, a 500.
    "exp beyond any date": lambda user: _forge(_claims(user, exp=10**20)),
    "exp overflowing": lambda user: _forge(_claims(user, exp=2**70)),
}


@pytest.mark.parametrize("kind", BAD_TOKENS)
def test_bad_access_tokens_are_401(client, user, kind):
    token = BAD_TOKENS[kind](user)

    response = client.get("/api/v1/auth/me", HTTP_AUTHORIZATION=f"Bearer {token}")

    # A presented but unusable token says so (clients refresh on it), and names the scheme.
    assert response.status_code == 401
    assert error_code(response) == "invalid_token"
    assert response["WWW-Authenticate"] == 'Bearer error="invalid_token"'


def test_a_token_verified_once_is_still_refused_when_it_expires(client, user, monkeypatch):
    token = _forge(_claims(user, exp=int(time.time()) + 60))
    me = "/api/v1/auth/me"
    assert client.get(me, HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 200  # verified

    later = time.time() + 61
    monkeypatch.setattr("accounts.tokens.time", type("Clock", (), {"time": lambda: later}))
    response = client.get(me, HTTP_AUTHORIZATION=f"Bearer {token}")

    assert response.status_code == 401 and error_code(response) == "invalid_token"


def test_refresh_token_used_as_access_token_is_401(client, user):
    tokens = login(client, user.email).json()

    response = client.get("/api/v1/auth/me", HTTP_AUTHORIZATION=f"Bearer {tokens['refresh_token']}")

    assert response.status_code == 401


def test_access_token_used_as_refresh_token_is_401(client, user):
    tokens = login(client, user.email).json()

    response = post_json(client, "/auth/refresh", {"refresh_token": tokens["access_token"]})

    assert response.status_code == 401
    assert error_code(response) == "invalid_token"


def test_no_response_leaks_a_hash(client, user, bearer):
    bodies = [
        login(client, user.email).content,
        client.get("/api/v1/auth/me", **bearer(user)).content,
        post_json(
            client, "/auth/api-keys", {"name": "x", "current_password": PASSWORD}, **bearer(user)
        ).content,
        client.get("/api/v1/auth/api-keys", **bearer(user)).content,
    ]
    user.refresh_from_db()
    for body in bodies:
        text = body.decode()
        assert user.password not in text
        assert "key_hash" not in text and "token_hash" not in text and "password" not in text
