"""GET /audits reuses each page's compiled statement (core.compiled_pages): the SQL once a process,
the rows fresh from the database every time, and never one caller's statement for another."""

from unittest import mock

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.db.models.sql.compiler import SQLCompiler
from django.test.utils import CaptureQueriesContext

from audits.models import AuditEvent
from config.pagination import PagePagination
from core.compiled_pages import KeyedQuerySet, compiled_page
from tests.audits.helpers import record_as
from tests.support.factories import StaffFactory, UserFactory

pytestmark = pytest.mark.django_db


def listed(client, headers, query: str = "") -> dict:
    response = client.get(f"/api/v1/audits?{query}", **headers)
    assert response.status_code == 200, response.content
    return response.json()


def test_a_repeated_page_compiles_no_sql_and_still_reads_new_events(client, bearer):
    staff = StaffFactory()
    headers = bearer(staff)
    record_as(staff, "invoice.paid", entity_id="INV-1")
    record_as(staff, "invoice.sent", entity_id="INV-1")
    assert [e["entity_id"] for e in listed(client, headers, "action=invoice.paid")["items"]] == [
        "INV-1"
    ]

    record_as(staff, "invoice.paid", entity_id="INV-2")
    compile_sql = mock.patch.object(
        SQLCompiler, "as_sql", autospec=True, side_effect=SQLCompiler.as_sql
    )
    with compile_sql as compiled, CaptureQueriesContext(connection) as queries:
        body = listed(client, headers, "action=invoice.paid")

    assert [e["entity_id"] for e in body["items"]] == ["INV-2", "INV-1"]
    assert body["count"] == 2
    assert compiled.call_count == 0
    assert len(queries) == 2, [q["sql"] for q in queries]  # the caller, then the page


def test_callers_with_the_same_query_each_see_only_their_own_events(client, bearer):
    ann, bob = UserFactory(), UserFactory()
    record_as(ann, "prompt.created", entity_id="ann-1")
    record_as(bob, "prompt.created", entity_id="bob-1")
    record_as(bob, "prompt.created", entity_id="bob-2")

    for _ in range(2):  # the second round runs the statements kept by the first
        ann_sees = listed(client, bearer(ann), "action=prompt.created")
        bob_sees = listed(client, bearer(bob), "action=prompt.created")
        staff_sees = listed(client, bearer(StaffFactory()), "action=prompt.created")
        assert [e["entity_id"] for e in ann_sees["items"]] == ["ann-1"]
        assert [e["entity_id"] for e in bob_sees["items"]] == ["bob-2", "bob-1"]
        assert [e["entity_id"] for e in staff_sees["items"]] == ["bob-2", "bob-1", "ann-1"]


def test_each_filter_value_and_page_has_its_own_statement(client, bearer):
    staff = StaffFactory()
    headers = bearer(staff)
    for n in range(23):
        record_as(staff, "invoice.paid", entity_id=f"INV-{n}")
    record_as(staff, "invoice.sent", entity_id="SENT")

    for _ in range(2):
        first = listed(client, headers, "action=invoice.paid")
        second = listed(client, headers, "action=invoice.paid&page=2")
        sent = listed(client, headers, "action=invoice.sent")
        assert (len(first["items"]), first["count"]) == (20, 23)
        assert first["items"][0]["entity_id"] == "INV-22"
        assert [e["entity_id"] for e in second["items"]] == ["INV-2", "INV-1", "INV-0"]
        assert second["count"] == 23
        assert [e["entity_id"] for e in sent["items"]] == ["SENT"]
    assert AuditEvent.objects.filter(action="invoice.paid").count() == 23


def test_a_filter_that_matches_nothing_is_an_empty_page(client, bearer):
    headers = bearer(StaffFactory())
    for _ in range(2):
        body = listed(client, headers, "action=nothing.here")
        assert (body["items"], body["count"]) == ([], 0)


def test_a_filter_the_database_never_sees_is_an_empty_page_counted_zero():
    paginator = PagePagination()
    keyed = KeyedQuerySet(
        key=("test.none",), build=lambda: AuditEvent.objects.filter(pk__in=[]).order_by("-sequence")
    )
    for page in (1, 2, 1):  # page 2 asks for the count
        body = paginator.paginate_queryset(
            keyed, pagination=PagePagination.Input(page=page, page_size=20), request=None
        )
        assert (body["items"], body["count"]) == ([], 0)


@pytest.mark.parametrize(
    ("build", "refusal"),
    [
        (lambda: AuditEvent.objects.only("action"), "exactly its concrete columns"),
        (lambda: AuditEvent.objects.values(), "must yield model instances"),
        (lambda: AuditEvent.objects.prefetch_related("details"), "nothing prefetched"),
    ],
)
def test_a_statement_must_select_exactly_the_models_columns(build, refusal):
    with pytest.raises(ImproperlyConfigured, match=refusal):
        compiled_page(("refused", refusal), page=build, extra=lambda: None)
