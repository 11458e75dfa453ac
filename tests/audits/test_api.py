"""/audits: recording external events, visibility, filters, pages, review, redaction."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from audits import context
from audits.models import AuditEvent
from audits.services import audit_event_record
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

EVENT = {
    "action": "invoice.paid",
    "entity_type": "invoice",
    "entity_id": "inv-42",
    "details": {"amount": 12},
}


def post_event(client, headers, **changes):
    return client.post(
        "/api/v1/audits", {**EVENT, **changes}, content_type="application/json", **headers
    )


def record_as(person, action: str, **fields) -> AuditEvent:
    ctx = context.RequestContext(
        actor_user_id=str(person.pk), actor_label=person.email, source="api"
    )
    with context.bound(ctx):
        return audit_event_record(
            action=action, entity_type=fields.pop("entity_type", "thing"), **fields
        )


def test_an_external_event_is_recorded_with_the_caller_as_actor(client, user, bearer):
    response = post_event(client, bearer(user), details={"amount": 12, "api_token": "s3cr3t"})

    assert response.status_code == 201
    body = response.json()
    assert body["action"] == "invoice.paid" and body["source"] == "external"
    assert body["actor"] == {
        "type": "user",
        "id": str(user.pk),
        "api_key_id": None,
        "label": user.email,
    }
    assert body["details"] == {"amount": 12, "api_token": "[redacted]"}
    assert body["request_id"] == response["X-Request-ID"]
    stored = AuditEvent.objects.get(pk=body["id"])
    assert "s3cr3t" not in json.dumps(stored.details)


def test_a_write_key_records_as_its_owner_and_names_the_key(client, user, api_key_headers):
    response = post_event(client, api_key_headers(user, "read+write"))

    actor = response.json()["actor"]
    assert actor["type"] == "api_key" and actor["id"] == str(user.pk) and actor["api_key_id"]


def test_a_read_key_cannot_record(client, user, api_key_headers):
    response = post_event(client, api_key_headers(user, "read"))

    assert response.status_code == 403
    assert not AuditEvent.objects.filter(action="invoice.paid").exists()


@pytest.mark.parametrize(
    ("changes", "status"),
    [
        ({"action": "Not Dotted"}, 422),
        ({"action": "nodots"}, 422),
        ({"entity_type": ""}, 422),
        ({"occurred_at": (timezone.now() + timedelta(hours=1)).isoformat()}, 422),
        ({"occurred_at": "yesterday"}, 422),
        ({"sequence": 1}, 422),
        ({"details": {"blob": "x" * (64 * 1024)}}, 413),
    ],
)
def test_bad_external_events_are_refused(client, user, bearer, changes, status):
    response = post_event(client, bearer(user), **changes)

    assert response.status_code == status
    assert not AuditEvent.objects.filter(action="invoice.paid", actor_user_id=str(user.pk)).exists()


def test_a_past_occurred_at_is_kept(client, user, bearer):
    when = "2026-01-02T03:04:05Z"

    response = post_event(client, bearer(user), occurred_at=when)

    assert response.json()["occurred_at"].startswith("2026-01-02T03:04:05")


def test_users_see_only_their_own_events_and_staff_see_all(client, user, staff, bearer):
    other = UserFactory()
    mine = record_as(user, "thing.done")
    theirs = record_as(other, "thing.done")

    as_user = client.get("/api/v1/audits", **bearer(user)).json()
    as_staff = client.get("/api/v1/audits?action=thing.done", **bearer(staff)).json()

    assert [e["id"] for e in as_user["items"]] == [str(mine.pk)]
    assert [e["id"] for e in as_staff["items"]] == [str(theirs.pk), str(mine.pk)]  # newest first
    assert client.get(f"/api/v1/audits/{theirs.pk}", **bearer(user)).status_code == 404
    assert client.get(f"/api/v1/audits/{mine.pk}", **bearer(user)).json()["id"] == str(mine.pk)


def test_filters(client, user, staff, bearer):
    record_as(user, "prompt.created", entity_type="prompt", entity_id="p1")
    record_as(user, "prompt.label.moved", entity_type="prompt", entity_id="p1")
    record_as(staff, "file.uploaded", entity_type="file", entity_id="f1")

    def actions(query: str) -> list[str]:
        response = client.get(f"/api/v1/audits?{query}", **bearer(staff))
        assert response.status_code == 200, response.content
        return [e["action"] for e in response.json()["items"]]

    assert actions("action=prompt.*") == ["prompt.label.moved", "prompt.created"]
    assert actions("action=prompt.created") == ["prompt.created"]
    assert actions("entity_type=file") == ["file.uploaded"]
    assert actions("entity_type=prompt&entity_id=p1&q=label") == ["prompt.label.moved"]
    assert actions(f"actor_id={staff.pk}") == ["file.uploaded"]
    assert actions("status=open&action=file.*") == ["file.uploaded"]
    assert actions("since=2000-01-01T00:00:00Z&until=2001-01-01T00:00:00Z") == []


@pytest.mark.parametrize(
    "query",
    ["page_size=51", "page=0", "status=closed", "since=notadate", "actor_id=42",
     "since=2026-02-01T00:00:00Z&until=2026-01-01T00:00:00Z", "action=DROP TABLE"],
)  # fmt: skip
def test_bad_filters_are_422(client, staff, bearer, query):
    response = client.get(f"/api/v1/audits?{query}", **bearer(staff))

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_error"


def test_pages_and_a_page_past_the_end(client, user, bearer):
    for n in range(5):
        record_as(user, "thing.done", entity_id=str(n))

    page2 = client.get("/api/v1/audits?page_size=2&page=2", **bearer(user)).json()
    beyond = client.get("/api/v1/audits?page_size=2&page=9", **bearer(user)).json()

    assert [e["entity_id"] for e in page2["items"]] == ["2", "1"]
    assert page2["count"] == 5 and page2["page"] == 2 and page2["page_size"] == 2
    assert beyond["items"] == [] and beyond["count"] == 5


def test_staff_review_changes_only_status_and_note_and_is_audited(
    client, user, staff, bearer, audit_events
):
    event = record_as(user, "thing.done")

    response = client.patch(
        f"/api/v1/audits/{event.pk}", {"status": "acknowledged", "review_note": "seen"},
        content_type="application/json", **bearer(staff),
    )  # fmt: skip

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "acknowledged" and body["review_note"] == "seen"
    assert body["reviewed_by_id"] == str(staff.pk) and body["reviewed_at"]
    [review] = audit_events(action="audit.event.reviewed")
    assert review.entity_id == str(event.pk)
    assert review.details["status"] == {"before": "open", "after": "acknowledged"}


@pytest.mark.parametrize("field", ["action", "details", "actor_label", "sequence", "occurred_at"])
def test_review_refuses_any_other_field(client, user, staff, bearer, field):
    event = record_as(user, "thing.done")

    response = client.patch(
        f"/api/v1/audits/{event.pk}", {field: "x"}, content_type="application/json", **bearer(staff)
    )

    assert response.status_code == 422
    assert AuditEvent.objects.get(pk=event.pk).action == "thing.done"


def test_users_cannot_review_and_staff_cannot_redact(client, user, staff, bearer):
    event = record_as(user, "thing.done")

    review = client.patch(
        f"/api/v1/audits/{event.pk}",
        {"status": "resolved"},
        content_type="application/json",
        **bearer(user),
    )
    redact = client.delete(f"/api/v1/audits/{event.pk}", **bearer(staff))

    assert review.status_code == redact.status_code == 403


def test_admin_redaction_empties_details_keeps_the_row_and_the_chain(client, user, admin, bearer):
    event = record_as(user, "thing.done", details={"email": "someone@example.com"})

    response = client.delete(f"/api/v1/audits/{event.pk}", **bearer(admin))

    assert response.status_code == 204
    body = client.get(f"/api/v1/audits/{event.pk}", **bearer(admin)).json()
    assert body["details"] == {} and body["redacted"] is True
    assert body["redacted_by_id"] == str(admin.pk)
    verify = client.get("/api/v1/audits/verify", **bearer(admin)).json()
    assert verify["ok"] is True and verify["checked"] == AuditEvent.objects.count()


def test_verify_is_for_admins(client, staff, bearer):
    assert client.get("/api/v1/audits/verify", **bearer(staff)).status_code == 403


def test_client_ip_trusts_forwarded_for_only_from_a_trusted_proxy(client, user, bearer, settings):
    direct = post_event(
        client, {**bearer(user), "REMOTE_ADDR": "198.51.100.5", "HTTP_X_FORWARDED_FOR": "1.2.3.4"}
    )
    settings.TRUSTED_PROXIES = ["10.0.0.2"]
    proxied = post_event(
        client,
        {**bearer(user), "REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "1.2.3.4, 10.0.0.2",
         "HTTP_USER_AGENT": "billing-sync/1.0"},
    )  # fmt: skip

    assert direct.json()["ip"] == "198.51.100.5"
    assert proxied.json()["ip"] == "1.2.3.4"
    assert proxied.json()["user_agent"] == "billing-sync/1.0"
