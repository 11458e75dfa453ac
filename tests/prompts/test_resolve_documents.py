"""``GET /prompts/{slug}`` by label from its rendered response in the cache: the same bytes as a
fresh read, and every change of what it shows (label moves, new versions, metadata, archive and
restore) is seen by the next read, by anyone."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core import document_cache
from prompts import resolve_cache
from tests.support.http import assert_error, delete, get, patch_json, post_json, put_json
from tests.support.prompts_factories import prompt_make, version_add

pytestmark = pytest.mark.django_db(transaction=True)


def _prompt_queries(queries) -> list[str]:
    return [q["sql"] for q in queries.captured_queries if "prompts_" in q["sql"]]


@pytest.mark.parametrize("query", ["", "?label=production", "?label=latest", "?label=staging"])
def test_a_second_resolve_is_the_same_bytes_without_a_prompt_query(client, user, bearer, query):
    prompt_make(labels=("production", "staging"))
    headers = bearer(user)
    first = get(client, f"/prompts/contract-review{query}", **headers)

    with CaptureQueriesContext(connection) as queries:
        second = get(client, f"/prompts/contract-review{query}", **headers)

    assert _prompt_queries(queries) == []
    assert second.status_code == first.status_code == 200
    assert second.content == first.content
    assert second["Content-Type"] == "application/json; charset=utf-8"
    assert second.json()["version"]["number"] == 1


def test_every_change_is_seen_by_the_next_resolve(client, user, staff, admin, bearer):
    prompt = prompt_make()
    reader = bearer(user)

    def resolved(query: str = "") -> dict:
        response = get(client, f"/prompts/contract-review{query}", **reader)
        assert response.status_code == 200, response.content
        return response.json()

    assert resolved()["version"]["number"] == 1 and resolved("?label=latest")["latest_version"] == 1

    version_add(prompt, note="second")  # a new version: latest moves, production stays
    assert resolved("?label=latest")["version"]["number"] == 2
    assert resolved()["version"]["number"] == 1 and resolved()["latest_version"] == 2

    put_json(
        client,
        "/prompts/contract-review/labels/production",
        {"version": 2, "note": "ship"},
        **bearer(admin),
    )
    assert resolved()["version"]["number"] == 2 and resolved()["labels"] == {"production": 2}

    patch_json(client, "/prompts/contract-review", {"name": "Renamed"}, **bearer(staff))
    assert resolved()["name"] == "Renamed"

    assert delete(client, "/prompts/contract-review", **bearer(staff)).status_code in (200, 204)
    assert_error(get(client, "/prompts/contract-review", **reader), 409, "prompt_archived")
    archived = get(client, "/prompts/contract-review", **bearer(staff))
    assert archived.status_code == 200 and archived.json()["archived_at"] is not None
    assert_error(get(client, "/prompts/contract-review", **reader), 409, "prompt_archived")

    post_json(client, "/prompts/contract-review/restore", **bearer(staff))
    assert resolved()["archived_at"] is None and resolved()["version"]["number"] == 2

    delete(client, "/prompts/contract-review/labels/production", **bearer(admin))
    body = resolved()  # no production label: latest
    assert "production" not in body["labels"] and body["version"]["number"] == 2
    assert_error(
        get(client, "/prompts/contract-review?label=production", **reader), 404, "label_not_found"
    )


def test_a_resolve_that_raced_a_label_move_cannot_put_the_old_document_back(
    client, user, admin, bearer
):
    prompt = prompt_make()
    version_add(prompt)
    started = document_cache.read_started()  # a resolve reads the old rows ...
    put_json(  # ... the label moves and commits ...
        client, "/prompts/contract-review/labels/production", {"version": 2}, **bearer(admin)
    )
    resolve_cache.resolve_document_fill(  # ... then the resolve fills
        slug="contract-review", label=None, body=b'{"old": true}', started=started
    )

    assert resolve_cache.resolve_document_cached(slug="contract-review", label=None) is None
    assert get(client, "/prompts/contract-review", **bearer(user)).json()["version"]["number"] == 2


def test_the_authors_new_email_or_deletion_is_seen_by_the_next_resolve(client, user, admin, bearer):
    prompt_make(actor=admin)
    reader = bearer(user)

    def author() -> str | None:
        return get(client, "/prompts/contract-review", **reader).json()["version"]["author"]

    assert author() == admin.email  # cached now
    admin.email = "renamed-author@example.com"
    admin.save()  # as the admin saves a user
    assert author() == "renamed-author@example.com"

    admin.save(update_fields=["last_login"])  # a sign-in: nothing a resolution shows
    assert author() == "renamed-author@example.com"

    admin.delete()
    assert author() is None
