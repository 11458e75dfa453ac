"""Issue 10: the sign-in lockout counts per account, whatever spelling of the address reached it,
and per normalised address for unknown ones; every kind of miss costs the same hash work."""

import pytest
from django.contrib.auth.hashers import MD5PasswordHasher

from accounts.models import RefreshToken
from tests.accounts.helpers import error_code, login
from tests.support.factories import UserFactory
from tests.support.http import assert_error

pytestmark = pytest.mark.django_db

# Each of these reaches "sisi@example.com" through PostgreSQL's case-insensitive match
# (UPPER of a dotless i is I, of a long s is S) while lower() keeps them all apart.
SPELLINGS_OF_SISI = [
    "\u017fisi@example.com",
    "s\u0131si@example.com",
    "si\u017fi@example.com",
    "sis\u0131@example.com",
    "\u017f\u0131\u017f\u0131@example.com",
]


@pytest.mark.postgres
def test_every_spelling_postgres_resolves_counts_against_one_account(client, audit_events):
    user = UserFactory(email="sisi@example.com")
    for n, spelling in enumerate(SPELLINGS_OF_SISI):
        failed = login(client, spelling, "wrong", REMOTE_ADDR=f"198.51.100.{n + 1}")
        assert error_code(failed) == "invalid_credentials"

    response = login(client, "sisi@example.com", REMOTE_ADDR="203.0.113.50")

    assert_error(response, 429, "login_locked")
    assert not RefreshToken.objects.filter(user=user).exists()
    events = audit_events(entity_id=str(user.pk))
    assert [e.action for e in events] == ["auth.login.failed"] * 4 + ["auth.login.locked_out"]


@pytest.mark.postgres
def test_a_spelling_postgres_resolves_is_locked_with_the_account(client):
    user = UserFactory(email="sisi@example.com")
    for n in range(5):
        login(client, user.email, "wrong", REMOTE_ADDR=f"198.51.100.{n + 1}")

    response = login(client, SPELLINGS_OF_SISI[-1], REMOTE_ADDR="203.0.113.50")

    assert_error(response, 429, "login_locked")


def test_spellings_of_an_unknown_address_share_one_counter(client, audit_events):
    # NFKC and case folding: long s, sharp s and fullwidth letters are one address.
    spellings = [
        "strasse@example.com",
        "stra\u00dfe@example.com",
        "\u017ftrasse@example.com",
        "\u017ftra\u00dfe@example.com",
        "\uff33\uff34\uff32\uff21\uff33\uff33\uff25@example.com",
    ]
    for n, spelling in enumerate(spellings):
        login(client, spelling, "wrong", REMOTE_ADDR=f"198.51.100.{n + 1}")

    response = login(client, "Strasse@example.com", "wrong", REMOTE_ADDR="203.0.113.50")

    assert_error(response, 429, "login_locked")
    events = audit_events(action__startswith="auth.login.")
    assert [e.action for e in events] == ["auth.login.failed"] * 4 + ["auth.login.locked_out"]
    assert {e.entity_id for e in events} == {""}


def test_failures_under_an_old_address_still_count_after_an_email_change(client, user):
    for n in range(4):
        login(client, user.email, "wrong", REMOTE_ADDR=f"198.51.100.{n + 1}")
    user.email = "renamed@example.com"
    user.save()

    login(client, "renamed@example.com", "wrong", REMOTE_ADDR="198.51.100.9")

    assert_error(
        login(client, "renamed@example.com", REMOTE_ADDR="203.0.113.5"), 429, "login_locked"
    )


@pytest.fixture
def hash_checks(monkeypatch):
    """How many password hashes were verified (the test settings hash with MD5)."""
    calls = []
    original = MD5PasswordHasher.verify

    def counting(self, password, encoded):
        calls.append(encoded)
        return original(self, password, encoded)

    monkeypatch.setattr(MD5PasswordHasher, "verify", counting)
    return calls


@pytest.mark.parametrize("kind", ["active", "deactivated", "unknown", "no password"])
def test_every_kind_of_miss_costs_one_hash_check(client, hash_checks, kind, audit_events):
    person = {
        "active": lambda: UserFactory(),
        "deactivated": lambda: UserFactory(is_active=False),
        "unknown": lambda: None,
        "no password": lambda: UserFactory(password=None),
    }[kind]()
    email = person.email if person else "nobody@example.com"
    password = "wrong" if kind == "active" else "correct-horse-battery-staple"

    response = login(client, email, password)

    assert_error(response, 401, "invalid_credentials")
    assert len(hash_checks) == 1  # timing tells neither existence nor state
    [event] = audit_events(action="auth.login.failed")
    assert event.entity_id == (str(person.pk) if person else "")
