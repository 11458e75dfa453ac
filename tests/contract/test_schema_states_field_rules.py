"""Field combinations a JSON Schema can say are said in the served schema, and the server agrees
with it both ways: a body the schema refuses is a 422 that changes nothing, a body it allows
passes (what the contract fuzz checks at random, proven here on the cases that matter)."""

import pytest
from jsonschema import Draft202012Validator

from analyses.models import Analysis
from prompts.models import LABEL_PATTERN, Prompt
from tests.support.analyses_factories import file_create, prompt_create
from tests.support.http import assert_error, delete, post_json, put_json


@pytest.fixture
def bodies(client) -> dict:
    """Request body schemas of the served document, by name."""
    served = client.get("/api/v1/openapi.json").json()
    return {
        name: body["content"]["application/json"]["schema"]
        for name, body in served["components"]["requestBodies"].items()
    }


def allows(schema: dict, body: dict) -> bool:
    return Draft202012Validator(schema).is_valid(body)


@pytest.mark.django_db
def test_an_analysis_names_a_label_or_a_version_never_both(client, user, bearer, bodies):
    prompt_create()
    both = {"prompt": "summary", "label": "production", "version": 1, "variables": {"text": "x"}}
    assert not allows(bodies["AnalysisIn"], both)
    error = assert_error(
        post_json(client, "/analyses", both, **bearer(user)), 422, "validation_error"
    )
    assert "give label or version, not both" in error["details"][0]["reason"]
    assert not Analysis.objects.exists()

    # null is "not given": the schema allows it, and so does the server.
    one = {**both, "label": None}
    assert allows(bodies["AnalysisIn"], one)
    response = post_json(client, "/analyses", one, **bearer(user))
    assert response.status_code == 202, response.content
    assert response.json()["prompt_version"] == 1
    assert Analysis.objects.get().owner == user


@pytest.mark.django_db
def test_an_analysis_names_each_file_once(client, user, bearer, bodies):
    prompt_create()
    file = file_create(owner=user, text="notes")
    twice = {"prompt": "summary", "variables": {"text": "x"}, "file_ids": [str(file.pk)] * 2}
    assert not allows(bodies["AnalysisIn"], twice)
    error = assert_error(
        post_json(client, "/analyses", twice, **bearer(user)), 422, "validation_error"
    )
    assert "file_ids must not repeat" in error["details"][0]["reason"]
    assert not Analysis.objects.exists()
    assert allows(bodies["AnalysisIn"], {**twice, "file_ids": [str(file.pk)]})


@pytest.mark.django_db
def test_a_render_names_a_label_or_a_version_never_both(client, user, bearer, bodies):
    prompt_create()
    both = {"label": "production", "version": 1, "variables": {"text": "x"}}
    assert not allows(bodies["RenderIn"], both)
    assert_error(
        post_json(client, "/prompts/summary/render", both, **bearer(user)), 422, "validation_error"
    )

    by_version = {"label": None, "version": 1, "variables": {"text": "x"}}
    assert allows(bodies["RenderIn"], by_version)
    response = post_json(client, "/prompts/summary/render", by_version, **bearer(user))
    assert response.status_code == 200, response.content
    assert response.json()["version"] == 1
    assert response.json()["messages"][-1] == {"role": "user", "content": "x"}


@pytest.mark.django_db
def test_an_import_document_has_the_one_format(client, admin, bearer, bodies):
    other = {"format": "parecer.prompts/2", "prompts": []}
    assert not allows(bodies["ImportIn"], other)
    assert_error(
        post_json(client, "/prompts/import", other, **bearer(admin)), 422, "import_invalid"
    )

    empty = {"format": "parecer.prompts/1", "prompts": []}
    assert allows(bodies["ImportIn"], empty)
    response = post_json(client, "/prompts/import", empty, **bearer(admin))
    assert response.status_code == 200, response.content
    assert response.json() == {"dry_run": False, "changes": []}
    assert not Prompt.objects.exists()


