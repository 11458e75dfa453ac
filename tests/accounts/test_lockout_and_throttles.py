"""Five failures lock an account or an IP for the window; throttles answer 429 with Retry-After."""

import pytest

from tests.accounts.helpers import error_code, login, post_json
from tests.support.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_five_failures_lock_the_account(client, user, audit_events):
    for _ in range(4):
        assert login(client, user.email, "wrong").status_code == 401
    fifth = login(client, user.email, "wrong")
    assert fifth.status_code == 401

    locked = login(client, user.email)  # even the right password waits

    assert locked.status_code == 429
    assert error_code(locked) == "login_locked"
    assert 1 <= int(locked["Retry-After"]) <= 15 * 60
    assert [e.action for e in audit_events(entity_id=str(user.pk))] == ["auth.login.failed"] * 4 + [
        "auth.login.locked_out"
    ]


def test_five_failures_from_one_ip_lock_that_ip_for_every_account(client):
    people = UserFactory.create_batch(5)
    for person in people:
        login(client, person.email, "wrong", REMOTE_ADDR="203.0.113.9")
    victim = UserFactory()

    from_same_ip = login(client, victim.email, REMOTE_ADDR="203.0.113.9")
    from_elsewhere = login(client, victim.email, REMOTE_ADDR="198.51.100.7")

    assert from_same_ip.status_code == 429
    assert from_elsewhere.status_code == 200


def test_success_resets_the_account_counter(client, user):
    for _ in range(4):
        login(client, user.email, "wrong", REMOTE_ADDR="198.51.100.1")
    assert login(client, user.email, REMOTE_ADDR="198.51.100.2").status_code == 200

    for _ in range(4):
        assert login(client, user.email, "wrong", REMOTE_ADDR="198.51.100.3").status_code == 401


def test_lockout_thresholds_are_configurable(client, user, settings):
    settings.LOGIN_LOCKOUT_ATTEMPTS = 2

    login(client, user.email, "wrong")
    login(client, user.email, "wrong")

    assert login(client, user.email).status_code == 429


@pytest.mark.parametrize(
    ("scope", "path", "body"),
    [
        ("login", "/auth/login", {"email": "a@example.com", "password": "x"}),
        (
            "register",
            "/auth/register",
            {"email": "{n}@example.com", "password": "correct-horse-battery"},
        ),
        ("refresh", "/auth/refresh", {"refresh_token": "nope"}),
        ("password_reset", "/auth/password/reset", {"email": "a@example.com"}),
    ],
)
def test_throttled_endpoints_answer_429_with_retry_after(client, settings, scope, path, body):
    settings.THROTTLE_RATES = {**settings.THROTTLE_RATES, scope: "2/min"}
    settings.LOGIN_LOCKOUT_ATTEMPTS = 100
    for n in range(2):
        payload = {k: v.format(n=n) if isinstance(v, str) else v for k, v in body.items()}
        assert post_json(client, path, payload).status_code != 429

    response = post_json(client, path, body)

    assert response.status_code == 429
    assert error_code(response) == "throttled"
    assert int(response["Retry-After"]) >= 1
