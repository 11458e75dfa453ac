"""Prompts through the HTTP API: create, resolve, version, label, archive; body, rows and audit."""

import pytest

from prompts.models import ImmutableVersion, Prompt, PromptLabel, PromptLabelMove, PromptVersion
from tests.support.http import assert_error, delete, get, patch_json, post_json, put_json
from tests.support.prompts_factories import (
    FIVE_VARIABLES,
    THREE_MESSAGES,
    prompt_make,
    version_add,
    version_content,
)

pytestmark = pytest.mark.django_db


def test_staff_creates_a_prompt_with_its_first_version_and_a_label(
    client, staff, bearer, audit_events
):
    body = {
        "slug": "summary",
        "name": "Summary",
        "description": "Summarise a document.",
        "tags": ["general", "text"],
        "version": version_content(note="initial"),
        "labels": ["staging"],
    }

    response = post_json(client, "/prompts", body, **bearer(staff))

    assert response.status_code == 201, response.content
    data = response.json()
    assert data["slug"] == "summary" and data["labels"] == {"staging": 1}
    assert data["latest_version"] == 1
    assert data["version"]["number"] == 1 and data["version"]["author"] == staff.email
    assert data["version"]["messages"] == THREE_MESSAGES
    stored = PromptVersion.objects.get(prompt__slug="summary", number=1)
    assert data["version"]["content_hash"] == stored.content_hash and len(stored.content_hash) == 64
    [event] = audit_events(action="prompt.created")
    assert event.actor_user_id == str(staff.pk)
    assert event.details["content_sha256"] == stored.content_hash
    assert event.details["label_moves"] == [
        {"label": "staging", "from_version": None, "to_version": 1}
    ]
    assert PromptLabelMove.objects.filter(label="staging", to_version=1).count() == 1


def test_a_taken_slug_is_409_and_a_bad_one_422(client, staff, bearer):
    prompt_make(slug="taken")

    assert_error(
        post_json(
            client,
            "/prompts",
            {"slug": "taken", "name": "x", "version": version_content()},
            **bearer(staff),
        ),
        409,
        "slug_taken",
    )
    error = assert_error(
        post_json(
            client,
            "/prompts",
            {"slug": "Bad Slug", "name": "x", "version": version_content()},
            **bearer(staff),
        ),
        422,
        "validation_error",
    )
    assert any("slug" in str(d.get("field", "")) or "slug" in str(d) for d in error["details"])
    assert Prompt.objects.count() == 1


def test_resolve_defaults_to_production_else_latest_and_honours_label_or_version(
    client, user, bearer
):
    prompt = prompt_make(labels=("production",))
    version_add(prompt, labels=("staging",), note="second")
    headers = bearer(user)

    assert get(client, "/prompts/contract-review", **headers).json()["version"]["number"] == 1
    assert (
        get(client, "/prompts/contract-review?label=staging", **headers).json()["version"]["number"]
        == 2
    )
    assert (
        get(client, "/prompts/contract-review?label=latest", **headers).json()["version"]["number"]
        == 2
    )
    assert (
        get(client, "/prompts/contract-review?version=1", **headers).json()["version"]["note"]
        == "first"
    )
    assert_error(
        get(client, "/prompts/contract-review?label=staging&version=1", **headers),
        422,
        "label_and_version",
    )
    assert_error(
        get(client, "/prompts/contract-review?label=nope", **headers), 404, "label_not_found"
    )
    assert_error(
        get(client, "/prompts/contract-review?version=9", **headers), 404, "version_not_found"
    )
    assert_error(get(client, "/prompts/missing", **headers), 404, "prompt_not_found")

    no_production = prompt_make(slug="drafty", labels=())
    version_add(no_production)
    assert get(client, "/prompts/drafty", **headers).json()["version"]["number"] == 2


