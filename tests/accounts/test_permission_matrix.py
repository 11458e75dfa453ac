"""Every accounts endpoint x every kind of caller: the status, and the envelope on errors."""

import pytest

from accounts.services.api_keys import api_key_create
from tests.support.actors import matrix_call, matrix_cases
from tests.support.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery-staple"


def _own_key(person):
    return (
        api_key_create(user=person, name="mine")[0].pk
        if person
        else "00000000-0000-0000-0000-000000000000"
    )


# (method, path, body, expected status per actor); "{me}" is the caller, "{other}" another user,
# "{own_key}" one of the caller's API keys.
U, S, A, R, W = "user", "staff", "admin", "read_key", "write_key"
MATRIX = [
    ("get", "/auth/me", None, {"anonymous": 401, U: 200, S: 200, A: 200, R: 200, W: 200}),
    (
        "patch",
        "/auth/me",
        {"full_name": "New"},
        {"anonymous": 401, U: 200, S: 200, A: 200, R: 403, W: 403},
    ),
    (
        "post",
        "/auth/logout",
        {"everywhere": True},
        {"anonymous": 401, U: 204, S: 204, A: 204, R: 403, W: 403},
    ),
    # "This session" needs its refresh token: without one nothing is guessed (422).
    ("post", "/auth/logout", {}, {"anonymous": 401, U: 422, S: 422, A: 422, R: 403, W: 403}),
    (
        "post",
        "/auth/password/change",
        {"current_password": PASSWORD, "new_password": "another-long-secret-9"},
        {"anonymous": 401, U: 204, S: 204, A: 204, R: 403, W: 403},
    ),
    (
        "post",
        "/auth/email/verify",
        None,
        # The factories' people are verified: reaching the service is a 409 already_verified.
        {"anonymous": 401, U: 409, S: 409, A: 409, R: 403, W: 403},
    ),
    ("get", "/auth/api-keys", None, {"anonymous": 401, U: 200, S: 200, A: 200, R: 403, W: 403}),
    (
        "post",
        "/auth/api-keys",
        {"name": "ci", "current_password": PASSWORD},
        {"anonymous": 401, U: 201, S: 201, A: 201, R: 403, W: 403},
    ),
    (
        "delete",
        "/auth/api-keys/{own_key}",
        None,
        {"anonymous": 401, U: 204, S: 204, A: 204, R: 403, W: 403},
    ),
    ("get", "/users", None, {"anonymous": 401, U: 403, S: 403, A: 200, R: 403, W: 403}),
    ("get", "/users/{other}", None, {"anonymous": 401, U: 403, S: 403, A: 200, R: 403, W: 403}),
    (
        "patch",
        "/users/{other}",
        {"role": "staff"},
        {"anonymous": 401, U: 403, S: 403, A: 200, R: 403, W: 403},
    ),
    ("delete", "/users/{other}", None, {"anonymous": 401, U: 403, S: 403, A: 204, R: 403, W: 403}),
    (
        "post",
        "/auth/register",
        {"email": "new@example.com", "password": PASSWORD},
        {"anonymous": 201, U: 201, S: 201, A: 201, R: 201, W: 201},
    ),
    (
        "post",
        "/auth/password/reset",
        {"email": "nobody@example.com"},
        {"anonymous": 202, U: 202, S: 202, A: 202, R: 202, W: 202},
    ),
    (
        "post",
        "/auth/refresh",
        {"refresh_token": "not-a-token"},
        {"anonymous": 401, U: 401, S: 401, A: 401, R: 401, W: 401},
    ),
]


@pytest.mark.parametrize(("method", "path", "body", "actor", "expected"), matrix_cases(MATRIX))
def test_endpoint_by_actor(client, method, path, body, actor, expected):
    other = UserFactory()
    matrix_call(
        client,
        method=method,
        path=path,
        body=body,
        actor=actor,
        expected=expected,
        placeholders=lambda person: {"other": other.pk, "own_key": _own_key(person)},
    )
