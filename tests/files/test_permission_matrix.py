"""Every files endpoint x every kind of caller (anonymous, user, other user, read key, write key,
staff, admin): the status, the envelope on errors, and what the database holds afterwards."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from files.models import ExtractedText, File, FileStatus
from tests.support.actors import ERROR_CODES, credentials
from tests.support.factories import UserFactory
from tests.support.files_factories import file_create

pytestmark = pytest.mark.django_db

ACTORS = ("anonymous", "user", "staff", "admin", "read_key", "write_key")
ALL_OK = dict.fromkeys(ACTORS[1:], 200)

# (method, path, {actor: status}); {own} is a ready file of the caller, {other} a ready file of
# another user (the "other user" of the matrix: for a plain user or key it must not exist).
MATRIX = [
    (
        "upload",
        "/files",
        {
            "anonymous": 401,
            "user": 201,
            "staff": 201,
            "admin": 201,
            "read_key": 403,
            "write_key": 201,
        },
    ),
    ("get", "/files", {"anonymous": 401, **ALL_OK}),
    ("get", "/files/{own}", {"anonymous": 401, **ALL_OK}),
    ("get", "/files/{own}/content", {"anonymous": 401, **ALL_OK}),
    ("get", "/files/{own}/text", {"anonymous": 401, **ALL_OK}),
    (
        "get",
        "/files/{other}",
        {
            "anonymous": 401,
            "user": 404,
            "staff": 200,
            "admin": 200,
            "read_key": 404,
            "write_key": 404,
        },
    ),
    (
        "get",
        "/files/{other}/content",
        {
            "anonymous": 401,
            "user": 404,
            "staff": 200,
            "admin": 200,
            "read_key": 404,
            "write_key": 404,
        },
    ),
    (
        "get",
        "/files/{other}/text",
        {
            "anonymous": 401,
            "user": 404,
            "staff": 200,
            "admin": 200,
            "read_key": 404,
            "write_key": 404,
        },
    ),
    (
        "delete",
        "/files/{own}",
        {
            "anonymous": 401,
            "user": 204,
            "staff": 204,
            "admin": 204,
            "read_key": 403,
            "write_key": 204,
        },
    ),
    (
        "delete",
        "/files/{other}",
        {
            "anonymous": 401,
            "user": 404,
            "staff": 403,
            "admin": 204,
            "read_key": 403,
            "write_key": 404,
        },
    ),
]
CASES = [
    pytest.param(method, path, actor, expected[actor], id=f"{method} {path} as {actor}")
    for method, path, expected in MATRIX
    for actor in ACTORS
]


def _ready_file(owner, data: bytes) -> File:
    file = file_create(owner=owner, data=data)
    ExtractedText.objects.create(file=file, text=data.decode())
    File.objects.filter(pk=file.pk).update(status=FileStatus.READY, text_chars=len(data))
    return file


@pytest.mark.parametrize(("method", "path", "actor", "expected"), CASES)
def test_files_permission_matrix(
    client, method, path, actor, expected, django_capture_on_commit_callbacks
):
    person, headers = credentials(actor)
    other = _ready_file(UserFactory(), b"another user's words\n")
    own = _ready_file(person, b"my own words\n") if person else other
    url = "/api/v1" + path.format(own=own.pk, other=other.pk)
    with django_capture_on_commit_callbacks(execute=True):
        if method == "upload":
            form = {
                "file": SimpleUploadedFile(
                    "new.txt", b"a brand new file\n", content_type="text/plain"
                )
            }
            response = client.post(url, form, **headers)
        else:
            response = getattr(client, method)(url, **headers)

    assert response.status_code == expected, response.content
    target = own if "{own}" in path else other
    if expected >= 400:
        error = response.json()["error"]
        assert error["request_id"] == response["X-Request-ID"]
        if expected in ERROR_CODES:
            assert error["code"] in ERROR_CODES[expected], error
        if actor == "read_key" and method != "get":
            assert error["code"] == "insufficient_scope"
    if method == "upload":
        assert File.objects.filter(name="new.txt").exists() == (expected == 201)
        if expected == 201:
            assert response.json()["owner_id"] == str(person.pk)
    elif method == "delete":
        assert File.objects.filter(pk=target.pk).exists() == (expected != 204)
    elif expected == 200 and path.endswith("/text"):
        assert response.json()["text"] == target.extracted.text
    elif expected == 200 and path.endswith("/content"):
        assert b"".join(response.streaming_content).decode() == target.extracted.text
    elif expected == 200 and path != "/files":
        assert response.json()["id"] == str(target.pk)
    elif expected == 200:
        ids = {item["id"] for item in response.json()["items"]}
        assert str(own.pk) in ids
        assert (str(other.pk) in ids) == (actor in ("staff", "admin"))
