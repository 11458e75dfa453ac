"""PATCH /audits/{id} (staff review) and DELETE /audits/{id} (admin redaction).

A review may change only status and note, and is itself audited. Redaction empties the details but
keeps the row and its place in the chain; nothing erases an event.
"""

import json

import pytest
from django.core.management import call_command

from audits.chain import chain_verify
from audits.models import AuditEvent
from audits.services import audit_event_record
from tests.audits.helpers import error_code, patch_json, record_as
from tests.support.factories import UserFactory

pytestmark = pytest.mark.django_db

SEALED = ("sequence", "occurred_at", "action", "entity_type", "entity_id", "actor_user_id",
          "actor_label", "request_id", "details_digest", "hmac")  # fmt: skip


def sealed_values(event: AuditEvent) -> tuple:
    event.refresh_from_db()
    return tuple(getattr(event, field) for field in SEALED)


@pytest.fixture
def event(user):
    return record_as(user, "invoice.refunded", entity_type="invoice", details={"email": "a@b.c"})


# --- review -------------------------------------------------------------------------------------


def test_staff_review_sets_status_and_note_and_is_itself_audited(client, staff, bearer, event):
    sealed_before = sealed_values(event)

    response = patch_json(
        client, f"/audits/{event.pk}", {"status": "acknowledged", "review_note": "customer asked"},
        HTTP_X_REQUEST_ID="review-req-000001", **bearer(staff),
    )  # fmt: skip

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["review_note"]) == ("acknowledged", "customer asked")
    assert body["reviewed_by_id"] == str(staff.pk) and body["reviewed_at"]
    assert body["details"] == {"email": "a@b.c"}
    event.refresh_from_db()
    assert (event.status, event.review_note, event.reviewed_by_id) == (
        "acknowledged",
        "customer asked",
        str(staff.pk),
    )
    assert sealed_values(event) == sealed_before
    [review] = AuditEvent.objects.filter(action="audit.event.reviewed")
    assert (review.entity_type, review.entity_id) == ("audit_event", str(event.pk))
    assert (review.actor_user_id, review.actor_label, review.source) == (
        str(staff.pk),
        staff.email,
        "api",
    )
    assert review.request_id == "review-req-000001" == response["X-Request-ID"]
    assert review.details == {
        "status": {"before": "open", "after": "acknowledged"},
        "review_note": {"before": "", "after": "customer asked"},
    }
    assert chain_verify().ok


def test_a_second_review_records_only_what_changed(client, admin, bearer, event):
    patch_json(client, f"/audits/{event.pk}", {"status": "acknowledged"}, **bearer(admin))

    response = patch_json(client, f"/audits/{event.pk}", {"status": "resolved"}, **bearer(admin))

    assert response.json()["status"] == "resolved"
    reviews = AuditEvent.objects.filter(action="audit.event.reviewed").order_by("sequence")
    assert [r.details for r in reviews] == [
        {"status": {"before": "open", "after": "acknowledged"}},
        {"status": {"before": "acknowledged", "after": "resolved"}},
    ]
    assert all(r.actor_user_id == str(admin.pk) for r in reviews)


def test_a_review_that_changes_nothing_records_nothing(client, staff, bearer, event):
    response = patch_json(client, f"/audits/{event.pk}", {"status": "open"}, **bearer(staff))

    assert response.status_code == 200
    assert response.json()["reviewed_at"] is None
    assert not AuditEvent.objects.filter(action="audit.event.reviewed").exists()


@pytest.mark.parametrize(
    "body",
    [{"action": "x.y"}, {"details": {}}, {"actor_label": "someone"}, {"sequence": 1},
     {"occurred_at": "2026-01-01T00:00:00Z"}, {"entity_id": "other"}, {"hmac": "0" * 64},
     {"reviewed_by_id": "x"}, {"redacted": True}, {"status": "resolved", "action": "x.y"}],
    ids=lambda body: ",".join(body),
)  # fmt: skip
def test_review_refuses_any_other_field(client, staff, bearer, event, body):
    sealed_before = sealed_values(event)

    response = patch_json(client, f"/audits/{event.pk}", body, **bearer(staff))

    assert response.status_code == 422
    assert error_code(response) == "validation_error"
    assert sealed_values(event) == sealed_before
    event.refresh_from_db()
    assert event.status == "open"
    assert not AuditEvent.objects.filter(action="audit.event.reviewed").exists()


