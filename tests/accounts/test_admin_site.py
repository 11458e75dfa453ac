"""The back office: users, API keys and sessions, every change through the services."""

import pytest

from accounts.models import ApiKey, Role, User
from accounts.services.api_keys import api_key_create

pytestmark = pytest.mark.django_db


def test_user_changelist_and_search_load(admin_client, user):
    response = admin_client.get("/admin/accounts/user/", {"q": user.email})

    assert response.status_code == 200
    assert user.email in response.content.decode()


def test_changing_a_role_in_the_admin_is_audited(admin_client, admin, user, audit_events):
    response = admin_client.post(
        f"/admin/accounts/user/{user.pk}/change/",
        {"email": user.email, "full_name": user.full_name, "role": "staff", "is_active": "on",
         "email_verified_at_0": "", "email_verified_at_1": ""},
    )  # fmt: skip

    assert response.status_code == 302, response.content.decode()[:2000]
    user.refresh_from_db()
    assert user.role == Role.STAFF and user.is_staff
    [event] = audit_events(action="user.role.changed")
    assert event.source == "admin"
    assert event.actor_user_id == str(admin.pk)
    assert event.details["role"] == {"before": "user", "after": "staff"}


def test_creating_a_user_in_the_admin_is_audited(admin_client, audit_events):
    response = admin_client.post(
        "/admin/accounts/user/add/",
        {"email": "New@Example.com", "password": "a-long-initial-secret", "full_name": "New",
         "role": "user", "is_active": "on", "email_verified_at_0": "", "email_verified_at_1": ""},
    )  # fmt: skip

    assert response.status_code == 302, response.content.decode()[:2000]
    created = User.objects.get(email="new@example.com")
    assert created.check_password("a-long-initial-secret")
    [event] = audit_events(action="user.created")
    assert event.source == "admin"


def test_the_admin_cannot_demote_the_last_admin(admin_client, admin, audit_events):
    response = admin_client.post(
        f"/admin/accounts/user/{admin.pk}/change/",
        {"email": admin.email, "full_name": "", "role": "user", "is_active": "on",
         "email_verified_at_0": "", "email_verified_at_1": ""},
    )  # fmt: skip

    assert response.status_code == 200  # the form again, with the reason; no "changed" message
    assert "This is the last active admin" in response.content.decode()
    assert "was changed successfully" not in response.content.decode()
    admin.refresh_from_db()
    assert admin.role == Role.ADMIN
    assert audit_events(action="user.role.changed") == []


def test_deactivate_action_asks_first_then_revokes_and_audits(admin_client, user, audit_events):
    selection = {"action": "deactivate_users", "_selected_action": [str(user.pk)]}
    confirm = admin_client.post("/admin/accounts/user/", selection)
    assert confirm.status_code == 200
    assert "every API session and admin session ends now" in confirm.content.decode()
    assert user.email in confirm.content.decode()
    user.refresh_from_db()
    assert user.is_active and audit_events(action="user.deactivated") == []

    response = admin_client.post("/admin/accounts/user/", {**selection, "post": "yes"})

    assert response.status_code == 302
    user.refresh_from_db()
    assert not user.is_active
    assert len(audit_events(action="user.deactivated")) == 1


def test_api_key_revoke_action(admin_client, user, audit_events):
    api_key, _ = api_key_create(user=user, name="ci")

    selection = {"action": "revoke_keys", "_selected_action": [str(api_key.pk)], "post": "yes"}
    first = admin_client.post("/admin/accounts/apikey/", selection, follow=True)
    again = admin_client.post("/admin/accounts/apikey/", selection, follow=True)

    assert "Revoked 1 key(s)." in first.content.decode()
    assert "Revoked 0 key(s). 1 already revoked (unchanged)." in again.content.decode()

    assert ApiKey.objects.get().revoked_at is not None
    assert len(audit_events(action="auth.api_key.revoked")) == 1
    assert admin_client.get("/admin/accounts/apikey/").status_code == 200
    assert admin_client.get("/admin/accounts/refreshtoken/").status_code == 200
