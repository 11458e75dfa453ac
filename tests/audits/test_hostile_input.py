"""What a client could send to break the trail or the server: each is a clear 4xx, nothing stored,
the chain still verifies; and what a database insider could forge is caught."""

import io
import json
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from audits.chain import REDACTION_ACTION, chain_verify
from audits.models import AuditCheckpoint, AuditEvent, Source
from audits.services import audit_event_record
from tests.audits.helpers import EVENT, error_code, post_event, raw_sql, record_system

pytestmark = pytest.mark.django_db


def post_raw(client, body: str, headers: dict):
    return client.post("/api/v1/audits", body, content_type="application/json", **headers)


def event_json(details_json: str) -> str:
    return (
        json.dumps({key: value for key, value in EVENT.items() if key != "details"})[:-1]
        + f', "details": {details_json}}}'
    )


@pytest.mark.parametrize(
    ("details_json", "code"),
    [
        ('{"x": 1e400}', "invalid_json_number"),
        ('{"x": -1e400}', "invalid_json_number"),
        ('{"x": NaN}', "invalid_json_number"),
        ('{"x": "\\ud800"}', "invalid_unicode"),
        ('{"\\udfff": 1}', "invalid_unicode"),
        ('{"x": "a\\u0000b"}', "nul_character"),
        ('{"a\\u0000": 1}', "nul_character"),
        ("[" * 65 + "]" * 65, "json_too_deep"),
        ('{"x": ' + "[" * 5000 + "]" * 5000 + "}", "json_too_deep"),
    ],
)
def test_a_body_jsonb_cannot_store_exactly_is_a_422_and_nothing_is_stored(
    client, user, bearer, details_json, code
):
    response = post_raw(client, event_json(details_json), bearer(user))

    assert response.status_code == 422, response.content
    assert error_code(response) == code
    assert response.json()["error"]["request_id"]
    assert not AuditEvent.objects.exists()


def test_an_escaped_backslash_before_u0000_is_text_not_a_nul(client, user, bearer):
    response = post_raw(client, event_json('{"path": "C:\\\\u0000"}'), bearer(user))

    assert response.status_code == 201, response.content
    assert response.json()["details"] == {"path": "C:\\u0000"}
    assert chain_verify().ok


@pytest.mark.parametrize(("lists", "status"), [(62, 201), (63, 422)])
def test_nesting_is_allowed_up_to_sixty_four_levels(client, user, bearer, lists, status):
    # The body object is level 1, details level 2, then the lists.
    details = '{"a": ' + "[" * lists + "]" * lists + "}"

    response = post_raw(client, event_json(details), bearer(user))

    assert response.status_code == status, response.content
    assert AuditEvent.objects.count() == (1 if status == 201 else 0)


def test_negative_zero_is_stored_as_zero_and_the_chain_verifies(client, user, bearer):
    response = post_raw(client, event_json('{"v": -0.0, "w": -0.0e5, "n": [-0.0]}'), bearer(user))

    assert response.status_code == 201, response.content
    stored = AuditEvent.objects.get(pk=response.json()["id"])
    assert json.dumps(stored.details, sort_keys=True) == '{"n": [0.0], "v": 0.0, "w": 0.0}'
    report = chain_verify()
    assert report.ok, report.reason


@pytest.mark.parametrize("occurred_at", ["0001-01-01T00:00:00+05:00", "0001-01-01T03:00:00+05:00"])
def test_an_occurred_at_before_year_one_in_utc_is_a_422(client, user, bearer, occurred_at):
    response = post_event(client, bearer(user), occurred_at=occurred_at)

    assert response.status_code == 422, response.content
    assert response.json()["error"]["details"][0]["field"] == "occurred_at"
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize(
    "query", ["since=9999-12-31T23:59:59-05:00", "until=0001-01-01T00:00:00+05:00"]
)
def test_a_time_window_outside_the_calendar_in_utc_is_a_422(client, staff, bearer, query):
    for path in ("/api/v1/audits", "/api/v1/audits/export"):
        response = client.get(f"{path}?{query}", **bearer(staff))

        assert response.status_code == 422, (path, response.content)
        assert error_code(response) == "validation_error"


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/audits?q=%00",
        "/api/v1/audits?entity_id=a%00b",
        "/api/v1/audits/export?entity_type=%00",
        "/api/v1/users?q=%00",
        "/api/v1/audits?x%00=1",
    ],
)
def test_a_nul_in_a_query_parameter_is_a_422(client, staff, bearer, path):
    record_system(1)

    response = client.get(path, **bearer(staff))

    assert response.status_code == 422, response.content
    assert error_code(response) == "nul_character"


