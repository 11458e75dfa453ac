"""System configuration: declared keys only, schema-checked values, audited writes, cached reads
that every process sees change as soon as a write returns."""

import json
import os
import subprocess
import sys

import pytest
from django.db import connection

from prompts.configuration import REGISTRY, config_get, config_set
from prompts.models import Configuration
from tests.foundation.runner import _INHERITED_OUT, REPO
from tests.support.http import assert_error, delete, get, put_json


@pytest.mark.django_db
def test_the_list_shows_every_declared_key_with_default_schema_and_description(
    client, staff, bearer
):
    response = get(client, "/configurations?page_size=50", **bearer(staff))

    assert response.status_code == 200
    items = {item["key"]: item for item in response.json()["items"]}
    assert set(items) == set(REGISTRY) and response.json()["count"] == len(REGISTRY)
    assert items["default_model"]["value"] == "gpt-4o-mini" and items["default_model"]["is_default"]
    assert items["upload_max_bytes"]["value"] == 26214400
    assert items["model_prices"]["value"]["gpt-4o-mini"] == {
        "input": "0.15",
        "cached_input": "0.075",
        "output": "0.60",
    }
    assert items["budget_monthly_tokens"]["value"] is None
    assert items["allowed_models"]["value_schema"]["type"] == "array"
    assert all(item["description"] for item in items.values())


@pytest.mark.django_db
def test_an_admin_sets_and_resets_a_value_audited_with_old_and_new(
    client, admin, bearer, audit_events
):
    response = put_json(
        client, "/configurations/analysis_attempt_budget", {"value": 5}, **bearer(admin)
    )

    assert response.status_code == 200, response.content
    assert response.json()["value"] == 5 and response.json()["is_default"] is False
    assert response.json()["updated_by"] == admin.email
    assert Configuration.objects.get(key="analysis_attempt_budget").value == 5
    assert config_get("analysis_attempt_budget") == 5
    [event] = audit_events(action="configuration.updated")
    assert event.details == {"key": "analysis_attempt_budget", "old": 3, "new": 5}
    assert event.actor_user_id == str(admin.pk)

    reset = delete(client, "/configurations/analysis_attempt_budget", **bearer(admin))

    assert reset.json()["value"] == 3 and reset.json()["is_default"] is True
    assert not Configuration.objects.filter(key="analysis_attempt_budget").exists()
    assert config_get("analysis_attempt_budget") == 3
    [event] = audit_events(action="configuration.reset")
    assert event.details == {"key": "analysis_attempt_budget", "old": 5, "new": 3}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("key", "value", "field", "reason"),
    [
        ("analysis_attempt_budget", "three", "value", "is not of type 'integer'"),
        ("analysis_attempt_budget", 0, "value", "less than the minimum of 1"),
        ("allowed_models", ["gpt-4o", 7], "value.1", "is not of type 'string'"),
        (
            "model_prices",
            {"gpt-4o": {"input": "1", "output": "2"}},
            "value.gpt-4o",
            "'cached_input' is a required property",
        ),
        (
            "model_prices",
            {"gpt-4o": {"input": "1", "cached_input": "x", "output": "2"}},
            "value.gpt-4o.cached_input",
            "does not match",
        ),
        ("upload_allowed_types", ["not a type"], "value.0", "does not match"),
        ("budget_monthly_cost_usd", 12.5, "value", "is not valid under any of the given schemas"),
    ],
)
def test_a_value_failing_its_schema_is_422_naming_why(
    client, admin, bearer, audit_events, key, value, field, reason
):
    error = assert_error(
        put_json(client, f"/configurations/{key}", {"value": value}, **bearer(admin)),
        422,
        "configuration_invalid",
    )

    assert error["details"][0]["field"] == field
    assert reason in error["details"][0]["reason"]
    assert reason in error["message"]
    assert not Configuration.objects.filter(key=key).exists()
    assert audit_events(action="configuration.updated") == []