def test_a_label_move_is_seen_by_the_next_resolve(client, admin, user, bearer, audit_events):
    prompt = prompt_make()
    version_add(prompt, note="better")
    assert (
        get(client, "/prompts/contract-review", **bearer(user)).json()["version"]["number"] == 1
    )  # cached now

    moved = put_json(
        client,
        "/prompts/contract-review/labels/production",
        {"version": 2, "note": "ship it"},
        **bearer(admin),
    )

    assert moved.status_code == 200, moved.content
    assert moved.json()["label"] == "production" and moved.json()["version"] == 2
    assert get(client, "/prompts/contract-review", **bearer(user)).json()["version"]["number"] == 2
    [event] = audit_events(action="prompt.label_moved")
    assert event.details == {
        "slug": "contract-review",
        "label": "production",
        "from_version": 1,
        "to_version": 2,
        "note": "ship it",
    }
    history = get(
        client, "/prompts/contract-review/labels/production/history", **bearer(admin)
    ).json()
    assert [
        (m["from_version"], m["to_version"], m["note"], m["actor"]) for m in history["items"]
    ] == [
        (1, 2, "ship it", admin.email),
        (None, 1, "first", "system"),
    ]


def test_staff_may_not_move_production_nor_may_an_admins_api_key(
    client, staff, admin, bearer, api_key_headers, audit_events
):
    prompt = prompt_make()
    version_add(prompt)

    assert_error(
        put_json(
            client, "/prompts/contract-review/labels/production", {"version": 2}, **bearer(staff)
        ),
        403,
        "permission_denied",
    )
    assert_error(
        put_json(
            client,
            "/prompts/contract-review/labels/production",
            {"version": 2},
            **api_key_headers(admin, "read+write"),
        ),
        403,
        "api_key_not_allowed",
    )
    assert_error(
        delete(
            client,
            "/prompts/contract-review/labels/production",
            **api_key_headers(admin, "read+write"),
        ),
        403,
        "api_key_not_allowed",
    )
    assert_error(
        post_json(
            client,
            "/prompts/contract-review/versions",
            {**version_content(), "labels": ["production"]},
            **api_key_headers(admin, "read+write"),
        ),
        403,
        "api_key_not_allowed",
    )

    assert PromptLabel.objects.get(name="production").version.number == 1
    assert PromptVersion.objects.count() == 2  # the refused version was not saved either
    assert audit_events(action="prompt.label_moved") == []
    # staff move other labels, and an admin's key may too
    assert (
        put_json(
            client, "/prompts/contract-review/labels/staging", {"version": 2}, **bearer(staff)
        ).status_code
        == 200
    )
    assert (
        put_json(
            client,
            "/prompts/contract-review/labels/qa.v2",
            {"version": 1},
            **api_key_headers(admin, "read+write"),
        ).status_code
        == 200
    )


def test_latest_is_reserved_and_label_names_are_checked(client, staff, bearer):
    prompt_make()

    assert_error(
        put_json(client, "/prompts/contract-review/labels/latest", {"version": 1}, **bearer(staff)),
        422,
        "label_reserved",
    )
    assert_error(
        put_json(
            client, "/prompts/contract-review/labels/Not%20Ok", {"version": 1}, **bearer(staff)
        ),
        422,
        "label_invalid",
    )
    assert_error(
        put_json(
            client, "/prompts/contract-review/labels/staging", {"version": 7}, **bearer(staff)
        ),
        404,
        "version_not_found",
    )


def test_removing_a_label_is_recorded(client, staff, bearer, audit_events):
    prompt_make(labels=("production", "staging"))

    response = delete(client, "/prompts/contract-review/labels/staging", **bearer(staff))

    assert response.status_code == 204
    assert not PromptLabel.objects.filter(name="staging").exists()
    [event] = audit_events(action="prompt.label_removed")
    assert (event.details["from_version"], event.details["to_version"]) == (1, None)
    assert_error(
        delete(client, "/prompts/contract-review/labels/staging", **bearer(staff)),
        404,
        "label_not_found",
    )