def test_an_ordinary_percent_escape_is_not_mistaken_for_a_nul(client, staff, bearer):
    record_system(1)

    response = client.get("/api/v1/audits?q=100%25", **bearer(staff))

    assert response.status_code == 200
    assert response.json()["count"] == 0


@pytest.mark.parametrize(
    "action", ["audit.event.redacted", "audit.pruned", "auth.login.succeeded", "user.created"]
)
def test_clients_cannot_record_events_in_parecers_own_namespaces(client, staff, bearer, action):
    target = record_system(1)[0]

    response = post_event(
        client, bearer(staff), action=action, entity_type="audit_event", entity_id=str(target.pk)
    )

    assert response.status_code == 422, response.content
    assert error_code(response) == "reserved_action"
    assert response.json()["error"]["details"][0]["field"] == "action"
    assert AuditEvent.objects.count() == 1


def test_a_redaction_record_from_outside_does_not_vouch_for_wiped_details(db):
    (target,) = record_system(1)
    # A row written before reserved namespaces existed, or forged with the key: source external.
    audit_event_record(
        action=REDACTION_ACTION,
        entity_type="audit_event",
        entity_id=target.pk,
        source=Source.EXTERNAL,
    )
    AuditEvent.objects.filter(pk=target.pk).update(details={}, redacted_at=timezone.now())

    report = chain_verify()

    assert not report.ok
    assert report.broken_at_sequence == target.sequence
    assert report.reason == "event is marked redacted but no redaction was recorded"


def test_prune_refuses_to_sign_over_a_broken_chain_and_deletes_nothing(db):
    events = record_system(4)
    AuditEvent.objects.filter(pk__in=[event.pk for event in events]).update(
        recorded_at=timezone.now() - timedelta(days=500)
    )
    raw_sql("UPDATE audits_auditevent SET action = 'thing.undone' WHERE sequence = 2")

    with pytest.raises(CommandError, match=r"does not verify .*sequence 2"):
        call_command("audit_prune", "--older-than", "400d", stdout=io.StringIO())

    assert AuditEvent.objects.count() == 4
    assert not AuditCheckpoint.objects.exists()
    assert chain_verify().broken_at_sequence == 2


def test_verification_reports_the_head_hmac_to_keep_as_an_outside_anchor(client, admin, bearer):
    events = record_system(3)

    body = client.get("/api/v1/audits/verify", **bearer(admin)).json()
    out = io.StringIO()
    call_command("audit_verify", stdout=out)

    assert body["ok"] is True and body["head_hmac"] == events[-1].hmac
    assert f"head 3 {events[-1].hmac}" in out.getvalue()


@pytest.mark.parametrize(
    ("key", "value"),
    [("pwd", "hunter2"), ("jwt", "eyJ.x.y"), ("session_key", "abc"), ("signing_key", "k"),
     ("pass", 123456), ("access", "eyJ.a.b"), ("refresh", "r-token"), ("bearer", "t")],
)  # fmt: skip
def test_more_secret_looking_keys_never_land(client, user, bearer, key, value):
    response = post_event(client, bearer(user), details={key: value, "revoked_tokens": 3})

    assert response.status_code == 201
    stored = AuditEvent.objects.get(pk=response.json()["id"])
    assert stored.details == {key: "[redacted]", "revoked_tokens": 3}
    assert chain_verify().ok


@pytest.mark.parametrize(
    "path",
    [
        "/admin/audits/auditevent/?q=%00",
        "/admin/accounts/user/?q=a%00",
        "/admin/accounts/apikey/?q=%00",
        "/admin/audits/auditevent/?action=%00",
    ],
)
def test_a_nul_in_an_admin_query_is_a_400_not_a_database_error(admin_client, path):
    record_system(1)

    response = admin_client.get(path)

    assert response.status_code == 400, response.content[:300]
    assert b"NUL" in response.content