@pytest.mark.django_db
def test_undeclared_keys_are_404_and_cannot_be_stored(client, admin, bearer):
    assert_error(
        get(client, "/configurations/nope", **bearer(admin)), 404, "configuration_not_found"
    )
    assert_error(
        put_json(client, "/configurations/nope", {"value": 1}, **bearer(admin)),
        404,
        "configuration_not_found",
    )
    assert_error(
        delete(client, "/configurations/nope", **bearer(admin)), 404, "configuration_not_found"
    )
    assert not Configuration.objects.exists()


@pytest.mark.django_db
def test_nullable_values_are_stored_and_read_back(client, admin, bearer):
    put_json(client, "/configurations/budget_monthly_tokens", {"value": 250000}, **bearer(admin))
    assert config_get("budget_monthly_tokens") == 250000
    put_json(client, "/configurations/budget_monthly_tokens", {"value": None}, **bearer(admin))
    assert config_get("budget_monthly_tokens") is None
    assert Configuration.objects.get(key="budget_monthly_tokens").value is None


@pytest.mark.django_db
def test_reads_are_served_from_the_cache(django_assert_num_queries):
    config_set(key="upload_max_bytes", value=1000, actor=None)
    with django_assert_num_queries(1):
        assert config_get("upload_max_bytes") == 1000
    with django_assert_num_queries(0):
        assert config_get("upload_max_bytes") == 1000


READER = """
import json, sys
import django
django.setup()
from prompts.configuration import config_get
print("ready", flush=True)
for line in sys.stdin:
    print(json.dumps(config_get(line.strip())), flush=True)
"""


def _database_url() -> str:
    s = connection.settings_dict
    password = f":{s['PASSWORD']}" if s.get("PASSWORD") else ""
    return f"postgres://{s['USER']}{password}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_another_process_sees_a_change_as_soon_as_the_put_returns(client, admin, bearer):
    from django.conf import settings

    env = {k: v for k, v in os.environ.items() if k not in _INHERITED_OUT}
    env.update(
        DATABASE_URL=_database_url(),
        REDIS_URL=settings.REDIS_URL,
        DJANGO_SETTINGS_MODULE="config.settings.test",
    )
    reader = subprocess.Popen([sys.executable, "-c", READER], cwd=REPO, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert reader.stdout.readline().strip() == "ready", reader.stderr.read()

        def read(key: str):
            reader.stdin.write(key + "\n")
            reader.stdin.flush()
            return json.loads(reader.stdout.readline())

        assert (
            read("analysis_cache_ttl_seconds") == 86400
        )  # now cached in Redis by the other process
        assert (
            put_json(
                client, "/configurations/analysis_cache_ttl_seconds", {"value": 60}, **bearer(admin)
            ).status_code
            == 200
        )
        assert read("analysis_cache_ttl_seconds") == 60
        assert (
            delete(
                client, "/configurations/analysis_cache_ttl_seconds", **bearer(admin)
            ).status_code
            == 200
        )
        assert read("analysis_cache_ttl_seconds") == 86400
    finally:
        reader.stdin.close()
        reader.wait(timeout=10)


@pytest.mark.django_db
def test_upload_keys_follow_the_deployment_setting_until_a_value_is_stored(
    settings, client, admin, bearer
):
    settings.UPLOAD_MAX_BYTES = 1234
    assert config_get("upload_max_bytes") == 1234
    settings.UPLOAD_MAX_BYTES = 4321  # read at each use, even with "nothing stored" cached
    assert config_get("upload_max_bytes") == 4321
    assert (
        get(client, "/configurations/upload_max_bytes", **bearer(admin)).json()["default"] == 4321
    )

    put_json(client, "/configurations/upload_max_bytes", {"value": 999}, **bearer(admin))
    assert config_get("upload_max_bytes") == 999
    delete(client, "/configurations/upload_max_bytes", **bearer(admin))
    assert config_get("upload_max_bytes") == 4321
