"""The LLM module's edges: who may import openai, the health probe, schemas, test isolation."""

import ast
import socket
from pathlib import Path

import pytest

from analyses import llm
from tests.foundation.runner import REPO, run_python

SKIP_DIRS = {".venv", ".git", "node_modules", "media", "staticfiles", ".bench", ".run"}


def _python_files():
    for path in REPO.rglob("*.py"):
        if not SKIP_DIRS.intersection(path.relative_to(REPO).parts):
            yield path


def _imports_openai(path: Path) -> bool:
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import) and any(
            a.name.split(".")[0] == "openai" for a in node.names
        ):
            return True
        if (
            isinstance(node, ast.ImportFrom)
            and (node.module or "").split(".")[0] == "openai"
            and not node.level
        ):
            return True
    return False


def test_only_analyses_llm_imports_openai():
    importers = {str(p.relative_to(REPO)) for p in _python_files() if _imports_openai(p)}
    assert importers, "the scan found nothing: it is not looking where the code is"
    assert {p for p in importers if not p.startswith("analyses/llm/")} == set()


def test_the_status_probe_says_ok_when_the_server_answers(fake_openai):
    assert llm.llm_status() == "ok"
    [probe] = fake_openai.requests
    assert (probe["method"], probe["path"]) == ("GET", "/v1/models")


def test_the_status_probe_says_down_on_a_refused_key(fake_openai):
    fake_openai.required_key = "another-key"
    assert llm.llm_status() == "down"


def test_the_status_probe_says_down_when_nothing_listens(fake_openai, settings):
    free = socket.socket()
    free.bind(("127.0.0.1", 0))
    settings.OPENAI_BASE_URL = f"http://127.0.0.1:{free.getsockname()[1]}/v1"
    free.close()
    assert llm.llm_status() == "down"


def test_the_status_probe_makes_no_call_when_not_configured(fake_openai, settings):
    settings.OPENAI_API_KEY = ""
    assert llm.llm_status() == "not_configured"
    assert fake_openai.requests == []


def test_an_invalid_schema_is_refused_with_where_and_why():
    llm.output_schema_check({"type": "object", "properties": {"a": {"type": "string"}}})
    with pytest.raises(
        ValueError, match=r"invalid JSON Schema at properties/a/type: 'text' is not valid"
    ):
        llm.output_schema_check({"type": "object", "properties": {"a": {"type": "text"}}})


def test_a_developers_environment_never_points_the_tests_at_a_real_llm():
    probe = run_python(
        """
        import django
        django.setup()
        from django.conf import settings
        print(repr(settings.OPENAI_API_KEY), repr(settings.OPENAI_BASE_URL))
        """,
        env={
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "OPENAI_API_KEY": "sk-real-key-from-a-dotenv",
            "OPENAI_BASE_URL": "https://api.openai.com/v1",
        },
    )
    assert probe.returncode == 0, probe.stderr
    assert probe.stdout.strip() == "'' 'http://127.0.0.1:9/v1'"


def test_the_error_codes_and_their_retry_policy_are_the_documented_ones():
    assert llm.RETRYABLE == {
        "llm_auth_failed": False,
        "llm_permission_denied": False,
        "llm_bad_request": False,
        "llm_not_found": False,
        "llm_context_too_long": False,
        "llm_rate_limited": True,
        "llm_timeout": True,
        "llm_unavailable": True,
        "llm_refused": False,
        "llm_output_invalid": False,
        "llm_not_configured": False,
    }
    table = (REPO / "docs" / "operations.md").read_text()
    for code, retryable in llm.RETRYABLE.items():
        assert f"| `{code}` | {'yes' if retryable else 'no'} |" in table
