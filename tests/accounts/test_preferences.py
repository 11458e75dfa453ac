"""GET/PUT /auth/me/preferences: one's own JSON object, at most 16 KiB, audited by key names."""

import pytest

from tests.support.http import assert_error, get, put_json

pytestmark = pytest.mark.django_db


def test_preferences_round_trip_and_are_per_person(client, user, staff, bearer, audit_events):
    assert get(client, "/auth/me/preferences", **bearer(user)).json() == {}

    response = put_json(
        client,
        "/auth/me/preferences",
        {"theme": "dark", "defaults": {"prompt": "contract-review"}},
        **bearer(user),
    )

    assert response.status_code == 200 and response.json()["theme"] == "dark"
    user.refresh_from_db()
    assert user.preferences == {"theme": "dark", "defaults": {"prompt": "contract-review"}}
    assert get(client, "/auth/me/preferences", **bearer(user)).json()["defaults"] == {
        "prompt": "contract-review"
    }
    assert get(client, "/auth/me/preferences", **bearer(staff)).json() == {}
    [event] = audit_events(action="user.preferences.updated")
    assert event.details["changed_keys"] == ["defaults", "theme"] and event.actor_user_id == str(
        user.pk
    )


def test_more_than_16_kib_or_not_an_object_is_refused(client, user, bearer):
    error = assert_error(
        put_json(client, "/auth/me/preferences", {"blob": "x" * 17000}, **bearer(user)),
        422,
        "preferences_too_large",
    )
    assert "16384" in error["message"]
    assert_error(
        put_json(client, "/auth/me/preferences", ["not", "an", "object"], **bearer(user)),
        422,
        "validation_error",
    )
    user.refresh_from_db()
    assert user.preferences == {}
