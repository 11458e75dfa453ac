"""The served WSGI application answers ``GET /health/live`` itself, exactly as Django's view does,
and hands everything else to Django."""

import json
from wsgiref.util import setup_testing_defaults

import pytest

from config import wsgi


def _call(path: str, method: str = "GET") -> tuple[str, dict, bytes]:
    environ = {"PATH_INFO": path, "REQUEST_METHOD": method}
    setup_testing_defaults(environ)
    answered = {}

    def start_response(status, headers, exc_info=None):
        answered["status"], answered["headers"] = status, dict(headers)

    body = b"".join(wsgi.application(environ, start_response))
    return answered["status"], answered["headers"], body


def test_liveness_is_answered_without_django_and_as_django_answers_it(client, monkeypatch):
    def django_down(environ, start_response):
        raise AssertionError("the probe reached Django")

    django_answer = client.get("/health/live")
    monkeypatch.setattr(wsgi, "django_application", django_down)

    status, headers, body = _call("/health/live")

    assert status == "200 OK"
    assert body == django_answer.content and json.loads(body) == {"status": "ok"}
    assert headers["Content-Type"] == django_answer["Content-Type"] == "application/json"
    assert headers["Content-Length"] == str(len(body))
    assert headers["Cache-Control"] == "no-store"
    assert headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    ("path", "method"),
    [
        ("/health/live", "POST"),
        ("/health/live/", "GET"),
        ("/health", "GET"),
        ("/api/v1/auth/me", "GET"),
    ],
)
def test_everything_else_goes_to_django(monkeypatch, path, method):
    seen = []

    def django(environ, start_response):
        seen.append((environ["PATH_INFO"], environ["REQUEST_METHOD"]))
        start_response("418 I'm a teapot", [])
        return [b"django"]

    monkeypatch.setattr(wsgi, "django_application", django)

    status, _, body = _call(path, method)

    assert (status, body, seen) == ("418 I'm a teapot", b"django", [(path, method)])