def test_new_versions_number_upwards_and_move_labels(client, staff, bearer, audit_events):
    prompt_make()

    response = post_json(
        client,
        "/prompts/contract-review/versions",
        {**version_content(note="v2"), "labels": ["staging"]},
        **bearer(staff),
    )

    assert response.status_code == 201, response.content
    assert response.json()["number"] == 2 and response.json()["note"] == "v2"
    assert PromptLabel.objects.get(name="staging").version.number == 2
    [event] = audit_events(action="prompt.version_created")
    assert event.details["version"] == 2
    assert event.details["label_moves"] == [
        {"label": "staging", "from_version": None, "to_version": 2}
    ]
    listed = get(client, "/prompts/contract-review/versions", **bearer(staff)).json()
    assert [v["number"] for v in listed["items"]] == [2, 1] and listed["count"] == 2


def test_a_syntax_error_is_refused_naming_the_message_and_line(client, staff, bearer):
    prompt_make()
    messages = [
        {"role": "system", "content": "fine"},
        {"role": "user", "content": "ok\n{% for x in %}"},
    ]

    error = assert_error(
        post_json(
            client,
            "/prompts/contract-review/versions",
            version_content(messages=messages),
            **bearer(staff),
        ),
        422,
        "template_syntax_error",
    )

    [detail] = error["details"]
    assert detail["field"] == "messages[1].content" and detail["line"] == 2
    assert "line 2" in detail["reason"] and "Expected an expression" in detail["reason"]
    assert PromptVersion.objects.count() == 1


def test_a_template_using_an_undeclared_variable_is_refused(client, staff, bearer):
    prompt_make()
    messages = [{"role": "user", "content": "Hello {{ nmae }}"}]

    error = assert_error(
        post_json(
            client,
            "/prompts/contract-review/versions",
            version_content(
                messages=messages,
                variables_schema={"type": "object", "properties": {"name": {"type": "string"}}},
            ),
            **bearer(staff),
        ),
        422,
        "template_variable_undeclared",
    )
    assert "nmae" in error["details"][0]["reason"]


def test_a_model_outside_allowed_models_is_refused(client, staff, bearer):
    prompt_make()
    error = assert_error(
        post_json(
            client,
            "/prompts/contract-review/versions",
            version_content(model="gpt-2"),
            **bearer(staff),
        ),
        422,
        "model_not_allowed",
    )
    assert error["details"][0]["field"] == "model"


def test_patch_changes_metadata_only_and_is_audited(client, staff, bearer, audit_events):
    prompt = prompt_make()
    before = PromptVersion.objects.get(prompt=prompt).content_hash

    response = patch_json(
        client,
        "/prompts/contract-review",
        {"name": "Leases", "tags": ["legal", "lease"]},
        **bearer(staff),
    )

    assert response.status_code == 200, response.content
    assert response.json()["name"] == "Leases" and response.json()["tags"] == ["lease", "legal"]
    assert PromptVersion.objects.get(prompt=prompt).content_hash == before
    [event] = audit_events(action="prompt.updated")
    assert event.details["changes"]["name"] == {"before": "Contract Review", "after": "Leases"}
    assert_error(
        patch_json(client, "/prompts/contract-review", {"messages": []}, **bearer(staff)),
        422,
        "validation_error",
    )


def test_no_api_path_changes_a_saved_version(client, admin, bearer):
    prompt_make()
    version = PromptVersion.objects.get()
    snapshot = (version.content_hash, version.messages, version.note)

    for method in ("put", "patch", "delete"):
        response = getattr(client, method)(
            "/api/v1/prompts/contract-review/versions/1",
            {"note": "x"},
            content_type="application/json",
            **bearer(admin),
        )
        assert response.status_code == 405, (method, response.content)
    post_json(
        client, "/prompts/contract-review/versions", version_content(note="other"), **bearer(admin)
    )

    version.refresh_from_db()
    assert (version.content_hash, version.messages, version.note) == snapshot
    version.note = "changed"
    with pytest.raises(ImmutableVersion):
        version.save()
    with pytest.raises(ImmutableVersion):
        version.delete()
    assert PromptVersion.objects.get(number=1).note == "first"