@pytest.mark.parametrize("body", [{"status": "closed"}, {"review_note": "x" * 5001}])
def test_review_refuses_bad_values(client, staff, bearer, event, body):
    response = patch_json(client, f"/audits/{event.pk}", body, **bearer(staff))

    assert response.status_code == 422


def test_reviewing_a_missing_event_is_404(client, staff, bearer):
    response = patch_json(
        client, "/audits/00000000-0000-4000-8000-000000000000", {"status": "resolved"},
        **bearer(staff),
    )  # fmt: skip

    assert response.status_code == 404
    assert error_code(response) == "not_found"


def test_a_user_cannot_review_even_their_own_event(client, user, bearer, event):
    response = patch_json(client, f"/audits/{event.pk}", {"status": "resolved"}, **bearer(user))

    assert response.status_code == 403
    event.refresh_from_db()
    assert event.status == "open"


# --- redaction ------------------------------------------------------------------------------------


def test_admin_redaction_empties_details_keeps_the_row_and_the_chain(client, admin, bearer, event):
    sealed_before = sealed_values(event)
    count = AuditEvent.objects.count()

    response = client.delete(
        f"/api/v1/audits/{event.pk}", HTTP_X_REQUEST_ID="redact-req-000001", **bearer(admin)
    )

    assert response.status_code == 204 and response.content == b""
    body = client.get(f"/api/v1/audits/{event.pk}", **bearer(admin)).json()
    assert body["details"] == {} and body["redacted"] is True
    assert body["redacted_at"] and body["redacted_by_id"] == str(admin.pk)
    assert body["action"] == "invoice.refunded"  # the row is kept, only the details go
    assert sealed_values(event) == sealed_before
    assert AuditEvent.objects.count() == count + 1
    [redaction] = AuditEvent.objects.filter(action="audit.event.redacted")
    assert (redaction.entity_type, redaction.entity_id) == ("audit_event", str(event.pk))
    assert redaction.actor_user_id == str(admin.pk) and redaction.source == "api"
    assert redaction.request_id == "redact-req-000001"
    assert redaction.details == {"redacted_action": "invoice.refunded", "redacted_sequence": 1}
    # The redacted value survives nowhere in the trail.
    everything = json.dumps(list(AuditEvent.objects.values_list("details", flat=True)))
    assert "a@b.c" not in everything
    verify = client.get("/api/v1/audits/verify", **bearer(admin)).json()
    assert verify["ok"] is True and verify["checked"] == AuditEvent.objects.count()
    call_command("audit_verify", verbosity=0)


def test_redacting_twice_is_harmless(client, admin, bearer, event):
    first = client.delete(f"/api/v1/audits/{event.pk}", **bearer(admin))
    event.refresh_from_db()
    redacted_at = event.redacted_at

    second = client.delete(f"/api/v1/audits/{event.pk}", **bearer(admin))

    assert first.status_code == second.status_code == 204
    event.refresh_from_db()
    assert event.redacted_at == redacted_at
    assert AuditEvent.objects.filter(action="audit.event.redacted").count() == 1
    assert chain_verify().ok


def test_redacting_an_event_in_the_middle_keeps_later_links(client, admin, bearer):
    events = [
        audit_event_record(action="thing.done", entity_type="thing", details={"n": n})
        for n in range(5)
    ]

    client.delete(f"/api/v1/audits/{events[2].pk}", **bearer(admin))

    report = chain_verify()
    assert report.ok and report.checked == 6


def test_staff_cannot_redact(client, staff, bearer, event):
    response = client.delete(f"/api/v1/audits/{event.pk}", **bearer(staff))

    assert response.status_code == 403
    event.refresh_from_db()
    assert event.redacted_at is None and event.details == {"email": "a@b.c"}


def test_redacting_a_missing_event_is_404(client, admin, bearer):
    response = client.delete("/api/v1/audits/00000000-0000-4000-8000-000000000000", **bearer(admin))

    assert response.status_code == 404
    assert not AuditEvent.objects.exists()


def test_an_admin_redacts_any_users_event(client, admin, bearer):
    theirs = record_as(UserFactory(), details={"phone": "+351 900"})

    response = client.delete(f"/api/v1/audits/{theirs.pk}", **bearer(admin))

    assert response.status_code == 204
    theirs.refresh_from_db()
    assert theirs.details == {} and theirs.redacted_by_id == str(admin.pk)
