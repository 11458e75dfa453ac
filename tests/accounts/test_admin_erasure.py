"""Erasure: an admin hard-deletes a person with live credentials; the trail keeps its shape."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client

from accounts.models import ApiKey, RefreshToken, User
from accounts.services.api_keys import api_key_create
from audits.models import AuditEvent
from tests.support.factories import DEFAULT_PASSWORD
from tests.support.http import get, post_json

pytestmark = pytest.mark.django_db


def test_deleting_a_user_with_tokens_keys_and_an_admin_session(admin_client, admin, staff):
    tokens = post_json(
        Client(), "/auth/login", {"email": staff.email, "password": DEFAULT_PASSWORD}
    ).json()
    api_key, secret = api_key_create(user=staff, name="ci")
    staff_browser = Client()
    staff_browser.post("/admin/login/", {"username": staff.email, "password": DEFAULT_PASSWORD})
    assert staff_browser.get("/admin/").status_code == 200
    own_events = AuditEvent.objects.filter(actor_user_id=str(staff.pk)).count()
    assert own_events >= 2  # the API sign-in and the admin sign-in

    confirm = admin_client.get(f"/admin/accounts/user/{staff.pk}/delete/")
    assert confirm.status_code == 200
    page = confirm.content.decode()
    assert "Cannot delete" not in page and "would require deleting" not in page
    response = admin_client.post(f"/admin/accounts/user/{staff.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert not User.objects.filter(pk=staff.pk).exists()
    assert not RefreshToken.objects.filter(user_id=staff.pk).exists()
    assert not ApiKey.objects.filter(pk=api_key.pk).exists()
    # Every credential is dead: the key, the refresh token and the admin session.
    assert get(Client(), "/auth/me", HTTP_X_API_KEY=secret).status_code == 401
    refreshed = post_json(Client(), "/auth/refresh", {"refresh_token": tokens["refresh_token"]})
    assert refreshed.status_code == 401
    assert staff_browser.get("/admin/").status_code == 302
    [event] = AuditEvent.objects.filter(action="user.deleted")
    assert event.actor_user_id == str(admin.pk) and event.source == "admin"
    assert event.details == {
        "role": "staff",
        "deleted_refresh_tokens": 1,
        "deleted_api_key_prefix": [api_key.prefix],
    }
    # The trail is not rewritten: the person's own events keep their id and label ...
    kept = AuditEvent.objects.filter(actor_user_id=str(staff.pk))
    assert kept.count() == own_events
    assert set(kept.values_list("actor_label", flat=True)) == {staff.email}
    # ... and the chain still verifies.
    out = StringIO()
    call_command("audit_verify", stdout=out)
    assert "ok" in out.getvalue().lower()


def test_the_last_admin_cannot_be_deleted(admin_client, admin):
    response = admin_client.post(f"/admin/accounts/user/{admin.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert User.objects.filter(pk=admin.pk).exists()
    assert not AuditEvent.objects.filter(action="user.deleted").exists()
    messages = admin_client.get("/admin/accounts/user/").content.decode()
    assert "last active admin" in messages