MISTYPED_ENTRIES = [
    ({"slug": "x", "versions": [{"number": "a"}, {"number": 1}]}, "prompts[0].versions[0].number"),
    ({"slug": "x", "versions": [{"number": True}]}, "prompts[0].versions[0].number"),
    ({"slug": "x", "versions": "v1"}, "prompts[0].versions"),
    ({"slug": "x", "versions": [2]}, "prompts[0].versions[0]"),
    ({"slug": 5, "versions": [{"number": 1}]}, "prompts[0].slug"),
    ({"versions": [{"number": 1}]}, "prompts[0]"),
    ({"slug": "x", "name": "n" * 201, "versions": [{"number": 1}]}, "prompts[0].name"),
    (
        {"slug": "x", "labels": {"production": True}, "versions": [{"number": 1}]},
        "prompts[0].labels.production",
    ),
    (
        {"slug": "x", "versions": [{"number": 1, "content_hash": 5}]},
        "prompts[0].versions[0].content_hash",
    ),
    ({"slug": "x", "versions": [{"number": 1, "colour": "red"}]}, "prompts[0].versions[0]"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("entry", "field"), MISTYPED_ENTRIES)
def test_a_mistyped_import_entry_is_refused_where_it_is_wrong_and_nothing_is_imported(
    client, admin, bearer, bodies, audit_events, entry, field
):
    """Each entry's shape is in the schema, and the import checks it before reading an entry
    (these bodies were 500s: a number compared with a string, a string read as a version)."""
    prompt_create()
    events = len(audit_events())
    document = {"format": "parecer.prompts/1", "prompts": [entry]}
    assert not allows(bodies["ImportIn"], document)

    error = assert_error(
        post_json(client, "/prompts/import", document, **bearer(admin)), 422, "import_invalid"
    )

    assert error["details"][0]["field"] == field
    assert list(Prompt.objects.values_list("slug", flat=True)) == ["summary"]
    assert len(audit_events()) == events


@pytest.mark.django_db
def test_an_import_refuses_a_version_number_given_twice(client, admin, bearer, bodies):
    twice = {"slug": "twice", "versions": [{"number": 1, "note": "a"}, {"number": 1, "note": "b"}]}
    document = {"format": "parecer.prompts/1", "prompts": [twice]}

    error = assert_error(
        post_json(client, "/prompts/import", document, **bearer(admin)), 422, "import_invalid"
    )

    assert error["details"][0] == {
        "field": "prompts[0].versions",
        "in": "body",
        "reason": "each version's number must be unique",
        "type": "unique",
    }
    assert not Prompt.objects.exists()


@pytest.mark.django_db
def test_an_exported_document_is_what_the_import_schema_allows(client, admin, bearer, bodies):
    prompt_create()
    exported = client.get("/api/v1/prompts/summary/export", **bearer(admin)).json()
    assert allows(bodies["ImportIn"], exported)
    exported["prompts"][0]["slug"] = "summary-copy"

    response = post_json(client, "/prompts/import", exported, **bearer(admin))

    assert response.status_code == 200, response.content
    assert response.json()["changes"][0] == {
        "slug": "summary-copy",
        "action": "prompt_created",
        "version": 1,
    }
    assert Prompt.objects.filter(slug="summary-copy").exists()


@pytest.mark.django_db
def test_a_label_to_move_or_remove_declares_its_pattern_and_the_server_keeps_its_codes(
    client, staff, bearer
):
    served = client.get("/api/v1/openapi.json").json()["paths"]
    for method in ("put", "delete"):
        (label,) = [
            p
            for p in served["/api/v1/prompts/{slug}/labels/{label}"][method]["parameters"]
            if p["name"] == "label"
        ]
        assert label["schema"]["pattern"] == LABEL_PATTERN
    version = prompt_create()
    path = "/prompts/summary/labels/Not%20Ok"
    assert_error(put_json(client, path, {"version": 1}, **bearer(staff)), 422, "label_invalid")
    assert_error(delete(client, path, **bearer(staff)), 422, "label_invalid")
    assert list(version.prompt.labels.values_list("name", flat=True)) == ["production"]