def test_archive_hides_from_users_and_restore_brings_back(
    client, staff, user, bearer, audit_events
):
    prompt_make()

    archived = delete(client, "/prompts/contract-review", **bearer(staff))

    assert archived.status_code == 200 and archived.json()["archived_at"] is not None
    assert get(client, "/prompts", **bearer(user)).json()["count"] == 0
    assert_error(get(client, "/prompts/contract-review", **bearer(user)), 409, "prompt_archived")
    assert_error(
        post_json(
            client, "/prompts/contract-review/render", {"variables": FIVE_VARIABLES}, **bearer(user)
        ),
        409,
        "prompt_archived",
    )
    assert_error(
        post_json(client, "/prompts/contract-review/versions", version_content(), **bearer(staff)),
        409,
        "prompt_archived",
    )
    assert get(client, "/prompts?include_archived=true", **bearer(user)).json()["count"] == 0
    assert get(client, "/prompts?include_archived=true", **bearer(staff)).json()["count"] == 1
    assert get(client, "/prompts/contract-review", **bearer(staff)).status_code == 200

    restored = post_json(client, "/prompts/contract-review/restore", {}, **bearer(staff))

    assert restored.status_code == 200 and restored.json()["archived_at"] is None
    assert get(client, "/prompts/contract-review", **bearer(user)).status_code == 200
    assert [e.action for e in audit_events(entity_type="prompt")][-2:] == [
        "prompt.archived",
        "prompt.restored",
    ]


def test_list_filters_by_text_tag_and_label(client, user, bearer):
    prompt_make(slug="contract-review", labels=("production",))
    prompt_make(slug="invoice-check", labels=("staging",), note="x")
    Prompt.objects.filter(slug="invoice-check").update(tags=["finance"])
    headers = bearer(user)

    def slugs(query):
        return [p["slug"] for p in get(client, f"/prompts{query}", **headers).json()["items"]]

    assert slugs("") == ["contract-review", "invoice-check"]
    assert slugs("?q=invoice") == ["invoice-check"]
    assert slugs("?tag=finance") == ["invoice-check"]
    assert slugs("?label=production") == ["contract-review"]
    page = get(client, "/prompts", **headers).json()
    assert set(page) == {"items", "count", "page", "page_size"}
    assert page["items"][0]["labels"] == {"production": 1}


def test_diff_shows_each_message_and_changed_parameters(client, user, bearer):
    prompt = prompt_make()
    changed = [dict(m) for m in THREE_MESSAGES]
    changed[1]["content"] = "Be brief."
    version_add(prompt, messages=changed, parameters={"temperature": 0.7, "max_output_tokens": 800})

    diff = get(client, "/prompts/contract-review/versions/1/diff/2", **bearer(user)).json()

    assert [m["changed"] for m in diff["messages"]] == [False, True, False]
    assert (
        "-Be concise." in diff["messages"][1]["diff"]
        and "+Be brief." in diff["messages"][1]["diff"]
    )
    assert diff["changes"] == {"parameters.temperature": {"from": 0.2, "to": 0.7}}


