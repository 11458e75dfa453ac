"""The screens staff work in: fieldsets, exact times, links between people and their trail."""

import re

import pytest

from accounts.services.api_keys import api_key_create
from audits.models import AuditEvent

pytestmark = pytest.mark.django_db

EXACT_TIME = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC")


def test_audit_event_page_groups_fields_and_links_the_actor_and_entity(admin_client, admin, user):
    admin_client.post(
        f"/admin/accounts/user/{user.pk}/change/",
        {"email": user.email, "full_name": "Renamed", "role": "user", "is_active": "on",
         "email_verified_at_0": "", "email_verified_at_1": ""},
    )  # fmt: skip
    event = AuditEvent.objects.get(action="user.updated")

    page = admin_client.get(f"/admin/audits/auditevent/{event.pk}/change/").content.decode()

    for legend in ("What happened", "Who", "Where", "Review", "Seal"):
        assert f">{legend}<" in page or f"{legend}\n" in page, legend
    assert EXACT_TIME.search(page)
    assert f'href="/admin/accounts/user/{admin.pk}/change/"' in page  # the actor
    assert f'href="/admin/accounts/user/{user.pk}/change/"' in page  # the entity


def test_audit_list_shows_exact_times_and_filters_by_date_range(admin_client, user):
    api_key_create(user=user, name="ci")

    page = admin_client.get("/admin/audits/auditevent/").content.decode()
    empty = admin_client.get(
        "/admin/audits/auditevent/",
        {"occurred_at_from_0": "2000-01-01", "occurred_at_from_1": "00:00",
         "occurred_at_to_0": "2000-01-02", "occurred_at_to_1": "00:00"},
    )  # fmt: skip

    assert EXACT_TIME.search(page)
    assert "auth.api_key.created" in page
    assert empty.status_code == 200
    assert "auth.api_key.created" not in empty.content.decode()


def test_user_page_links_to_their_keys_sessions_and_events(admin_client, user):
    api_key_create(user=user, name="ci")

    page = admin_client.get(f"/admin/accounts/user/{user.pk}/change/").content.decode()

    assert f"/admin/accounts/apikey/?user__id__exact={user.pk}" in page
    assert f"/admin/accounts/refreshtoken/?user__id__exact={user.pk}" in page
    assert f"/admin/audits/auditevent/?actor_user_id={user.pk}" in page
    assert "1 API key(s)" in page
    keys = admin_client.get(f"/admin/accounts/apikey/?user__id__exact={user.pk}")
    assert keys.status_code == 200 and "ci" in keys.content.decode()


def test_session_list_shows_short_ids_with_the_full_id_on_hover(admin_client, user):
    from django.test import Client

    from tests.support.factories import DEFAULT_PASSWORD
    from tests.support.http import post_json

    post_json(Client(), "/auth/login", {"email": user.email, "password": DEFAULT_PASSWORD})
    token = user.refresh_tokens.get()

    page = admin_client.get("/admin/accounts/refreshtoken/").content.decode()

    assert f'title="{token.family}"' in page
    assert f">{str(token.family)[:8]}<" in page
