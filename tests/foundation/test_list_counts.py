"""The count of every list: exact and fresh for small lists, exact then cached for big ones.

Shown through GET /audits, whose pages are compiled once (core.compiled_pages), and through
GET /users, a plain queryset: every list shares config.pagination. The threshold is lowered from
1,000 to 5 so a big list is a few rows.
"""

import pytest
from django.core.cache import cache

from config import pagination
from tests.audits.helpers import record_system
from tests.support.factories import AdminFactory, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_headers(bearer):
    return bearer(StaffFactory())


@pytest.fixture
def big_list_above(monkeypatch):
    monkeypatch.setattr(pagination, "COUNT_EXACT_UP_TO", 5)
    return 5


def listed(client, headers, query: str) -> dict:
    response = client.get(f"/api/v1/audits?{query}", **headers)
    assert response.status_code == 200, response.content
    return response.json()


def test_a_short_last_page_counts_exactly_without_a_count_query(
    client, staff_headers, django_assert_num_queries
):
    record_system(7)

    with django_assert_num_queries(2):  # the caller, then the page (its keys in a subquery)
        body = listed(client, staff_headers, "action=thing.done&page=2&page_size=4")

    assert (body["count"], len(body["items"])) == (7, 3)
    assert [e["entity_id"] for e in body["items"]] == ["2", "1", "0"]


def test_a_full_page_of_a_small_list_counts_exactly_and_sees_new_rows_at_once(
    client, staff_headers, big_list_above
):
    record_system(4)
    assert listed(client, staff_headers, "action=thing.done&page_size=2")["count"] == 4

    record_system(1)

    assert listed(client, staff_headers, "action=thing.done&page_size=2")["count"] == 5


def test_a_big_list_counts_exactly_then_serves_the_cached_count(
    client, staff_headers, big_list_above
):
    record_system(8)
    first = listed(client, staff_headers, "action=thing.done&page_size=2")
    assert first["count"] == 8

    record_system(2)
    cached = listed(client, staff_headers, "action=thing.done&page_size=2")
    assert cached["count"] == 8  # up to COUNT_CACHE_SECONDS old, as documented
    assert cached["items"][0]["entity_id"] == "1"  # the items themselves are always fresh

    cache.clear()  # the cache entry expiring
    assert listed(client, staff_headers, "action=thing.done&page_size=2")["count"] == 10


def test_a_page_past_the_end_is_empty_with_the_true_count(client, staff_headers, big_list_above):
    record_system(8)

    body = listed(client, staff_headers, "action=thing.done&page=9&page_size=2")

    assert (body["items"], body["count"], body["page"]) == ([], 8, 9)


def test_other_filters_have_their_own_count(client, staff_headers, big_list_above):
    record_system(8)
    record_system(3, action="other.thing")
    assert listed(client, staff_headers, "action=thing.done&page_size=2")["count"] == 8

    assert listed(client, staff_headers, "action=other.thing&page_size=2")["count"] == 3
    assert listed(client, staff_headers, "page_size=2")["count"] == 11


def test_a_cached_count_never_shows_fewer_rows_than_the_page_holds(
    client, staff_headers, big_list_above
):
    record_system(8)
    assert listed(client, staff_headers, "action=thing.done&page_size=2")["count"] == 8

    record_system(4)  # 12 rows now; the cached count still says 8
    body = listed(client, staff_headers, "action=thing.done&page=5&page_size=2")

    assert len(body["items"]) == 2
    assert body["count"] >= 10  # at least the rows up to the end of this page


def test_a_plain_queryset_list_counts_exactly_then_serves_the_cached_count(
    client, bearer, big_list_above
):
    headers = bearer(AdminFactory(full_name="Ada Admin"))
    UserFactory.create_batch(8, full_name="Counted Person")

    def users(query: str) -> dict:
        response = client.get(f"/api/v1/users?q=counted&{query}", **headers)
        assert response.status_code == 200, response.content
        return response.json()

    assert users("page_size=2")["count"] == 8
    UserFactory.create_batch(2, full_name="Counted Later")
    assert users("page_size=2")["count"] == 8  # cached, up to COUNT_CACHE_SECONDS old

    cache.clear()  # the cache entry expiring
    assert users("page_size=2")["count"] == 10
    assert users("page_size=2&role=staff")["count"] == 0  # another filter, its own count
