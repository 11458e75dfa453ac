"""Issue 10: CSV cells that hide a formula behind a line break, tab or spaces are defused, and
every look-alike of a namespace Parecer writes itself is refused to external clients."""

import csv
import io

import pytest

from audits.models import AuditEvent
from tests.audits.helpers import post_json, record_as

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "entity_id", ["\n=1+2", "\r\n@SUM(A1)", "\n\t+cmd", '  =HYPERLINK("x")', "\t-2+3"]
)
def test_csv_cells_hiding_a_formula_behind_whitespace_are_quoted(client, staff, bearer, entity_id):
    record_as(staff, "invoice.paid", entity_type="invoice", entity_id=entity_id)

    response = client.get("/api/v1/audits/export?format=csv", **bearer(staff))

    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    [row] = [row for row in rows if row["action"] == "invoice.paid"]
    assert row["entity_id"] == "'" + entity_id
    assert AuditEvent.objects.get(action="invoice.paid").entity_id == entity_id  # stored as sent


@pytest.mark.parametrize(
    "action", ["audits.x", "session.x", "api_keys.x", "prompts.x", "analyses.x", "files.x"]
)
def test_look_alike_namespaces_are_reserved(client, user, bearer, action):
    response = post_json(
        client,
        "/audits",
        {"action": action, "entity_type": "thing", "entity_id": "1"},
        **bearer(user),
    )

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "reserved_action"
    assert error["details"][0]["field"] == "action"
    assert not AuditEvent.objects.filter(action=action).exists()
