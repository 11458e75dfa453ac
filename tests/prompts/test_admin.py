"""The prompts back office: every change through the services (same validation, same audit)."""

import pytest

from prompts.models import Configuration, Prompt, PromptLabel, PromptVersion
from tests.support.factories import StaffFactory
from tests.support.prompts_factories import FIVE_VARIABLES, prompt_make, version_add

pytestmark = pytest.mark.django_db

ADMIN = "/admin/prompts/prompt/"


def _version_post(**overrides) -> dict:
    import json

    data = {
        "kind": "chat",
        "messages": json.dumps([{"role": "user", "content": "Hi {{ name }}"}]),
        "template": "",
        "variables_schema": json.dumps(
            {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}
        ),
        "model": "gpt-4o-mini",
        "parameters": json.dumps({"temperature": 0.1}),
        "output_schema": "",
        "api_style": "",
        "note": "from the admin",
        "labels": "",
    }
    data.update(overrides)
    return data


def test_the_list_shows_label_badges_tags_and_searches(admin_client):
    prompt_make(labels=("production", "staging"))
    prompt_make(slug="other-thing", labels=())

    response = admin_client.get(ADMIN, {"q": "contract"})

    page = response.content.decode()
    assert response.status_code == 200
    assert "production → v1" in page and "staging → v1" in page and "legal" in page
    assert "other-thing" not in page


def test_adding_a_prompt_creates_its_first_version_through_the_service(
    admin_client, admin, audit_events
):
    response = admin_client.post(
        ADMIN + "add/",
        {
            "slug": "greeter",
            "name": "Greeter",
            "description": "",
            "tags_text": "demo, hello",
            **_version_post(labels="production"),
        },
    )

    assert response.status_code == 302, response.content.decode()[:3000]
    prompt = Prompt.objects.get(slug="greeter")
    assert prompt.tags == ["demo", "hello"]
    version = PromptVersion.objects.get(prompt=prompt)
    assert version.number == 1 and version.author == admin and version.note == "from the admin"
    assert PromptLabel.objects.get(prompt=prompt).name == "production"
    [event] = audit_events(action="prompt.created")
    assert event.source == "admin" and event.actor_user_id == str(admin.pk)


def test_a_syntax_error_is_shown_on_the_form_and_nothing_is_saved(admin_client):
    response = admin_client.post(
        ADMIN + "add/",
        {
            "slug": "broken",
            "name": "Broken",
            "description": "",
            "tags_text": "",
            **_version_post(messages='[{"role": "user", "content": "{% if %}"}]'),
        },
    )

    assert response.status_code == 200
    assert "messages[0].content: line 1:" in response.content.decode()
    assert not Prompt.objects.filter(slug="broken").exists()


def test_the_change_page_shows_versions_read_only_and_edits_metadata_only(
    admin_client, audit_events
):
    prompt = prompt_make()
    page = admin_client.get(f"{ADMIN}{prompt.pk}/change/").content.decode()
    assert "Save as new version" in page and "versions-0-note" not in page  # no editable inline

    response = admin_client.post(
        f"{ADMIN}{prompt.pk}/change/",
        {"name": "Renamed", "description": "d", "tags_text": "legal, new",
         "versions-TOTAL_FORMS": "0", "versions-INITIAL_FORMS": "0",
         "label_moves-TOTAL_FORMS": "0", "label_moves-INITIAL_FORMS": "0"},
    )  # fmt: skip

    assert response.status_code == 302, response.content.decode()[:3000]
    prompt.refresh_from_db()
    assert (prompt.name, prompt.tags) == ("Renamed", ["legal", "new"])
    assert PromptVersion.objects.get(prompt=prompt).note == "first"
    [event] = audit_events(action="prompt.updated")
    assert event.source == "admin"


def test_save_as_new_version_starts_from_the_last_and_never_changes_it(admin_client, audit_events):
    prompt = prompt_make()
    form_page = admin_client.get(f"{ADMIN}{prompt.pk}/new-version/").content.decode()
    assert "You are a careful {{ domain }} reviewer" in form_page  # prefilled from v1

    response = admin_client.post(
        f"{ADMIN}{prompt.pk}/new-version/", _version_post(labels="staging")
    )

    assert response.status_code == 302, response.content.decode()[:3000]
    assert list(prompt.versions.order_by("number").values_list("number", "note")) == [
        (1, "first"),
        (2, "from the admin"),
    ]
    assert PromptLabel.objects.get(prompt=prompt, name="staging").version.number == 2
    [event] = audit_events(action="prompt.version_created")
    assert event.source == "admin" and event.details["label_moves"][0]["to_version"] == 2


