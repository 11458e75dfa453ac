"""GET /audits/export: every matching event, oldest first, streamed as NDJSON or CSV (staff)."""

import csv
import io
import json
from datetime import datetime

import pytest
from django.http import StreamingHttpResponse

from audits.models import AuditEvent
from audits.schemas import AuditEventOut
from tests.audits.helpers import record_as, record_system, streamed
from tests.support.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def reader(staff, bearer):
    return bearer(staff)


def export(client, headers, query: str = ""):
    response = client.get(f"/api/v1/audits/export?{query}", **headers)
    assert response.status_code == 200, response.content
    assert isinstance(response, StreamingHttpResponse)
    return response


TIMES = ("occurred_at", "recorded_at", "reviewed_at", "redacted_at")


def same_times(row: dict) -> dict:
    """``row`` with every timestamp parsed and cut to the millisecond."""

    def to_ms(value: str) -> datetime:
        moment = datetime.fromisoformat(value)
        return moment.replace(microsecond=moment.microsecond // 1000 * 1000)

    return {k: to_ms(v) if k in TIMES and v else v for k, v in row.items()}


def test_ndjson_has_one_complete_row_per_event_oldest_first(client, reader):
    person = UserFactory()
    events = [record_as(person, entity_id=str(n), details={"n": n}) for n in range(7)]

    response = export(client, reader, "format=ndjson")

    assert response["Content-Type"] == "application/x-ndjson"
    assert 'filename="audit-events.ndjson"' in response["Content-Disposition"]
    body = streamed(response)
    assert body.endswith("\n")
    rows = [json.loads(line) for line in body.splitlines()]
    assert len(rows) == 7
    assert [r["sequence"] for r in rows] == [1, 2, 3, 4, 5, 6, 7]
    # Each row is what GET /audits/{id} returns for that event (the API renders times to the
    # millisecond, the export to the microsecond).
    for row, event in zip(rows, events, strict=True):
        assert same_times(row) == same_times(
            client.get(f"/api/v1/audits/{event.pk}", **reader).json()
        )


def test_ndjson_is_the_default_format(client, reader):
    record_system(2)

    response = export(client, reader)

    assert response["Content-Type"] == "application/x-ndjson"
    assert len(streamed(response).splitlines()) == 2


def test_csv_has_a_header_and_one_complete_row_per_event_oldest_first(client, reader):
    person = UserFactory()
    record_as(person, entity_id="0", details={"note": 'multi\nline, with "quotes"'})
    record_as(person, entity_id="1", details={"n": 1})
    record_system(1)

    response = export(client, reader, "format=csv")

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="audit-events.csv"' in response["Content-Disposition"]
    reader_ = csv.DictReader(io.StringIO(streamed(response)))
    rows = list(reader_)
    assert reader_.fieldnames == list(AuditEventOut.model_fields)
    assert len(rows) == 3
    assert [int(r["sequence"]) for r in rows] == [1, 2, 3]
    assert json.loads(rows[0]["details"]) == {"note": 'multi\nline, with "quotes"'}
    assert json.loads(rows[0]["actor"]) == {
        "type": "user",
        "id": str(person.pk),
        "api_key_id": None,
        "label": person.email,
    }
    assert json.loads(rows[2]["actor"])["type"] == "system"
    assert all(r["id"] and r["request_id"] is not None and r["status"] == "open" for r in rows)


def test_an_empty_export_is_empty_ndjson_or_a_lone_csv_header(client, reader):
    ndjson = export(client, reader, "format=ndjson")
    as_csv = export(client, reader, "format=csv")

    assert streamed(ndjson) == ""
    assert streamed(as_csv).splitlines() == [",".join(AuditEventOut.model_fields)]


def test_filters_narrow_the_export(client, reader):
    record_system(3, action="prompt.created")
    record_system(2, action="file.uploaded")

    response = export(client, reader, "action=prompt.*&format=ndjson")

    rows = [json.loads(line) for line in streamed(response).splitlines()]
    assert [r["action"] for r in rows] == ["prompt.created"] * 3
    assert [r["sequence"] for r in rows] == [1, 2, 3]


def test_large_exports_page_through_in_batches_without_gaps_or_repeats(client, reader, monkeypatch):
    monkeypatch.setattr("audits.selectors.EXPORT_BATCH", 3)
    record_system(10)

    response = export(client, reader)

    sequences = [json.loads(line)["sequence"] for line in streamed(response).splitlines()]
    assert sequences == list(range(1, 11))


def test_redacted_events_are_exported_without_their_details(client, reader, admin, bearer):
    [event] = record_system(1)
    client.delete(f"/api/v1/audits/{event.pk}", **bearer(admin))

    rows = [json.loads(line) for line in streamed(export(client, reader)).splitlines()]

    assert rows[0]["id"] == str(event.pk)
    assert rows[0]["details"] == {} and rows[0]["redacted"] is True
    assert rows[1]["action"] == "audit.event.redacted"


@pytest.mark.parametrize("query", ["format=xml", "since=nope", "page_size=999999"])
def test_bad_export_queries(client, reader, query):
    response = client.get(f"/api/v1/audits/export?{query}", **reader)

    # page_size is not an export parameter: it is ignored, not an error.
    expected = 200 if query.startswith("page_size") else 422
    assert response.status_code == expected


def test_users_cannot_export(client, user, bearer):
    record_as(user)

    response = client.get("/api/v1/audits/export", **bearer(user))

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    assert AuditEvent.objects.count() == 1
