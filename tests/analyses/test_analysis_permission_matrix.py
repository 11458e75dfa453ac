"""Every analyses endpoint x every kind of caller: status, envelope, and what the database holds.

``{own}`` is a queued analysis of the caller, ``{other}`` one of another user: staff and admins
see and steer everyone's (support), only owners delete; read-only keys never change anything.
"""

import pytest

from analyses.models import Analysis
from analyses.services.submission import analysis_submit
from tests.support.actors import ERROR_CODES, credentials
from tests.support.analyses_factories import prompt_create
from tests.support.factories import UserFactory

pytestmark = pytest.mark.django_db

ACTORS = ("anonymous", "user", "staff", "admin", "read_key", "write_key")
PEOPLE = ("user", "staff", "admin", "write_key")


def _each(status: int, **overrides) -> dict:
    return {"anonymous": 401, **dict.fromkeys(ACTORS[1:], status), **overrides}


MATRIX = [
    ("post", "/analyses", _each(202, read_key=403)),
    ("get", "/analyses", _each(200)),
    ("get", "/analyses/{own}", _each(202)),
    ("get", "/analyses/{other}", _each(404, staff=202, admin=202)),
    ("post", "/analyses/{own}/cancel", _each(200, read_key=403)),
    ("post", "/analyses/{other}/cancel", _each(404, staff=200, admin=200, read_key=403)),
    ("post", "/analyses/{own}/retry", _each(409, read_key=403)),  # queued: nothing to retry
    ("delete", "/analyses/{own}", _each(204, read_key=403)),
    ("delete", "/analyses/{other}", _each(404, read_key=403)),
]
CASES = [
    pytest.param(method, path, actor, expected[actor], id=f"{method} {path} as {actor}")
    for method, path, expected in MATRIX
    for actor in ACTORS
]


def _analysis(owner) -> Analysis:
    return analysis_submit(
        user=owner, prompt_slug="summary", variables={"text": "x"}, file_ids=[]
    ).analysis


@pytest.mark.parametrize(("method", "path", "actor", "expected"), CASES)
def test_matrix(client, method, path, actor, expected):
    prompt_create()
    person, headers = credentials(actor)
    own = _analysis(person) if person else _analysis(UserFactory())
    other = _analysis(UserFactory())
    url = "/api/v1" + path.format(own=own.pk, other=other.pk)
    call = getattr(client, method)
    if method == "post":
        body = {"prompt": "summary", "variables": {"text": "x"}} if path == "/analyses" else {}
        response = call(url, body, content_type="application/json", **headers)
    else:
        response = call(url, **headers)

    assert response.status_code == expected, response.content
    if expected >= 400:
        error = response.json()["error"]
        assert error["code"] in ERROR_CODES.get(expected, {"not_found", "analysis_not_retryable"})
        assert error["request_id"] == response["X-Request-ID"]
    target = other if "{other}" in path else own
    row = Analysis.objects.filter(pk=target.pk).first()
    if expected >= 400:  # refused: nothing changed
        assert row is not None and row.status == "queued" and not row.cancel_requested
    elif method == "delete":
        assert row is None
    elif path.endswith("/cancel"):
        assert row.status == "cancelled"
    if path == "/analyses":
        created = Analysis.objects.count() - 2
        assert created == (1 if expected == 202 else 0)