def test_render_returns_messages_hash_and_token_estimate_without_an_audit_event(
    client, user, bearer, audit_events
):
    prompt_make()
    before = len(audit_events())

    response = post_json(
        client, "/prompts/contract-review/render", {"variables": FIVE_VARIABLES}, **bearer(user)
    )

    assert response.status_code == 200, response.content
    data = response.json()
    assert data["version"] == 1 and data["model"] == "gpt-4o-mini"
    assert data["messages"][0] == {
        "role": "system",
        "content": "You are a careful contract reviewer. Answer in English.",
    }
    assert (
        data["messages"][2]["content"]
        == "Review this lease:\n- Rent is due monthly.\n- Deposit: two months.\n"
    )
    expected_tokens = sum(-(-len(m["content"]) // 4) + 4 for m in data["messages"])
    assert data["estimated_input_tokens"] == expected_tokens
    import hashlib
    import json

    canonical = json.dumps(
        data["messages"], sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    assert data["sha256"] == hashlib.sha256(canonical.encode()).hexdigest()
    assert len(audit_events()) == before


def test_render_a_text_version_by_number(client, user, bearer):
    prompt = prompt_make()
    version_add(
        prompt,
        kind="text",
        messages=[],
        template="Say hi to {{ domain }}.",
        variables_schema={
            "type": "object",
            "properties": {"domain": {"type": "string"}},
            "required": ["domain"],
        },
    )

    response = post_json(
        client,
        "/prompts/contract-review/render",
        {"version": 2, "variables": {"domain": "Ann"}},
        **bearer(user),
    )

    assert response.json()["messages"] == [{"role": "user", "content": "Say hi to Ann."}]
    assert_error(
        post_json(
            client,
            "/prompts/contract-review/render",
            {"version": 2, "label": "production", "variables": {}},
            **bearer(user),
        ),
        422,
        "validation_error",
    )


def test_every_variable_failure_is_named(client, user, bearer):
    prompt_make()
    variables = {
        "domain": "",
        "language": "Klingon",
        "strict": "yes",
        "lines": ["ok", 5],
        "surprise": 1,
    }

    error = assert_error(
        post_json(
            client, "/prompts/contract-review/render", {"variables": variables}, **bearer(user)
        ),
        422,
        "variables_invalid",
    )

    fields = {d["field"]: d["type"] for d in error["details"]}
    assert fields == {
        "variables.doc_type": "missing",
        "variables.surprise": "unexpected",
        "variables.domain": "minLength",
        "variables.language": "enum",
        "variables.strict": "type",
        "variables.lines.1": "type",
    }
    assert all(d["in"] == "body" and d["reason"] for d in error["details"])
    for name in ("doc_type", "surprise", "domain", "language", "strict", "lines"):
        assert name in error["message"]


def test_a_schema_reference_outside_the_schema_is_refused_at_save(client, staff, bearer):
    prompt_make()
    schema = {"type": "object", "properties": {"domain": {"$ref": "https://example.com/s.json"}}}

    error = assert_error(
        post_json(
            client,
            "/prompts/contract-review/versions",
            version_content(
                messages=[{"role": "user", "content": "{{ domain }}"}], variables_schema=schema
            ),
            **bearer(staff),
        ),
        422,
        "validation_error",
    )
    assert "only local references" in error["details"][0]["reason"]
    assert error["details"][0]["field"] == "variables_schema"


def test_a_dangling_local_reference_is_a_422_at_render_not_a_500(client, staff, user, bearer):
    prompt = prompt_make()
    schema = {"type": "object", "properties": {"domain": {"$ref": "#/$defs/missing"}}}
    version_add(
        prompt, messages=[{"role": "user", "content": "{{ domain }}"}], variables_schema=schema
    )

    response = post_json(
        client,
        "/prompts/contract-review/render",
        {"version": 2, "variables": {"domain": "x"}},
        **bearer(user),
    )

    assert_error(response, 422, "variables_schema_invalid")


def test_a_cached_resolve_costs_no_query(client, user, admin, bearer, django_assert_num_queries):
    prompt_make(actor=admin)
    headers = bearer(user)
    first = get(client, "/prompts/contract-review", **headers).json()

    with django_assert_num_queries(0):  # the user behind the token comes with the document
        again = get(client, "/prompts/contract-review", **headers)

    assert again.json() == first
    assert again.json()["version"]["author"] == admin.email
    assert again.json()["labels"] == {"production": 1} and again.json()["latest_version"] == 1
