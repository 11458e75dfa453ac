"""Admins manage people through /users."""

import pytest

from accounts.models import RefreshToken, Role, User
from tests.accounts.helpers import error_code, login
from tests.support.factories import AdminFactory, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_list_searches_and_filters(client, admin, bearer):
    UserFactory(email="ann@example.com", full_name="Ann Lee")
    UserFactory(email="bob@example.com", full_name="Bob Ann", is_active=False)
    StaffFactory(email="cy@example.com", full_name="Cy")

    def emails(query: str) -> list[str]:
        body = client.get(f"/api/v1/users?{query}", **bearer(admin)).json()
        return [item["email"] for item in body["items"]]

    assert emails("q=ann") == ["ann@example.com", "bob@example.com"]
    assert emails("q=ann&is_active=false") == ["bob@example.com"]
    assert emails("role=staff") == ["cy@example.com"]


def test_list_pages(client, admin, bearer):
    UserFactory.create_batch(24)

    first = client.get("/api/v1/users?page_size=10", **bearer(admin)).json()
    last = client.get("/api/v1/users?page_size=10&page=3", **bearer(admin)).json()
    beyond = client.get("/api/v1/users?page_size=10&page=9", **bearer(admin)).json()

    assert (first["count"], first["page"], first["page_size"], len(first["items"])) == (
        25,
        1,
        10,
        10,
    )
    assert len(last["items"]) == 5
    assert beyond["items"] == [] and beyond["count"] == 25


@pytest.mark.parametrize("query", ["page_size=51", "page=0", "role=king", "is_active=maybe"])
def test_bad_list_parameters_are_422(client, admin, bearer, query):
    response = client.get(f"/api/v1/users?{query}", **bearer(admin))

    assert response.status_code == 422
    assert error_code(response) == "validation_error"


def test_patch_changes_role_and_keeps_staff_flags_in_step(
    client, admin, user, bearer, audit_events
):
    response = client.patch(
        f"/api/v1/users/{user.pk}",
        {"role": "staff"},
        content_type="application/json",
        **bearer(admin),
    )

    assert response.status_code == 200
    assert response.json()["role"] == "staff"
    user.refresh_from_db()
    assert user.is_staff and not user.is_superuser
    [event] = audit_events(action="user.role.changed")
    assert event.details == {"role": {"before": "user", "after": "staff"}}
    assert event.actor_user_id == str(admin.pk)
    assert event.request_id == response["X-Request-ID"]


def test_delete_deactivates_and_revokes(client, admin, user, bearer, audit_events):
    login(client, user.email)

    response = client.delete(f"/api/v1/users/{user.pk}", **bearer(admin))

    assert response.status_code == 204
    user.refresh_from_db()
    assert user.is_active is False  # kept: hard delete only in the admin site
    assert not RefreshToken.objects.filter(user=user, revoked_at__isnull=True).exists()
    [event] = audit_events(action="user.deactivated")
    assert event.details["revoked_refresh_tokens"] == 1


def test_the_last_admin_cannot_demote_or_deactivate_themselves(client, admin, bearer):
    demote = client.patch(
        f"/api/v1/users/{admin.pk}",
        {"role": "user"},
        content_type="application/json",
        **bearer(admin),
    )
    deactivate = client.delete(f"/api/v1/users/{admin.pk}", **bearer(admin))

    assert demote.status_code == deactivate.status_code == 409
    assert error_code(demote) == "last_admin"
    admin.refresh_from_db()
    assert admin.role == Role.ADMIN and admin.is_active


def test_an_admin_can_step_down_when_another_remains(client, admin, bearer):
    AdminFactory()

    response = client.patch(
        f"/api/v1/users/{admin.pk}",
        {"role": "user"},
        content_type="application/json",
        **bearer(admin),
    )

    assert response.status_code == 200


def test_unknown_user_is_404(client, admin, bearer):
    response = client.get("/api/v1/users/7c9e6679-7425-40de-944b-e07fc1f90ae7", **bearer(admin))

    assert response.status_code == 404
    assert error_code(response) == "not_found"


def test_patch_refuses_unknown_fields(client, admin, user, bearer):
    response = client.patch(
        f"/api/v1/users/{user.pk}",
        {"is_superuser": True},
        content_type="application/json",
        **bearer(admin),
    )

    assert response.status_code == 422
    assert not User.objects.get(pk=user.pk).is_superuser
