"""Issue 10, unbounded writes: verification mails (one waiting per user, throttled per user and
per address), readiness that no user can fill, per-user write throttles, a cap on API keys."""

import pytest
from django.core import mail
from django.tasks import TaskResultStatus
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from accounts.models import ApiKey
from accounts.services.api_keys import api_key_create
from audits.models import AuditEvent
from tests.accounts.helpers import PASSWORD, bearer_of, login, post_json
from tests.support.factories import UserFactory
from tests.support.http import assert_error, delete, get, patch_json

pytestmark = pytest.mark.django_db


def _queued_mails() -> int:
    return DBTaskResult.objects.filter(
        status=TaskResultStatus.READY, task_path__endswith="email_verification_send"
    ).count()


@pytest.fixture
def unverified(db):
    return UserFactory(email_verified_at=None)


def test_one_verification_mail_waits_per_user(client, unverified, bearer, run_tasks, audit_events):
    answers = [post_json(client, "/auth/email/verify", **bearer(unverified)) for _ in range(4)]

    assert {answer.status_code for answer in answers} == {202}
    assert _queued_mails() == 1  # was one task per call: 800 calls queued 1,040 tasks
    assert len(audit_events(action="auth.email.verification_sent")) == 1
    run_tasks()
    assert [message.to for message in mail.outbox] == [[unverified.email]]
    # Once sent, asking again queues the next one.
    assert post_json(client, "/auth/email/verify", **bearer(unverified)).status_code == 202
    assert _queued_mails() == 1


def test_verification_mails_are_throttled_per_user(client, unverified, bearer, run_tasks, settings):
    settings.THROTTLE_RATES = {**settings.THROTTLE_RATES, "email_verification": "2/h"}
    for _ in range(2):
        assert post_json(client, "/auth/email/verify", **bearer(unverified)).status_code == 202
        run_tasks()

    third = post_json(client, "/auth/email/verify", **bearer(unverified))

    assert_error(third, 429, "throttled")
    assert int(third["Retry-After"]) >= 1
    assert _queued_mails() == 0 and len(mail.outbox) == 2


def test_verification_mails_are_throttled_per_address(
    client, unverified, bearer, run_tasks, settings, audit_events
):
    settings.THROTTLE_RATES = {**settings.THROTTLE_RATES, "email_verification_address": "2/h"}
    for _ in range(2):
        post_json(client, "/auth/email/verify", **bearer(unverified))
        run_tasks()

    third = post_json(client, "/auth/email/verify", **bearer(unverified))

    assert_error(third, 429, "throttled")
    assert len(mail.outbox) == 2
    assert len(audit_events(action="auth.email.verification_sent")) == 2
    # The limit is the inbox's, not the user's: a new address gets its link.
    moved = patch_json(
        client,
        "/auth/me",
        {"email": "elsewhere@example.com", "current_password": PASSWORD},
        **bearer(unverified),
    )
    assert moved.status_code == 200
    assert _queued_mails() == 1


def test_bouncing_an_email_change_cannot_flood_an_inbox(client, user, settings, run_tasks):
    settings.THROTTLE_RATES = {**settings.THROTTLE_RATES, "email_verification_address": "2/h"}
    tokens = login(client, user.email).json()
    bounces = ("victim@example.com", "mine@example.com") * 2
    for address in bounces:
        response = patch_json(
            client,
            "/auth/me",
            {"email": address, "current_password": PASSWORD},
            **bearer_of(tokens),
        )
        assert response.status_code == 200, response.content
        run_tasks()

    # Unthrottled: two links and two "your address was changed" notices.
    to_victim = [m for m in mail.outbox if m.to == ["victim@example.com"]]
    assert len(to_victim) == 2
    assert sum("verify-email?uid=" in m.body for m in to_victim) == 1


def test_readiness_does_not_depend_on_the_task_backlog(client, bearer, settings):
    settings.HEALTH_TASK_BACKLOG_MAX = 2
    for person in UserFactory.create_batch(4, email_verified_at=None):
        post_json(client, "/auth/email/verify", **bearer(person))
    assert _queued_mails() == 4

    anonymous = client.get("/health")
    operator = client.get("/health", HTTP_AUTHORIZATION="Bearer test-metrics-token")

    assert anonymous.status_code == operator.status_code == 200
    assert anonymous.json() == {"status": "ok"}
    body = operator.json()
    assert body["failing"] == []
    assert body["checks"]["task_backlog"]["status"] == "warn"
    assert "4 tasks waiting" in body["checks"]["task_backlog"]["detail"]


def test_writes_are_throttled_per_user_across_sessions_and_keys(
    client, user, bearer, api_key_headers, settings
):
    settings.THROTTLE_RATES = {**settings.THROTTLE_RATES, "writes": "3/min"}
    key = api_key_headers(user, "read+write")
    event = {"action": "invoice.paid", "entity_type": "invoice", "entity_id": "1"}
    accepted = [
        post_json(client, "/audits", event, **headers)
        for headers in (bearer(user), key, bearer(user))
    ]

    over = post_json(client, "/audits", event, **key)

    assert [response.status_code for response in accepted] == [201, 201, 201]
    assert_error(over, 429, "throttled")
    assert int(over["Retry-After"]) >= 1
    assert AuditEvent.objects.filter(action="invoice.paid").count() == 3
    assert get(client, "/audits", **bearer(user)).status_code == 200  # reads are not writes
    someone_else = UserFactory()
    assert post_json(client, "/audits", event, **bearer(someone_else)).status_code == 201


def test_active_api_keys_are_capped(client, user, bearer, settings, audit_events):
    settings.API_KEYS_MAX_ACTIVE = 2
    body = {"name": "ci", "current_password": PASSWORD}
    first, second = (post_json(client, "/auth/api-keys", body, **bearer(user)) for _ in range(2))
    api_key_create(user=UserFactory(), name="someone else's")  # counts for its owner only

    third = post_json(client, "/auth/api-keys", body, **bearer(user))

    assert first.status_code == second.status_code == 201
    error = assert_error(third, 409, "api_key_limit")
    assert error["details"] == {"active": 2, "max_active": 2}
    assert ApiKey.objects.filter(user=user).count() == 2
    assert len(audit_events(action="auth.api_key.created", actor_user_id=str(user.pk))) == 2
    # Revoked and expired keys no longer count.
    assert delete(client, f"/auth/api-keys/{first.json()['id']}", **bearer(user)).status_code == 204
    assert post_json(client, "/auth/api-keys", body, **bearer(user)).status_code == 201
    ApiKey.objects.filter(pk=second.json()["id"]).update(expires_at=timezone.now())
    assert post_json(client, "/auth/api-keys", body, **bearer(user)).status_code == 201
    assert_error(post_json(client, "/auth/api-keys", body, **bearer(user)), 409, "api_key_limit")
