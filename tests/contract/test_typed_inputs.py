"""Typed inputs refuse what they should: a timestamp is an ISO 8601 string, a body's boolean is
a JSON boolean. Pydantic would otherwise read 1700000000 as a Unix time and 0 as false."""

import pytest

from accounts.models import User
from audits.models import AuditEvent

pytestmark = pytest.mark.django_db


def assert_422_on(response, field: str) -> None:
    assert response.status_code == 422, response.content
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert field in [detail["field"] for detail in error["details"]], error["details"]


@pytest.mark.parametrize("occurred_at", [1700000000, 1700000000.5, "1700000000", True])
def test_a_number_for_occurred_at_is_refused_and_nothing_is_recorded(
    client, user, bearer, occurred_at
):
    before = AuditEvent.objects.count()
    body = {"action": "invoice.paid", "entity_type": "invoice", "occurred_at": occurred_at}

    response = client.post("/api/v1/audits", body, content_type="application/json", **bearer(user))

    assert_422_on(response, "occurred_at")
    assert "ISO 8601" in str(response.json()["error"]["details"])
    assert AuditEvent.objects.count() == before


def test_an_iso_timestamp_for_occurred_at_is_recorded_in_utc(client, user, bearer):
    body = {
        "action": "invoice.paid",
        "entity_type": "invoice",
        "occurred_at": "2026-01-31T13:00:00+01:00",
    }

    response = client.post("/api/v1/audits", body, content_type="application/json", **bearer(user))

    assert response.status_code == 201, response.content
    assert response.json()["occurred_at"] == "2026-01-31T12:00:00Z"
    event = AuditEvent.objects.get(pk=response.json()["id"])
    assert event.occurred_at.isoformat() == "2026-01-31T12:00:00+00:00"


@pytest.mark.parametrize("name", ["since", "until"])
def test_a_number_for_a_time_filter_is_refused(client, user, bearer, name):
    response = client.get(f"/api/v1/audits?{name}=1700000000", **bearer(user))

    assert_422_on(response, name)


@pytest.mark.parametrize("value", [0, 1, "true", "no"])
def test_a_non_boolean_is_active_is_refused_and_the_user_is_unchanged(
    client, admin, user, bearer, value
):
    response = client.patch(
        f"/api/v1/users/{user.pk}",
        {"is_active": value},
        content_type="application/json",
        **bearer(admin),
    )

    assert_422_on(response, "is_active")
    assert User.objects.get(pk=user.pk).is_active is True


def test_a_json_boolean_is_active_still_works(client, admin, user, bearer):
    response = client.patch(
        f"/api/v1/users/{user.pk}",
        {"is_active": False},
        content_type="application/json",
        **bearer(admin),
    )

    assert response.status_code == 200, response.content
    assert response.json()["is_active"] is False
    assert User.objects.get(pk=user.pk).is_active is False


def test_a_number_for_everywhere_is_refused_on_logout(client, user, bearer):
    response = client.post(
        "/api/v1/auth/logout", {"everywhere": 1}, content_type="application/json", **bearer(user)
    )

    assert_422_on(response, "everywhere")


def test_query_string_booleans_still_filter(client, admin, user, staff, bearer):
    User.objects.filter(pk=staff.pk).update(is_active=False)

    inactive = client.get("/api/v1/users?is_active=false", **bearer(admin)).json()
    active = client.get("/api/v1/users?is_active=true", **bearer(admin)).json()

    assert [item["email"] for item in inactive["items"]] == [staff.email]
    assert staff.email not in [item["email"] for item in active["items"]]
    assert {user.email, admin.email} <= {item["email"] for item in active["items"]}
