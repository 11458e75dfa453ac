"""Credentials for every kind of caller, and the permission-matrix runner every app's matrix uses.

A matrix row is ``(method, path, body, {actor: status})``; ``path`` may hold ``{placeholders}``
that ``placeholders(person)`` (a per-test callable) fills for the calling person (None when
anonymous).
"""

from collections.abc import Callable
from typing import Any

import pytest

from tests.support.factories import AdminFactory, StaffFactory, UserFactory

ACTORS = ("anonymous", "user", "staff", "admin", "read_key", "write_key")
ERROR_CODES = {
    401: {"not_authenticated", "invalid_token"},
    403: {"permission_denied", "api_key_not_allowed", "insufficient_scope"},
}


def credentials(actor: str) -> tuple[Any, dict]:
    """A new person for ``actor`` and the headers that authenticate as them."""
    from accounts.services.api_keys import api_key_create
    from accounts.tokens import access_token_issue

    if actor == "anonymous":
        return None, {}
    factory = {"staff": StaffFactory, "admin": AdminFactory}.get(actor, UserFactory)
    person = factory()
    if actor.endswith("_key"):
        scope = "read" if actor == "read_key" else "read+write"
        _, secret = api_key_create(user=person, name=actor, scope=scope)
        return person, {"HTTP_X_API_KEY": secret}
    token, _ = access_token_issue(user_id=person.pk)
    return person, {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def matrix_cases(matrix: list[tuple], actors: tuple[str, ...] = ACTORS) -> list:
    """pytest params ``(method, path, body, actor, expected)``, one per row and actor."""
    return [
        pytest.param(method, path, body, actor, expected[actor], id=f"{method} {path} as {actor}")
        for method, path, body, expected in matrix
        for actor in actors
        if actor in expected
    ]


def matrix_call(
    client,
    *,
    method: str,
    path: str,
    body: Any,
    actor: str,
    expected: int,
    placeholders: Callable[[Any], dict] = lambda person: {},
):
    """Call as ``actor`` and check the status, and the envelope (code, request id) on errors."""
    person, headers = credentials(actor)
    url = "/api/v1" + path.format(**placeholders(person))
    call = getattr(client, method)
    if body is None:
        response = call(url, **headers)
    else:
        response = call(url, body, content_type="application/json", **headers)
    assert response.status_code == expected, response.content
    if expected >= 400:
        error = response.json()["error"]
        assert error["request_id"] == response["X-Request-ID"]
        if expected in ERROR_CODES:
            assert error["code"] in ERROR_CODES[expected], error
    if expected == 403 and actor == "read_key" and method != "get":
        assert response.json()["error"]["code"] == "insufficient_scope"
    return response
