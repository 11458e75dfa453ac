"""Who may do what under /audits: anonymous, user, staff, admin, and read / read+write API keys.

Users see only the events they caused (another user's event is a 404, not a 403); staff see and
review all; only admins redact and verify. A refused call changes nothing and records nothing.
"""

import pytest

from audits.models import AuditEvent
from tests.audits.helpers import EVENT, error_code, record_as
from tests.support.factories import AdminFactory, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db

ROLES = ("anonymous", "user", "staff", "admin", "user_read_key", "admin_read_key", "admin_rw_key")


@pytest.fixture
def callers(bearer, api_key_headers):
    """role -> (person or None, headers)."""
    person = UserFactory()
    staff = StaffFactory()
    admin = AdminFactory()
    return {
        "anonymous": (None, {}),
        "user": (person, bearer(person)),
        "staff": (staff, bearer(staff)),
        "admin": (admin, bearer(admin)),
        "user_read_key": (person, api_key_headers(person, "read")),
        "admin_read_key": (admin, api_key_headers(admin, "read")),
        "admin_rw_key": (admin, api_key_headers(admin, "read+write")),
    }


def _call(client, method: str, path: str, headers: dict, body: dict | None = None):
    call = getattr(client, method)
    if body is None:
        return call(f"/api/v1{path}", **headers)
    return call(f"/api/v1{path}", body, content_type="application/json", **headers)


# (method, path, body, expected status by role). {own} is an event the plain user caused,
# {other} one caused by somebody else.
MATRIX = [
    ("get", "/audits", None,
     {"anonymous": 401, "user": 200, "staff": 200, "admin": 200, "user_read_key": 200,
      "admin_read_key": 200, "admin_rw_key": 200}),
    ("post", "/audits", EVENT,
     {"anonymous": 401, "user": 201, "staff": 201, "admin": 201, "user_read_key": 403,
      "admin_read_key": 403, "admin_rw_key": 201}),
    ("get", "/audits/{own}", None,
     {"anonymous": 401, "user": 200, "staff": 200, "admin": 200, "user_read_key": 200,
      "admin_read_key": 200, "admin_rw_key": 200}),
    ("get", "/audits/{other}", None,
     {"anonymous": 401, "user": 404, "staff": 200, "admin": 200, "user_read_key": 404,
      "admin_read_key": 200, "admin_rw_key": 200}),
    ("patch", "/audits/{own}", {"status": "acknowledged"},
     {"anonymous": 401, "user": 403, "staff": 200, "admin": 200, "user_read_key": 403,
      "admin_read_key": 403, "admin_rw_key": 200}),
    ("delete", "/audits/{own}", None,
     {"anonymous": 401, "user": 403, "staff": 403, "admin": 204, "user_read_key": 403,
      "admin_read_key": 403, "admin_rw_key": 204}),
    ("get", "/audits/export", None,
     {"anonymous": 401, "user": 403, "staff": 200, "admin": 200, "user_read_key": 403,
      "admin_read_key": 200, "admin_rw_key": 200}),
    ("get", "/audits/verify", None,
     {"anonymous": 401, "user": 403, "staff": 403, "admin": 200, "user_read_key": 403,
      "admin_read_key": 200, "admin_rw_key": 200}),
]  # fmt: skip

CASES = [
    pytest.param(method, path, body, role, statuses[role], id=f"{method} {path} as {role}")
    for method, path, body, statuses in MATRIX
    for role in ROLES
]


@pytest.mark.parametrize(("method", "path", "body", "role", "expected"), CASES)
def test_permission_matrix(client, callers, method, path, body, role, expected):
    person = callers["user"][0]
    own = record_as(person, "thing.done", details={"k": "v"})
    other = record_as(UserFactory(), "thing.done")
    _, headers = callers[role]
    before = AuditEvent.objects.count()

    response = _call(client, method, path.format(own=own.pk, other=other.pk), headers, body)

    assert response.status_code == expected, response.content
    if expected >= 400:
        error = response.json()["error"]
        assert error["request_id"] == response["X-Request-ID"]
        assert error["code"] in (
            "not_authenticated",
            "permission_denied",
            "insufficient_scope",
            "not_found",
        )
        # Refused: nothing changed and nothing was recorded.
        assert AuditEvent.objects.count() == before
        own.refresh_from_db()
        assert (own.status, own.redacted_at, own.details) == ("open", None, {"k": "v"})


def test_a_read_key_is_refused_with_insufficient_scope(client, callers):
    event = record_as(callers["admin"][0])

    response = client.delete(f"/api/v1/audits/{event.pk}", **callers["admin_read_key"][1])

    assert response.status_code == 403
    assert error_code(response) == "insufficient_scope"


def test_a_user_lists_only_the_events_they_caused(client, bearer):
    person, someone = UserFactory(), UserFactory()
    mine = [record_as(person, entity_id=str(n)) for n in range(3)]
    record_as(someone)

    body = client.get("/api/v1/audits", **bearer(person)).json()

    assert [e["id"] for e in body["items"]] == [str(e.pk) for e in reversed(mine)]
    assert body["count"] == 3
    assert {e["actor"]["id"] for e in body["items"]} == {str(person.pk)}


def test_a_user_cannot_widen_the_view_with_an_actor_filter(client, bearer):
    person, someone = UserFactory(), UserFactory()
    record_as(someone)

    body = client.get(f"/api/v1/audits?actor_id={someone.pk}", **bearer(person)).json()

    assert body["items"] == [] and body["count"] == 0


def test_staff_and_admins_see_every_event(client, bearer):
    events = [record_as(UserFactory()) for _ in range(3)]
    expected = [str(e.pk) for e in reversed(events)]

    for reader in (StaffFactory(), AdminFactory()):
        body = client.get("/api/v1/audits?action=thing.done", **bearer(reader)).json()
        assert [e["id"] for e in body["items"]] == expected


def test_another_users_event_is_indistinguishable_from_a_missing_one(client, bearer):
    person = UserFactory()
    theirs = record_as(UserFactory())

    hidden = client.get(f"/api/v1/audits/{theirs.pk}", **bearer(person))
    missing = client.get("/api/v1/audits/00000000-0000-4000-8000-000000000000", **bearer(person))

    assert hidden.status_code == missing.status_code == 404
    assert hidden.json()["error"]["message"] == missing.json()["error"]["message"]


def test_a_malformed_event_id_is_422(client, bearer):
    response = client.get("/api/v1/audits/not-a-uuid", **bearer(UserFactory()))

    assert response.status_code == 422
