"""A poll or a resolve served from the shared cache checks its caller there too, in the same round
trip (``accounts.cached_users``), and every change of the caller is seen by their next request:
deactivation, a role change, signing out everywhere, a new password.

These tests commit for real (``transaction=True``): a user's cached copy is dropped on commit.
"""

import pickle

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts import cached_users
from tests.support.factories import DEFAULT_PASSWORD, UserFactory
from tests.support.http import assert_error, delete, get, patch_json, post_json

pytestmark = pytest.mark.django_db(transaction=True)


def _warm(client, headers, path: str) -> dict:
    """Read ``path`` twice: the caller's user and the document are cached after the first."""
    first = get(client, path, **headers)
    assert first.status_code in {200, 202}, first.content
    assert get(client, path, **headers).content == first.content
    return first.json()


@pytest.mark.parametrize("path", ["/analyses/{id}", "/prompts/summary"])
def test_a_cached_read_costs_no_query_at_all(client, caller, submit, path):
    path = path.format(id=submit().json()["id"])
    body = _warm(client, caller[1], path)

    with CaptureQueriesContext(connection) as queries:
        again = get(client, path, **caller[1])

    assert [q["sql"] for q in queries.captured_queries] == []
    assert again.json() == body


@pytest.mark.parametrize("path", ["/analyses/{id}", "/prompts/summary"])
def test_a_deactivated_caller_is_refused_at_once(client, caller, submit, admin, bearer, path):
    path = path.format(id=submit().json()["id"])
    _warm(client, caller[1], path)

    assert delete(client, f"/users/{caller[0].pk}", **bearer(admin)).status_code == 204

    assert_error(get(client, path, **caller[1]), 401, "invalid_token")


def test_signing_out_everywhere_refuses_the_old_token_on_cached_reads(client, caller, submit):
    path = f"/analyses/{submit().json()['id']}"
    _warm(client, caller[1], path)

    response = post_json(client, "/auth/logout", {"everywhere": True}, **caller[1])
    assert response.status_code == 204

    assert_error(get(client, path, **caller[1]), 401, "invalid_token")
    assert_error(get(client, "/prompts/summary", **caller[1]), 401, "invalid_token")


def test_a_new_password_refuses_the_old_token_and_a_new_sign_in_reads_again(client, caller, submit):
    user, headers = caller
    path = f"/analyses/{submit().json()['id']}"
    body = _warm(client, headers, path)

    change = {"current_password": DEFAULT_PASSWORD, "new_password": "a-new-long-passphrase-42"}
    assert post_json(client, "/auth/password/change", change, **headers).status_code == 204
    assert_error(get(client, path, **headers), 401, "invalid_token")

    login = {"email": user.email, "password": "a-new-long-passphrase-42"}
    token = post_json(client, "/auth/login", login).json()["access_token"]
    assert get(client, path, HTTP_AUTHORIZATION=f"Bearer {token}").json() == body


def test_a_demoted_staff_member_loses_other_peoples_analyses_at_once(
    client, submit, staff, admin, bearer
):
    path = f"/analyses/{submit().json()['id']}"
    staff_headers = bearer(staff)
    _warm(client, staff_headers, path)  # staff read everyone's analyses

    demote = patch_json(client, f"/users/{staff.pk}", {"role": "user"}, **bearer(admin))
    assert demote.status_code == 200 and demote.json()["role"] == "user"

    assert_error(get(client, path, **staff_headers), 404, "not_found")


def test_the_cached_caller_holds_no_password_hash_or_preferences(client, bearer, submit):
    user = UserFactory(preferences={"theme": "a-preference-only-the-user-sees"})
    headers = bearer(user)
    _warm(client, headers, f"/analyses/{submit(headers=headers).json()['id']}")

    cached = cache.get(f"{cached_users.PREFIX}{user.pk}")
    user.refresh_from_db()
    assert cached == {column: getattr(user, column) for column in cached_users.COLUMNS}
    assert {"id", "is_active", "role", "token_version"} <= set(cached)
    kept = pickle.dumps(cached)
    assert user.password.encode() not in kept
    assert b"a-preference-only-the-user-sees" not in kept


def test_an_entry_this_build_did_not_write_is_a_miss_not_an_error(client, caller, submit):
    user, headers = caller
    path = f"/analyses/{submit().json()['id']}"
    # What a build with other columns might have left: a positional list, a dict of other keys.
    for foreign in (["not", "a", "user"], {"id": user.pk, "is_active": True}):
        cache.set(f"{cached_users.PREFIX}{user.pk}", foreign, 30)

        response = get(client, path, **headers)

        assert response.status_code == 202 and response.json()["status"] == "queued"
