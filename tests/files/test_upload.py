"""Uploads of every accepted type: the response, the row, the blob, the audit trail, and the
extraction that follows; dedup per owner."""

import hashlib

import pytest

from files.models import File
from tests.files import documents
from tests.files.helpers import stored_keys, upload
from tests.support.http import get

pytestmark = pytest.mark.django_db

CASES = [
    ("notes.txt", "text/plain", b"Plain words\nsecond line\n", "text/plain", "Plain words"),
    ("readme.md", "text/markdown", b"# Title\n\n*emphasis*\n", "text/markdown", "# Title"),
    ("table.csv", "text/csv", b"name,age\nana,31\nbo,42\n", "text/csv", "ana,31"),
    (
        "data.json",
        "application/json",
        b'{"answer": 42, "items": [1, 2]}',
        "application/json",
        '"answer": 42',
    ),
    (
        "paper.pdf",
        "application/pdf",
        documents.pdf_text("Findings of the PDF"),
        "application/pdf",
        "Findings of the PDF",
    ),
    (
        "memo.docx",
        "application/octet-stream",
        documents.docx(["First paragraph", "Second one"]),
        documents.DOCX_TYPE,
        "Second one",
    ),
    ("pixel.png", "image/png", documents.png(7, 5), "image/png", None),
]


@pytest.mark.parametrize(
    ("name", "declared", "data", "detected", "expected_text"), CASES, ids=[c[0] for c in CASES]
)
def test_upload_each_type_then_extraction(
    client, user, bearer, run_tasks, audit_events, name, declared, data, detected, expected_text
):
    response = upload(
        client, bearer(user), data, name=name, content_type=declared, purpose="evidence"
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["name"] == name
    assert body["size"] == len(data)
    assert body["content_type"] == detected
    assert body["sha256"] == hashlib.sha256(data).hexdigest()
    assert body["status"] == "uploaded"
    assert body["purpose"] == "evidence"
    row = File.objects.get(pk=body["id"])
    assert row.owner == user and row.storage_key in stored_keys()
    assert name not in row.storage_key  # the key is the server's, never the client's name
    [event] = audit_events(action="file.uploaded")
    assert event.entity_id == body["id"] and event.details["sha256"] == body["sha256"]
    assert event.actor_user_id == str(user.pk)

    run_tasks()

    after = get(client, f"/files/{body['id']}", **bearer(user)).json()
    assert after["status"] == "ready", after
    assert after["error_code"] == ""
    if expected_text is None:
        assert (after["width"], after["height"]) == (7, 5)
        assert after["text_chars"] == 0
    else:
        text = get(client, f"/files/{body['id']}/text", **bearer(user)).json()["text"]
        assert expected_text in text
        assert after["text_chars"] == len(text)
    if detected == "application/pdf":
        assert after["page_count"] == 1


def test_same_bytes_same_owner_returns_the_existing_file(client, user, bearer, audit_events):
    first = upload(client, bearer(user), b"same bytes\n", name="a.txt")
    second = upload(client, bearer(user), b"same bytes\n", name="b.txt")

    assert first.status_code == 201 and second.status_code == 200
    assert second.json()["id"] == first.json()["id"]
    assert second.json()["name"] == "a.txt"  # the existing file, not a renamed copy
    assert File.objects.count() == 1 and len(stored_keys()) == 1
    assert len(audit_events(action="file.uploaded")) == 1


def test_same_bytes_other_owner_is_a_separate_file(client, user, bearer):
    from tests.support.factories import UserFactory

    other = UserFactory()
    mine = upload(client, bearer(user), b"shared text\n")
    theirs = upload(client, bearer(other), b"shared text\n")

    assert mine.status_code == theirs.status_code == 201
    assert mine.json()["id"] != theirs.json()["id"]
    assert len(stored_keys()) == 2


def _cookie_client(user):
    """A browser: access cookie + CSRF cookie and header (CSRF checks enforced)."""
    from django.test import Client

    from accounts.auth import ACCESS_COOKIE
    from accounts.tokens import access_token_issue

    browser = Client(enforce_csrf_checks=True)
    token, _ = access_token_issue(user_id=user.pk)
    secret = "a" * 32
    browser.cookies[ACCESS_COOKIE] = token
    browser.cookies["csrftoken"] = secret
    return browser, {"HTTP_X_CSRFTOKEN": secret}


def test_browser_cookie_upload_with_csrf(user, audit_events):
    browser, headers = _cookie_client(user)
    response = upload(browser, headers, b"from the browser\n")
    assert response.status_code == 201, response.content
    assert File.objects.get().owner == user


def test_browser_cookie_upload_too_large_is_cut_while_csrf_parses(user, settings):
    """The CSRF check parses the body before the view: the streaming handler is already there."""
    settings.UPLOAD_MAX_BYTES = 10
    browser, headers = _cookie_client(user)
    response = upload(browser, headers, b"x" * 11)
    assert response.status_code == 413, response.content
    assert response.json()["error"]["code"] == "file_too_large"
    assert response.json()["error"]["details"] == {"max_bytes": 10}
    assert File.objects.count() == 0 and stored_keys() == []
