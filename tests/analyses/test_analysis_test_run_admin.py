"""The prompt admin's "test run": a real analysis, submitted through the API's admission service."""

import pytest
from django.conf import settings

from analyses.models import Analysis
from tests.support.analyses_factories import prompt_create

ADMIN = "/" + settings.ADMIN_URL.lstrip("/")
TEST_RUN = f"{ADMIN}analyses/analysis/test-run/"


def _form(**overrides) -> dict:
    return {"prompt": "summary", "variables": '{"text": "A test run of Parecer."}', **overrides}


def test_the_prompt_page_links_to_a_test_run_with_sample_variables(admin_client, version):
    page = admin_client.get(f"{ADMIN}prompts/prompt/{version.prompt_id}/change/")
    assert page.status_code == 200
    assert f'href="{TEST_RUN}?prompt=summary"' in page.content.decode()

    form_page = admin_client.get(f"{TEST_RUN}?prompt=summary")
    assert form_page.status_code == 200
    form = form_page.context["form"]
    assert form.initial == {"prompt": "summary", "variables": {"text": "sample"}}
    assert 'value="summary"' in form_page.content.decode()


def test_a_test_run_queues_an_analysis_of_the_staff_member_and_it_succeeds(
    admin_client, admin, version, fake_openai, run_tasks, audit_events
):
    response = admin_client.post(TEST_RUN, _form())

    analysis = Analysis.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"{ADMIN}analyses/analysis/{analysis.pk}/change/"
    assert (analysis.owner, analysis.status) == (admin, "queued")
    assert (analysis.prompt_version, analysis.label) == (version, "")
    assert analysis.variables == {"text": "A test run of Parecer."}
    [created] = audit_events(action="analysis.created")
    assert (created.entity_id, created.actor_user_id) == (str(analysis.pk), str(admin.pk))
    assert created.source == "admin"
    assert created.details["prompt"] == "summary" and created.details["version"] == 1

    detail = admin_client.get(response["Location"])
    assert f"Test run queued as analysis {analysis.pk}." in detail.content.decode()

    run_tasks()
    analysis.refresh_from_db()
    assert analysis.status == "succeeded" and analysis.result_text
    assert len(fake_openai.requests) == 1
    assert "A test run of Parecer." in str(fake_openai.requests[0])


@pytest.mark.parametrize(
    ("overrides", "shown"),
    [
        ({"variables": '{"text": ""}'}, "variables_invalid"),
        ({"variables": '{"text": "ok", "extra": 1}'}, "variables_invalid"),
        ({"variables": "[1, 2]"}, "Variables must be a JSON object."),
        ({"variables": "{not json"}, "Enter a valid JSON."),
        ({"prompt": "nothing-here"}, "prompt_not_found"),
        ({"version": "7"}, "version_not_found"),
        ({"label": "staging", "version": "1"}, "Give a label or a version, not both."),
        ({"file_ids": "not-a-uuid"}, "Each file id must be a UUID."),
    ],
)
def test_what_the_service_or_the_form_refuses_is_shown_and_nothing_is_created(
    admin_client, version, audit_events, overrides, shown
):
    response = admin_client.post(TEST_RUN, _form(**overrides))

    assert response.status_code == 200
    assert shown in response.content.decode()
    assert not Analysis.objects.exists()
    assert audit_events(action__startswith="analysis.") == []


def test_a_model_outside_the_allowed_list_is_a_form_error(admin_client, audit_events):
    prompt_create(slug="exotic", model="gpt-unlisted")

    response = admin_client.post(TEST_RUN, _form(prompt="exotic"))

    assert response.status_code == 200
    assert "model_not_allowed" in response.content.decode()
    assert not Analysis.objects.exists()


def test_an_exhausted_budget_is_a_form_error_and_audited(admin_client, version, audit_events):
    from prompts.configuration import config_set

    config_set(key="budget_monthly_tokens", value=10, actor=None)

    response = admin_client.post(TEST_RUN, _form())

    assert response.status_code == 200
    assert "budget_exceeded" in response.content.decode()
    assert not Analysis.objects.exists()
    assert len(audit_events(action="analysis.budget_refused")) == 1


def test_only_the_back_office_may_start_a_test_run(client, user, staff, version):
    client.force_login(user)  # a plain user: not on the admin site at all
    assert client.get(TEST_RUN).status_code == 302
    assert client.post(TEST_RUN, _form()).status_code == 302
    assert not Analysis.objects.exists()

    client.force_login(staff)  # staff manage analyses (the Staff group's permissions)
    assert client.get(TEST_RUN).status_code == 200
    prompt_page = client.get(f"{ADMIN}prompts/prompt/{version.prompt_id}/change/")
    assert prompt_page.status_code == 200 and "test-run" in prompt_page.content.decode()

    staff.groups.clear()  # without the group's permissions, as the analyses admin: refused
    assert client.get(TEST_RUN).status_code == 403
    assert client.post(TEST_RUN, _form()).status_code == 403
    assert not Analysis.objects.exists()


def test_the_prompt_page_renders_without_the_test_run_page(admin_client, version, monkeypatch):
    from django.urls import NoReverseMatch, reverse

    def reverse_without_test_run(name, *args, **kwargs):
        if name == "admin:analyses_analysis_test_run":
            raise NoReverseMatch(name)
        return reverse(name, *args, **kwargs)

    monkeypatch.setattr("prompts.admin.reverse", reverse_without_test_run)
    page = admin_client.get(f"{ADMIN}prompts/prompt/{version.prompt_id}/change/")

    assert page.status_code == 200
    assert (
        "Save as new version" in page.content.decode() and "test-run" not in page.content.decode()
    )
