"""Roles are admin permissions: each role signs in to the back office and meets what it may do.

Every test signs in through the admin's own login page (the same form a person uses), then walks
the pages and posts the actions; the assertions read the page, the database and the trail.
"""

import importlib

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from accounts.models import ApiKey, Role, User
from accounts.role_groups import STAFF_PERMISSIONS
from accounts.services.api_keys import api_key_create
from audits.models import AuditEvent
from tests.support.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def signed_in(person: User) -> Client:
    client = Client()
    response = client.post(
        "/admin/login/?next=/admin/",
        {"username": person.email, "password": DEFAULT_PASSWORD},
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    assert response["Location"] == "/admin/"
    return client


def test_role_groups_exist_and_staff_holds_exactly_its_permissions():
    staff_group = Group.objects.get(name="Staff")
    held = {
        f"{app}.{codename}"
        for app, codename in staff_group.permissions.values_list(
            "content_type__app_label", "codename"
        )
    }
    # accounts' and audits' own, plus what each domain app grants by its own data migration
    granted_by_apps = {
        name
        for app in ("prompts", "files", "analyses")
        for name in importlib.import_module(f"{app}.migrations.0002_staff_permissions").STAFF
    }
    assert held == set(STAFF_PERMISSIONS) | granted_by_apps
    assert "analyses.view_analysis" in held and "prompts.change_prompt" in held
    assert Group.objects.filter(name="Admin").exists()


def test_group_membership_follows_the_role(user):
    def groups():
        return set(User.objects.get(pk=user.pk).groups.values_list("name", flat=True))

    assert groups() == set()
    user.role = Role.STAFF
    user.save(update_fields=["role"])
    assert groups() == {"Staff"}
    assert user.has_perm("audits.change_auditevent")
    user.role = Role.ADMIN
    user.save()
    assert groups() == {"Admin"}
    user.role = Role.USER
    user.save(update_fields=["role"])
    assert groups() == set()
    assert not User.objects.get(pk=user.pk).has_perm("audits.view_auditevent")


def test_a_plain_user_cannot_sign_in_to_the_back_office(user):
    response = Client().post(
        "/admin/login/", {"username": user.email, "password": DEFAULT_PASSWORD}
    )

    assert response.status_code == 200
    assert "no back-office role" in response.content.decode()


def test_staff_sees_the_trail_people_and_keys_but_not_groups_sessions_or_tasks(staff):
    client = signed_in(staff)

    index = client.get("/admin/").content.decode()
    for visible in (
        "/admin/audits/auditevent/",
        "/admin/accounts/user/",
        "/admin/accounts/apikey/",
    ):
        assert visible in index
        assert client.get(visible).status_code == 200
    for hidden in ("/admin/auth/group/", "/admin/sessions/session/", "/admin/accounts/user/add/"):
        assert hidden not in index
        assert client.get(hidden).status_code == 403


def test_staff_reviews_an_audit_event(staff, user):
    api_key_create(user=user, name="ci")
    event = AuditEvent.objects.get(action="auth.api_key.created")
    client = signed_in(staff)

    response = client.post(
        f"/admin/audits/auditevent/{event.pk}/change/",
        {"status": "resolved", "review_note": "expected: CI key"},
    )

    assert response.status_code == 302, response.content.decode()[:3000]
    event.refresh_from_db()
    assert (event.status, event.review_note) == ("resolved", "expected: CI key")
    assert event.reviewed_by_id == str(staff.pk)


def test_staff_revokes_a_key_but_cannot_change_a_user(staff, user, audit_events):
    api_key, _ = api_key_create(user=user, name="laptop")
    client = signed_in(staff)

    response = client.post(
        "/admin/accounts/apikey/",
        {"action": "revoke_keys", "_selected_action": [str(api_key.pk)], "post": "yes"},
    )
    assert response.status_code == 302
    api_key.refresh_from_db()
    assert api_key.revoked_at is not None
    [event] = audit_events(action="auth.api_key.revoked")
    assert event.actor_user_id == str(staff.pk) and event.source == "admin"

    refused = client.post(
        f"/admin/accounts/user/{user.pk}/change/",
        {"email": user.email, "full_name": "x", "role": "admin", "is_active": "on"},
    )
    assert refused.status_code == 403
    user.refresh_from_db()
    assert user.role == Role.USER
    change_page = client.get(f"/admin/accounts/user/{user.pk}/change/").content.decode()
    assert 'name="role"' not in change_page  # read-only for staff
    deactivate = client.post(
        "/admin/accounts/user/",
        {"action": "deactivate_users", "_selected_action": [str(user.pk)], "post": "yes"},
    )
    assert deactivate.status_code in (200, 302)
    user.refresh_from_db()
    assert user.is_active
    assert audit_events(action="user.deactivated") == []


def test_admin_manages_users_and_sees_every_model(admin):
    client = signed_in(admin)
    target = UserFactory()

    index = client.get("/admin/").content.decode()
    for visible in ("/admin/auth/group/", "/admin/accounts/user/add/", "/admin/sessions/session/"):
        assert visible in index
    response = client.post(
        f"/admin/accounts/user/{target.pk}/change/",
        {"email": target.email, "full_name": target.full_name, "role": "staff", "is_active": "on",
         "email_verified_at_0": "", "email_verified_at_1": ""},
    )  # fmt: skip
    assert response.status_code == 302, response.content.decode()[:3000]
    target.refresh_from_db()
    assert target.role == Role.STAFF
    assert set(target.groups.values_list("name", flat=True)) == {"Staff"}


def test_staff_cannot_redact_or_revoke_sessions(staff, user):
    client = signed_in(staff)

    events_page = client.get("/admin/audits/auditevent/").content.decode()
    tokens_page = client.get("/admin/accounts/refreshtoken/").content.decode()

    assert "redact_events" not in events_page
    assert "revoke_family" not in tokens_page
    assert ApiKey.objects.count() == 0
