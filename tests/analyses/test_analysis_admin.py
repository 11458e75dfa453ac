"""The back-office: list and filters, detail with provenance, retry/cancel actions, usage summary."""

from django.conf import settings

from analyses.models import Analysis

ADMIN = "/" + settings.ADMIN_URL.lstrip("/")


def test_list_filters_and_detail_show_provenance(
    admin_client, caller, submit, fake_openai, run_tasks
):
    done_id = submit().json()["id"]
    run_tasks()
    queued_id = submit(variables={"text": "second"}).json()["id"]

    page = admin_client.get(f"{ADMIN}analyses/analysis/?status__exact=succeeded")
    assert page.status_code == 200
    html = page.content.decode()
    assert done_id in html and queued_id not in html
    assert (
        admin_client.get(f"{ADMIN}analyses/analysis/?cost=free").content.decode().count(queued_id)
    )

    detail = admin_client.get(f"{ADMIN}analyses/analysis/{done_id}/change/")
    assert detail.status_code == 200
    body = detail.content.decode()
    assert "Parecer turns prompts into work." in body  # the rendered messages
    assert Analysis.objects.get(pk=done_id).result_text[:20] in body
    assert "upstream_request_id" in body or "Upstream request id" in body  # the attempts inline


def test_actions_cancel_and_retry_through_the_services(admin_client, caller, submit, audit_events):
    analysis_id = submit().json()["id"]

    response = admin_client.post(
        f"{ADMIN}analyses/analysis/",
        {"action": "cancel_analyses", "_selected_action": [analysis_id]},
        follow=True,
    )
    assert response.status_code == 200
    assert Analysis.objects.get(pk=analysis_id).status == "cancelled"
    [cancelled] = audit_events(action="analysis.cancelled")
    assert cancelled.source == "admin"

    admin_client.post(
        f"{ADMIN}analyses/analysis/",
        {"action": "retry_analyses", "_selected_action": [analysis_id]},
        follow=True,
    )
    assert Analysis.objects.get(pk=analysis_id).status == "queued"
    assert [e.entity_id for e in audit_events(action="analysis.retried")] == [analysis_id]

    again = admin_client.post(
        f"{ADMIN}analyses/analysis/",
        {"action": "retry_analyses", "_selected_action": [analysis_id]},
        follow=True,
    )
    assert "Only failed or cancelled analyses can be retried." in again.content.decode()


def test_usage_summary_per_user_and_per_prompt(
    admin_client, caller, submit, fake_openai, run_tasks
):
    submit()
    run_tasks()

    page = admin_client.get(f"{ADMIN}analyses/usagemonth/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "usage-per-prompt" in html
    assert "<td>summary</td><td>1</td>" in html
    assert caller[0].email in html


def test_the_dashboard_shows_analyses_by_status_and_this_months_spend(
    admin_client, caller, submit, fake_openai, run_tasks
):
    submit()
    run_tasks()  # one succeeded, with its cost on the user's month
    submit(variables={"text": "second"})  # one queued

    page = admin_client.get(ADMIN)

    assert page.status_code == 200
    cards = {card["key"]: card for card in page.context["dashboard_cards"]}
    assert cards["analyses_active"]["value"] == "1 / 0"
    assert cards["analyses_failed"]["value"] == 0
    spent = sum(a.cost_usd for a in Analysis.objects.all())
    assert cards["analyses_spend_month"]["value"] == f"${spent:.2f}"
    assert cards["analyses_active"]["link"].endswith("?status__exact=queued")
    assert "Analyses queued / running" in page.content.decode()
