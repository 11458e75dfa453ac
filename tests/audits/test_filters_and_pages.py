"""GET /audits: newest first, filters, and the shared page shape (20 by default, 50 at most)."""

from datetime import UTC, datetime

import pytest

from audits.models import AuditEvent
from tests.audits.helpers import record_as
from tests.support.factories import StaffFactory, UserFactory

pytestmark = pytest.mark.django_db


def at(day: int, hour: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, tzinfo=UTC)


@pytest.fixture
def reader(bearer):
    staff = StaffFactory()
    return staff, bearer(staff)


@pytest.fixture
def trail(reader):
    """Six events by two people over six days of March 2026 (sequence 1..6)."""
    ann = UserFactory(email="ann@example.com")
    bob = UserFactory(email="bob@example.com")
    return {
        "ann": ann,
        "bob": bob,
        "events": [
            record_as(ann, "prompt.created", entity_type="prompt", entity_id="p1", occurred_at=at(1)),
            record_as(ann, "prompt.label.moved", entity_type="prompt", entity_id="p1", occurred_at=at(2)),
            record_as(bob, "prompts.archived", entity_type="prompt", entity_id="p2", occurred_at=at(3)),
            record_as(bob, "file.uploaded", entity_type="file", entity_id="f1", occurred_at=at(4)),
            record_as(ann, "file.deleted", entity_type="file", entity_id="f1", occurred_at=at(5)),
            record_as(bob, "invoice.paid", entity_type="invoice", entity_id="INV-9", occurred_at=at(6)),
        ],
    }  # fmt: skip


def listed(client, headers, query: str = "") -> dict:
    response = client.get(f"/api/v1/audits?{query}", **headers)
    assert response.status_code == 200, response.content
    return response.json()


def actions(client, headers, query: str) -> list[str]:
    return [e["action"] for e in listed(client, headers, query)["items"]]


def test_newest_first_with_the_full_page_shape(client, reader, trail):
    body = listed(client, reader[1])

    assert [e["sequence"] for e in body["items"]] == [6, 5, 4, 3, 2, 1]
    assert (body["count"], body["page"], body["page_size"]) == (6, 1, 20)
    first = body["items"][0]
    assert first["action"] == "invoice.paid"
    assert first["actor"] == {
        "type": "user",
        "id": str(trail["bob"].pk),
        "api_key_id": None,
        "label": "bob@example.com",
    }
    assert set(first) >= {"id", "occurred_at", "recorded_at", "entity_type", "entity_id",
                          "request_id", "ip", "user_agent", "source", "details", "status",
                          "review_note", "reviewed_by_id", "reviewed_at", "redacted"}  # fmt: skip


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("action=prompt.created", ["prompt.created"]),
        # A prefix stops at the dot: prompt.* is not prompts.*
        ("action=prompt.*", ["prompt.label.moved", "prompt.created"]),
        ("action=prompts.*", ["prompts.archived"]),
        ("action=file.*", ["file.deleted", "file.uploaded"]),
        ("action=prompt", []),
        ("entity_type=file", ["file.deleted", "file.uploaded"]),
        ("entity_type=prompt&entity_id=p1", ["prompt.label.moved", "prompt.created"]),
        ("entity_id=f1", ["file.deleted", "file.uploaded"]),
        ("q=label", ["prompt.label.moved"]),
        ("q=inv-9", ["invoice.paid"]),  # entity id, case-insensitive
        ("q=ann@", ["file.deleted", "prompt.label.moved", "prompt.created"]),  # actor label
        ("status=open&entity_type=invoice", ["invoice.paid"]),
        ("status=resolved", []),
        # since is inclusive, until exclusive
        ("since=2026-03-04T00:00:00Z", ["invoice.paid", "file.deleted", "file.uploaded"]),
        ("until=2026-03-02T00:00:00Z", ["prompt.created"]),
        ("since=2026-03-02T00:00:00Z&until=2026-03-04T00:00:00Z",
         ["prompts.archived", "prompt.label.moved"]),
        ("since=2026-03-02T00:00:00%2B01:00&until=2026-03-02T00:00:00%2B01:00", []),
        ("since=2026-03-03T00:00:00Z&until=2026-03-03T00:00:00Z", []),
        ("action=file.*&q=uploaded&since=2026-03-01T00:00:00Z", ["file.uploaded"]),
    ],
)  # fmt: skip
def test_filters(client, reader, trail, query, expected):
    assert actions(client, reader[1], query) == expected


def test_actor_filter(client, reader, trail):
    ann_events = actions(client, reader[1], f"actor_id={trail['ann'].pk}")

    assert ann_events == ["file.deleted", "prompt.label.moved", "prompt.created"]


def test_status_filter_follows_reviews(client, reader, trail):
    event = trail["events"][3]
    client.patch(
        f"/api/v1/audits/{event.pk}", {"status": "resolved"},
        content_type="application/json", **reader[1],
    )  # fmt: skip

    assert actions(client, reader[1], "status=resolved") == ["file.uploaded"]
    assert "file.uploaded" not in actions(client, reader[1], "status=open")


def test_filters_apply_within_a_users_own_view(client, bearer, trail):
    assert actions(client, bearer(trail["ann"]), "action=file.*") == ["file.deleted"]


@pytest.mark.parametrize(
    "query",
    [
        "page_size=51",
        "page_size=0",
        "page=0",
        "page=-1",
        "page=abc",
        "status=closed",
        "status=OPEN",
        "since=notadate",
        "until=2026-13-01T00:00:00Z",
        "since=2026-03-05T00:00:00Z&until=2026-03-01T00:00:00Z",
        "actor_id=42",
        "action=DROP TABLE",
        "action=prompt*",
        "q=" + "x" * 101,
    ],
)
def test_bad_queries_are_422(client, reader, query):
    response = client.get(f"/api/v1/audits?{query}", **reader[1])

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert error["details"] and error["request_id"] == response["X-Request-ID"]


def test_dates_with_and_without_a_time_zone_together_are_not_a_server_error(client, reader, trail):
    # Guards: a naive `since` is read as UTC before it is compared with an aware `until` (a
    # naive/aware comparison is a TypeError, a 500).
    response = client.get(
        "/api/v1/audits?since=2026-03-02T00:00:00&until=2026-03-04T00:00:00Z", **reader[1]
    )

    assert response.status_code == 200, response.content


def test_pages(client, reader):
    person = UserFactory()
    for n in range(25):
        record_as(person, entity_id=str(n))

    first = listed(client, reader[1])
    second = listed(client, reader[1], "page=2")
    biggest = listed(client, reader[1], "page_size=50")
    small = listed(client, reader[1], "page_size=2&page=2")

    assert len(first["items"]) == 20 and first["count"] == 25
    assert [e["entity_id"] for e in second["items"]] == ["4", "3", "2", "1", "0"]
    assert (second["page"], second["page_size"]) == (2, 20)
    assert len(biggest["items"]) == 25 and biggest["page_size"] == 50
    assert [e["entity_id"] for e in small["items"]] == ["22", "21"]


def test_a_page_past_the_end_is_an_empty_page_not_an_error(client, reader):
    for n in range(3):
        record_as(UserFactory(), entity_id=str(n))

    body = listed(client, reader[1], "page=9&page_size=2")

    assert body == {"items": [], "count": 3, "page": 9, "page_size": 2}
    assert AuditEvent.objects.count() == 3