def test_a_label_move_asks_for_confirmation_first(admin_client, audit_events):
    prompt = prompt_make()
    version_add(prompt)
    url = f"{ADMIN}{prompt.pk}/label/"

    asked = admin_client.post(url, {"label": "production", "version": "2", "note": "go"})

    assert asked.status_code == 200 and "Confirm: move" in asked.content.decode()
    assert PromptLabel.objects.get(name="production").version.number == 1

    done = admin_client.post(
        url, {"label": "production", "version": "2", "note": "go", "confirmed": "True"}
    )

    assert done.status_code == 302
    assert PromptLabel.objects.get(name="production").version.number == 2
    [event] = audit_events(action="prompt.label_moved")
    assert (event.details["from_version"], event.details["to_version"], event.source) == (
        1,
        2,
        "admin",
    )


def test_staff_can_curate_but_not_move_production_in_the_admin(client, audit_events):
    staff = StaffFactory()
    client.force_login(staff)
    prompt = prompt_make()
    version_add(prompt)

    assert client.get(ADMIN).status_code == 200
    refused = client.post(
        f"{ADMIN}{prompt.pk}/label/", {"label": "production", "version": "2", "confirmed": "True"}
    )
    assert "Only admins may move the production label." in refused.content.decode()
    assert PromptLabel.objects.get(name="production").version.number == 1
    moved = client.post(
        f"{ADMIN}{prompt.pk}/label/", {"label": "staging", "version": "2", "confirmed": "True"}
    )
    assert moved.status_code == 302
    assert audit_events(action="prompt.label_moved")[0].details["label"] == "staging"
    assert client.get("/admin/prompts/configuration/add/").status_code == 403


def test_preview_renders_or_shows_the_exact_error(admin_client):
    import json

    prompt = prompt_make()
    url = f"{ADMIN}{prompt.pk}/preview/"

    ok = admin_client.post(
        url, {"version": "1", "variables": json.dumps(FIVE_VARIABLES)}
    ).content.decode()
    assert "You are a careful contract reviewer. Answer in English." in ok and "sha256" in ok

    bad = admin_client.post(
        url, {"version": "1", "variables": json.dumps({"domain": "x"})}
    ).content.decode()
    assert (
        "variables_invalid" in bad and "variables.language" in bad and "variables.doc_type" in bad
    )


def test_the_diff_view_shows_the_change(admin_client):
    prompt = prompt_make()
    version_add(prompt, parameters={"temperature": 0.9})

    page = admin_client.get(f"{ADMIN}{prompt.pk}/diff/", {"a": "1", "b": "2"}).content.decode()

    assert "parameters.temperature" in page and "0.9" in page


def test_no_admin_path_changes_or_deletes_a_version(admin_client):
    prompt = prompt_make()
    version = PromptVersion.objects.get(prompt=prompt)

    assert admin_client.get(f"/admin/prompts/promptversion/{version.pk}/change/").status_code == 404
    assert admin_client.post(f"{ADMIN}{prompt.pk}/delete/").status_code == 403
    admin_client.post(
        f"{ADMIN}{prompt.pk}/change/",
        {"name": "x", "description": "", "tags_text": "",
         "versions-TOTAL_FORMS": "1", "versions-INITIAL_FORMS": "1", "versions-0-id": str(version.pk),
         "versions-0-prompt": str(prompt.pk), "versions-0-note": "tampered",
         "label_moves-TOTAL_FORMS": "0", "label_moves-INITIAL_FORMS": "0"},
    )  # fmt: skip

    version.refresh_from_db()
    assert version.note == "first" and PromptVersion.objects.count() == 1


def test_configurations_admin_validates_like_the_api_and_audits(admin_client, admin, audit_events):
    refused = admin_client.post(
        "/admin/prompts/configuration/add/", {"key": "analysis_attempt_budget", "value": '"three"'}
    )
    assert refused.status_code == 200 and "is not of type" in refused.content.decode()
    assert not Configuration.objects.exists()

    saved = admin_client.post(
        "/admin/prompts/configuration/add/", {"key": "analysis_attempt_budget", "value": "4"}
    )

    assert saved.status_code == 302, saved.content.decode()[:3000]
    assert Configuration.objects.get(key="analysis_attempt_budget").value == 4
    [event] = audit_events(action="configuration.updated")
    assert event.source == "admin" and event.details == {
        "key": "analysis_attempt_budget",
        "old": 3,
        "new": 4,
    }

    admin_client.post(
        "/admin/prompts/configuration/analysis_attempt_budget/delete/", {"post": "yes"}
    )
    assert not Configuration.objects.exists()
    assert audit_events(action="configuration.reset")[0].details["new"] == 3


def test_staff_adding_a_prompt_with_production_is_told_on_the_form(client):
    staff = StaffFactory()
    client.force_login(staff)

    response = client.post(
        ADMIN + "add/",
        {
            "slug": "greeter",
            "name": "Greeter",
            "description": "",
            "tags_text": "",
            **_version_post(labels="production"),
        },
    )

    assert response.status_code == 200
    assert "Only admins may move the production label." in response.content.decode()
    assert not Prompt.objects.filter(slug="greeter").exists()
