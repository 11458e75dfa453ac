"""Production settings, reversible migrations, the first admin, the docs and the admin site."""

import json
import secrets

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.loader import MigrationLoader

from accounts.models import Role, User
from tests.foundation.runner import run_manage

PROJECT_APPS = ("analyses", "files", "prompts", "accounts", "audits")  # top floor first


def _prod_env(**overrides) -> dict:
    key = secrets.token_urlsafe(64)
    env = {
        "DJANGO_SETTINGS_MODULE": "config.settings.prod",
        "SECRET_KEY": key,
        "JWT_SIGNING_KEY": secrets.token_urlsafe(48),
        "AUDIT_HMAC_KEY": secrets.token_urlsafe(48),
        "ALLOWED_HOSTS": "api.example.com",
    }
    env.update(overrides)
    return {name: value for name, value in env.items() if value is not None}


def test_check_deploy_is_clean_under_production_settings():
    completed = run_manage("check", "--deploy", env=_prod_env())

    assert completed.returncode == 0, completed.stderr
    assert "System check identified no issues (0 silenced)." in completed.stdout
    assert "WARNING" not in completed.stderr


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"SECRET_KEY": "dev-insecure-key"}, "SECRET_KEY"),
        ({"JWT_SIGNING_KEY": "short"}, "JWT_SIGNING_KEY"),
        ({"ALLOWED_HOSTS": None}, "ALLOWED_HOSTS"),
        ({"ALLOWED_HOSTS": "*"}, "ALLOWED_HOSTS"),
    ],
)
def test_production_refuses_to_start_without_real_secrets(overrides, named):
    completed = run_manage("check", env=_prod_env(**overrides))

    assert completed.returncode != 0
    assert named in completed.stderr


@pytest.mark.django_db(transaction=True)
def test_every_project_migration_is_reversible():
    loader = MigrationLoader(connection)
    with_migrations = [app for app in PROJECT_APPS if app in loader.migrated_apps]
    assert {"accounts", "audits"} <= set(with_migrations)

    call_command("migrate", "admin", "zero", verbosity=0)  # its log entries point at users
    for app in with_migrations:
        call_command("migrate", app, "zero", verbosity=0)
    tables = set(connection.introspection.table_names())
    assert "accounts_user" not in tables
    assert "audits_auditevent" not in tables

    call_command("migrate", verbosity=0)

    tables = set(connection.introspection.table_names())
    assert {"accounts_user", "accounts_apikey", "audits_auditevent", "django_admin_log"} <= tables


@pytest.mark.django_db
def test_ensure_admin_uses_the_given_credentials(monkeypatch, audit_events):
    monkeypatch.setenv("DJANGO_SUPERUSER_EMAIL", "Boss@Example.com")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "a-long-admin-password")

    call_command("ensure_admin", verbosity=0)

    admin = User.objects.get()
    assert admin.email == "boss@example.com"
    assert admin.role == Role.ADMIN and admin.is_superuser and admin.is_staff
    assert admin.check_password("a-long-admin-password")
    [event] = audit_events(action="user.created")
    assert event.source == "command"
    assert event.actor_label.startswith("command:ensure_admin")


@pytest.mark.django_db
def test_ensure_admin_generates_a_password_once_and_is_idempotent(monkeypatch, capsys):
    monkeypatch.delenv("DJANGO_SUPERUSER_EMAIL", raising=False)
    monkeypatch.delenv("DJANGO_SUPERUSER_PASSWORD", raising=False)

    call_command("ensure_admin")
    first = capsys.readouterr().out
    password = first.split("(shown once): ")[1].strip()
    call_command("ensure_admin")
    second = capsys.readouterr().out

    assert User.objects.get().check_password(password)
    assert "already exists" in second
    assert password not in second
    assert User.objects.count() == 1


def test_openapi_declares_the_envelope_and_both_auth_schemes(client):
    schema = client.get("/api/v1/openapi.json").json()

    assert "ErrorOut" in schema["components"]["schemas"]
    schemes = schema["components"]["securitySchemes"]
    assert any(s["type"] == "http" and s["scheme"] == "bearer" for s in schemes.values())
    assert any(s["type"] == "apiKey" and s["name"] == "X-API-Key" for s in schemes.values())
    ref = "#/components/schemas/ErrorOut"
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            for status in ("422", "500", "503"):
                content = operation["responses"][status]["content"]["application/json"]
                assert content["schema"]["$ref"] == ref, (path, method, status)
            if operation.get("security"):
                assert "401" in operation["responses"], (path, method)


def test_openapi_json_has_no_duplicate_keys(client):
    """Swagger UI parses the schema as YAML and refuses to render a duplicated key."""
    duplicates = []

    def refuse_duplicates(pairs):
        keys = [key for key, _ in pairs]
        duplicates.extend(key for key in set(keys) if keys.count(key) > 1)
        return dict(pairs)

    json.loads(client.get("/api/v1/openapi.json").content, object_pairs_hook=refuse_duplicates)

    assert duplicates == []


def test_swagger_ui_is_served(client):
    response = client.get("/api/v1/docs")

    assert response.status_code == 200
    assert b"swagger" in response.content.lower()


@pytest.mark.django_db
def test_admin_login_page_is_served(client):
    assert client.get("/admin/login/").status_code == 200


def test_the_test_settings_pin_every_provider_whatever_the_environment(settings):
    import tempfile
    from pathlib import Path

    assert settings.OPENAI_API_KEY == ""
    assert settings.OPENAI_BASE_URL == "http://127.0.0.1:9/v1"
    assert settings.MAILERS["default"]["BACKEND"].endswith("locmem.EmailBackend")
    assert Path(settings.MEDIA_ROOT).is_relative_to(tempfile.gettempdir())
    assert Path(settings.MEDIA_ROOT).name.startswith("parecer-test-media-")
