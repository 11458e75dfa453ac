"""Prompts as code: export -> import into an empty database reproduces the hashes; a second
import changes nothing; --dry-run reports without writing; the API serves the same documents."""

import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from audits.models import AuditEvent
from prompts.models import Prompt, PromptLabel, PromptVersion
from tests.support.http import assert_error, get, post_json
from tests.support.prompts_factories import THREE_MESSAGES, prompt_make, version_add


def _export(tmp_path, *args) -> tuple[str, dict]:
    out = tmp_path / "prompts.json"
    with out.open("w") as handle:
        call_command("prompts_export", *args, stdout=handle)
    return str(out), json.loads(out.read_text())


def _import(path: str, *args) -> str:
    from io import StringIO

    buffer = StringIO()
    call_command("prompts_import", path, *args, stdout=buffer)
    return buffer.getvalue()


def _state() -> list[tuple]:
    return sorted(
        (v.prompt.slug, v.number, v.content_hash)
        for v in PromptVersion.objects.select_related("prompt")
    ) + sorted(
        (label.prompt.slug, label.name, label.version.number)
        for label in PromptLabel.objects.select_related("prompt", "version")
    )


@pytest.mark.django_db(transaction=True)
def test_export_then_import_into_an_empty_database_reproduces_the_hashes(tmp_path):
    first = prompt_make(labels=("production",))
    changed = [dict(m) for m in THREE_MESSAGES]
    changed[0]["content"] = "Você revisa {{ domain }} em {{ language }}."  # non-ASCII survives
    version_add(first, messages=changed, labels=("staging",))
    prompt_make(
        slug="plain-text",
        labels=("production",),
        kind="text",
        messages=[],
        template="Hi {{ domain }}",
        variables_schema={"type": "object", "properties": {"domain": {"type": "string"}}},
    )
    path, document = _export(tmp_path)
    before = _state()
    assert [p["slug"] for p in document["prompts"]] == ["contract-review", "plain-text"]
    assert (
        Path(path).read_text()
        == json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    )

    call_command("flush", interactive=False, verbosity=0)
    assert Prompt.objects.count() == 0 and PromptVersion.objects.count() == 0

    report = _import(path)

    assert "contract-review: prompt created" in report and "plain-text: prompt created" in report
    assert _state() == before
    assert _export(tmp_path)[1] == document

    events = AuditEvent.objects.count()
    second = _import(path)

    assert "Nothing to change." in second
    assert _state() == before
    assert AuditEvent.objects.count() == events


@pytest.mark.django_db
def test_import_adds_new_versions_moves_labels_and_dry_run_writes_nothing(tmp_path, audit_events):
    prompt = prompt_make(labels=("production",))
    _, document = _export(tmp_path, "--slug", "contract-review")
    entry = document["prompts"][0]
    new_version = {
        **entry["versions"][0],
        "number": 2,
        "note": "from staging",
        "content_hash": None,
    }
    new_version["parameters"] = {"temperature": 0.9}
    entry["versions"].append(new_version)
    entry["labels"] = {"production": 2}
    (tmp_path / "next.json").write_text(json.dumps(document))
    events = len(audit_events())

    dry = _import(str(tmp_path / "next.json"), "--dry-run")

    assert "contract-review: would version created (version=2" in dry
    assert "would label moved (label=production, from_version=1, to_version=2)" in dry
    assert "dry run: nothing written" in dry
    assert PromptVersion.objects.filter(prompt=prompt).count() == 1
    assert len(audit_events()) == events

    real = _import(str(tmp_path / "next.json"))

    assert "version created" in real
    assert PromptVersion.objects.get(prompt=prompt, number=2).parameters == {"temperature": 0.9}
    assert PromptLabel.objects.get(prompt=prompt, name="production").version.number == 2
    assert PromptVersion.objects.get(prompt=prompt, number=1).note == "first"  # never overwritten
    assert [e.source for e in audit_events()[events:]] == ["command", "command"]
    assert "Nothing to change." in _import(str(tmp_path / "next.json"))


@pytest.mark.django_db
def test_a_tampered_or_invalid_document_is_refused_whole(tmp_path):
    prompt_make()
    _, document = _export(tmp_path)
    document["prompts"][0]["versions"][0]["messages"][0]["content"] = (
        "changed behind the hash's back"
    )
    (tmp_path / "bad.json").write_text(json.dumps(document))
    (tmp_path / "broken.json").write_text("{not json")

    with pytest.raises(CommandError, match="content_hash does not match"):
        _import(str(tmp_path / "bad.json"))
    with pytest.raises(CommandError, match="Cannot read"):
        _import(str(tmp_path / "broken.json"))
    assert PromptVersion.objects.count() == 1


@pytest.mark.django_db
def test_the_api_exports_and_imports_the_same_documents(
    client, admin, staff, bearer, tmp_path, audit_events
):
    prompt_make()
    _, from_command = _export(tmp_path, "--slug", "contract-review")

    exported = get(client, "/prompts/contract-review/export", **bearer(staff))

    assert exported.status_code == 200 and exported.json() == from_command
    document = exported.json()
    document["prompts"][0]["slug"] = "copied"
    dry = post_json(client, "/prompts/import?dry_run=true", document, **bearer(admin))
    assert dry.status_code == 200 and dry.json()["dry_run"] is True
    assert dry.json()["changes"][0] == {"slug": "copied", "action": "prompt_created", "version": 1}
    assert not Prompt.objects.filter(slug="copied").exists()

    applied = post_json(client, "/prompts/import", document, **bearer(admin))

    assert applied.json()["dry_run"] is False
    copied = PromptVersion.objects.get(prompt__slug="copied")
    assert (
        copied.content_hash
        == PromptVersion.objects.get(prompt__slug="contract-review").content_hash
    )
    assert PromptLabel.objects.get(prompt__slug="copied").name == "production"
    assert audit_events(action="prompt.created")[-1].actor_user_id == str(admin.pk)
    assert_error(
        post_json(client, "/prompts/import", {"format": "other", "prompts": []}, **bearer(admin)),
        422,
        "import_invalid",
    )
