"""Sign-up, one's own profile, e-mail verification."""

import re

import pytest
from django.core import mail

from accounts.models import Role, User
from tests.accounts.helpers import PASSWORD, error_code, post_json

pytestmark = pytest.mark.django_db


def _link_parts(message) -> tuple[str, str]:
    match = re.search(r"uid=([\w-]+)&token=([\w-]+)", message.body)
    assert match, message.body
    return match[1], match[2]


def test_register_creates_a_user_and_mails_a_verification_link(client, run_tasks, audit_events):
    response = post_json(
        client,
        "/auth/register",
        {"email": "Ann@Example.com", "password": PASSWORD, "full_name": "Ann"},
    )

    assert response.status_code == 201
    body = response.json()
    assert body["email"] == "ann@example.com"
    assert body["role"] == "user" and body["email_verified_at"] is None
    user = User.objects.get(pk=body["id"])
    assert user.check_password(PASSWORD)
    assert not user.is_staff and not user.is_superuser
    [event] = audit_events(action="user.registered")
    assert event.actor_user_id == str(user.pk)
    assert event.request_id == response["X-Request-ID"]
    run_tasks()
    [message] = mail.outbox
    assert message.to == ["ann@example.com"]
    uid, token = _link_parts(message)

    confirmed = post_json(client, "/auth/email/verify/confirm", {"uid": uid, "token": token})

    assert confirmed.status_code == 200
    assert confirmed.json()["email_verified_at"] is not None
    assert (
        post_json(client, "/auth/email/verify/confirm", {"uid": uid, "token": token}).status_code
        == 422
    )
    assert len(audit_events(action="auth.email.verified")) == 1


def test_emails_are_unique_case_insensitively(client, user):
    response = post_json(
        client, "/auth/register", {"email": user.email.upper(), "password": PASSWORD}
    )

    assert response.status_code == 409
    assert error_code(response) == "email_taken"
    assert User.objects.count() == 1


@pytest.mark.parametrize("field", ["role", "is_staff", "is_superuser"])
def test_register_refuses_privilege_fields(client, field):
    body = {
        "email": "eve@example.com",
        "password": PASSWORD,
        field: "admin" if field == "role" else True,
    }

    response = post_json(client, "/auth/register", body)

    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == field
    assert not User.objects.exists()


def test_weak_password_is_422_with_reasons(client):
    response = post_json(client, "/auth/register", {"email": "a@example.com", "password": "123"})

    assert response.status_code == 422
    details = response.json()["error"]["details"]
    assert {d["field"] for d in details} == {"password"}
    assert len(details) >= 2  # too short, too common, entirely numeric ...


def test_registration_can_be_closed(client, settings):
    settings.REGISTRATION_OPEN = False

    response = post_json(client, "/auth/register", {"email": "a@example.com", "password": PASSWORD})

    assert response.status_code == 403
    assert error_code(response) == "registration_closed"


def test_patch_me_changes_name_and_email_and_reverifies(
    client, user, bearer, run_tasks, audit_events
):
    user.email_verified_at = "2026-01-01T00:00:00Z"
    user.save()

    response = client.patch(
        "/api/v1/auth/me",
        {"full_name": "New Name", "email": "New@Example.com", "current_password": PASSWORD},
        content_type="application/json", **bearer(user),
    )  # fmt: skip

    assert response.status_code == 200
    assert response.json()["email"] == "new@example.com"
    assert response.json()["email_verified_at"] is None
    [event] = audit_events(action="user.updated")
    assert event.details["email"] == {"before": user.email, "after": "new@example.com"}
    old_email = user.email
    run_tasks()
    assert sorted(message.to[0] for message in mail.outbox) == sorted(
        [old_email, "new@example.com"]
    )


@pytest.mark.parametrize("field", ["role", "is_staff", "is_superuser", "is_active"])
def test_patch_me_refuses_privilege_fields(client, user, bearer, field):
    response = client.patch(
        "/api/v1/auth/me",
        {field: "admin" if field == "role" else True},
        content_type="application/json",
        **bearer(user),
    )

    assert response.status_code == 422
    user.refresh_from_db()
    assert user.role == Role.USER and not user.is_staff


def test_patch_me_to_a_taken_email_is_409(client, user, staff, bearer):
    response = client.patch(
        "/api/v1/auth/me",
        {"email": staff.email, "current_password": PASSWORD},
        content_type="application/json",
        **bearer(user),
    )

    assert response.status_code == 409
    assert error_code(response) == "email_taken"


def test_email_verify_resends_and_refuses_when_already_verified(client, user, bearer, run_tasks):
    user.email_verified_at = None
    user.save()
    assert post_json(client, "/auth/email/verify", **bearer(user)).status_code == 202
    run_tasks()
    assert len(mail.outbox) == 1
    uid, token = _link_parts(mail.outbox[0])
    post_json(client, "/auth/email/verify/confirm", {"uid": uid, "token": token})

    again = post_json(client, "/auth/email/verify", **bearer(user))

    assert again.status_code == 409
    assert error_code(again) == "already_verified"
