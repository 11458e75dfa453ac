"""Each hostile or broken upload, through the real middleware: a clear enveloped error (and
nothing stored), or a documented safe outcome."""

import pytest

from files.models import File
from tests.files import documents
from tests.files.helpers import assert_nothing_stored, multipart, raw_post, stored_keys, upload
from tests.support.http import assert_error, get

pytestmark = pytest.mark.django_db


def test_empty_file_is_refused(client, user, bearer):
    error = assert_error(upload(client, bearer(user), b""), 422, "file_empty")
    assert error["details"][0]["field"] == "file"
    assert_nothing_stored()


def test_missing_file_field(client, user, bearer):
    body, content_type = multipart([("purpose", None, "text/plain", b"notes")])
    error = assert_error(
        raw_post(client, bearer(user), body, content_type), 422, "validation_error"
    )
    assert error["details"][0] == {
        "field": "file",
        "in": "body",
        "reason": "missing",
        "type": "missing",
    }
    assert_nothing_stored()


def test_file_part_under_another_name(client, user, bearer):
    body, content_type = multipart([("document", "a.txt", "text/plain", b"words")])
    assert_error(raw_post(client, bearer(user), body, content_type), 422, "validation_error")
    assert_nothing_stored()


def test_repeated_file_field(client, user, bearer):
    body, content_type = multipart(
        [("file", "a.txt", "text/plain", b"one"), ("file", "b.txt", "text/plain", b"two")]
    )
    error = assert_error(
        raw_post(client, bearer(user), body, content_type), 422, "validation_error"
    )
    assert error["details"][0]["reason"] == "more than one file part"
    assert_nothing_stored()


def test_multipart_without_boundary(client, user, bearer):
    body, _ = multipart([("file", "a.txt", "text/plain", b"words")])
    error = assert_error(
        raw_post(client, bearer(user), body, "multipart/form-data"), 400, "malformed_multipart"
    )
    assert "boundary" in error["details"][0]["reason"].lower()
    assert_nothing_stored()


def test_multipart_with_a_boundary_that_is_not_in_the_body(client, user, bearer):
    body, _ = multipart([("file", "a.txt", "text/plain", b"words")], boundary="RealOne")
    response = raw_post(client, bearer(user), body, "multipart/form-data; boundary=SomethingElse")
    assert_error(response, 422, "validation_error")  # nothing parsed: no file part
    assert_nothing_stored()


def test_multipart_with_an_invalid_boundary(client, user, bearer):
    body, _ = multipart([("file", "a.txt", "text/plain", b"words")])
    response = raw_post(
        client, bearer(user), body, 'multipart/form-data; boundary="bad\x7f boundary\u00e9"'
    )
    assert_error(response, 400, "malformed_multipart")
    assert_nothing_stored()


def test_json_body_is_415(client, user, bearer):
    response = client.post(
        "/api/v1/files", {"file": "aGVsbG8="}, content_type="application/json", **bearer(user)
    )
    error = assert_error(response, 415, "unsupported_media_type")
    assert "multipart/form-data" in error["message"]
    assert_nothing_stored()


def test_other_media_type_is_415(client, user, bearer):
    response = raw_post(client, bearer(user), b"hello", "text/plain")
    assert_error(response, 415, "unsupported_media_type")


def test_too_large_is_413_and_nothing_is_kept(client, user, bearer, settings):
    settings.UPLOAD_MAX_BYTES = 1000
    error = assert_error(upload(client, bearer(user), b"a" * 1001), 413, "file_too_large")
    assert error["details"] == {"max_bytes": 1000}
    assert_nothing_stored()
    assert upload(client, bearer(user), b"a" * 1000).status_code == 201  # the limit itself is fine


def test_declared_length_far_past_the_limit_is_refused_before_reading(
    client, user, bearer, settings
):
    settings.UPLOAD_MAX_BYTES = 1000
    body, content_type = multipart([("file", "a.txt", "text/plain", b"b" * 200_000)])
    assert_error(raw_post(client, bearer(user), body, content_type), 413, "file_too_large")
    assert_nothing_stored()


def test_two_parts_together_pass_the_limit(client, user, bearer, settings):
    settings.UPLOAD_MAX_BYTES = 1000
    body, content_type = multipart(
        [("file", "a.txt", "text/plain", b"a" * 600), ("other", "b.txt", "text/plain", b"b" * 600)]
    )
    assert_error(raw_post(client, bearer(user), body, content_type), 413, "file_too_large")
    assert_nothing_stored()


@pytest.mark.parametrize(
    ("raw_name", "shown"),
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\windows\\win.ini", "win.ini"),
        ("report\x00.pdf.txt", "report.pdf.txt"),
        ("bell\x07and\x1bescape.txt", "bellandescape.txt"),
        ("invoice\u202egpj.txt", "invoicegpj.txt"),
        ("zero\u200bwidth.txt", "zerowidth.txt"),
        ("...", "upload"),
        ("a" * 900 + ".txt", "a" * 196 + ".txt"),
    ],
    ids=[
        "dotdot",
        "backslashes",
        "nul",
        "controls",
        "rtl-override",
        "zero-width",
        "dots",
        "900-chars",
    ],
)
def test_hostile_names_are_sanitised(client, user, bearer, raw_name, shown):
    body, content_type = multipart(
        [("file", raw_name, "text/plain", f"content of {shown}".encode())]
    )
    response = raw_post(client, bearer(user), body, content_type)
    assert response.status_code == 201, response.content
    file = File.objects.get()
    assert response.json()["name"] == file.name == shown
    assert file.storage_key.startswith("files/") and shown not in file.storage_key
    download = client.get(f"/api/v1/files/{file.pk}/content", **bearer(user))
    disposition = download["Content-Disposition"]
    assert (
        disposition.startswith("attachment; ")
        and "\x00" not in disposition
        and "/" not in disposition.split("filename=")[1].split(";")[0]
    )


def test_name_of_1000_characters_passes_the_part_header_cap(client, user, bearer):
    """Django's multipart parser caps each part's headers at 1 KiB: a 1,000-character name makes
    the header longer, and the upload is a clear 400 (names up to ~900 ASCII characters are
    accepted and shortened to 200 for display, see the test above)."""
    body, content_type = multipart([("file", "n" * 1000 + ".txt", "text/plain", b"words")])
    error = assert_error(
        raw_post(client, bearer(user), body, content_type), 400, "malformed_multipart"
    )
    assert "header size" in error["details"][0]["reason"]
    assert_nothing_stored()


def test_executable_is_refused_naming_what_it_is(client, user, bearer):
    data = documents.ELF_HEADER + b"\x00" * 256
    error = assert_error(
        upload(client, bearer(user), data, name="tool.txt"), 415, "unsupported_file_type"
    )
    assert error["details"]["detected"] == "application/x-executable"
    assert "ELF" in error["details"]["description"]
    assert_nothing_stored()


def test_executable_with_a_pdf_inside_is_refused(client, user, bearer):
    data = documents.ELF_HEADER + documents.pdf_text("hidden")
    error = assert_error(
        upload(client, bearer(user), data, name="doc.pdf", content_type="application/pdf"),
        415,
        "unsupported_file_type",
    )
    assert error["details"]["detected"] == "application/x-executable"
    assert error["details"]["declared"] == "application/pdf"


def test_polyglot_pdf_header_on_an_executable_fails_extraction_safely(
    client, user, bearer, run_tasks, audit_events
):
    """Bytes that start like a PDF are a PDF to us: stored (served only as an attachment with
    nosniff), and extraction finds no PDF in them: failed, audited, never executed."""
    data = b"%PDF-1.7\n" + documents.ELF_HEADER + b"\x00" * 4096
    response = upload(client, bearer(user), data, name="trick.pdf", content_type="application/pdf")
    assert response.status_code == 201 and response.json()["content_type"] == "application/pdf"
    run_tasks()
    file = get(client, f"/files/{response.json()['id']}", **bearer(user)).json()
    assert file["status"] == "failed" and file["error_code"] == "pdf_unreadable"
    [event] = audit_events(action="file.extraction_failed")
    assert event.details["error_code"] == "pdf_unreadable"
    content = client.get(f"/api/v1/files/{file['id']}/content", **bearer(user))
    assert content["X-Content-Type-Options"] == "nosniff"
    assert content["Content-Disposition"].startswith("attachment;")


def test_declared_type_contradicted_by_the_bytes(client, user, bearer):
    error = assert_error(
        upload(
            client, bearer(user), documents.png(), name="scan.pdf", content_type="application/pdf"
        ),
        415,
        "unsupported_file_type",
    )
    assert error["details"]["detected"] == "image/png"
    assert error["details"]["declared"] == "application/pdf"
    assert "image/png" in error["message"]


def test_not_json_declared_as_json(client, user, bearer):
    error = assert_error(
        upload(
            client, bearer(user), b"just words", name="data.json", content_type="application/json"
        ),
        415,
        "unsupported_file_type",
    )
    assert error["details"]["detected"] == "text/plain"


def test_plain_zip_is_refused(client, user, bearer):
    data = documents.zip_plain({"a.txt": b"inside"})
    error = assert_error(
        upload(client, bearer(user), data, name="a.zip", content_type="application/zip"),
        415,
        "unsupported_file_type",
    )
    assert error["details"]["detected"] == "application/zip"


def test_type_not_in_the_allowed_list(client, user, bearer, settings):
    settings.UPLOAD_ALLOWED_TYPES = ["text/plain"]
    error = assert_error(
        upload(client, bearer(user), documents.png(), name="a.png", content_type="image/png"),
        415,
        "unsupported_file_type",
    )
    assert error["details"]["detected"] == "image/png"


def test_gif_is_not_accepted(client, user, bearer):
    data = b"GIF89a\x01\x00\x01\x00\x80\x00\x00" + b"\x00" * 20 + b";"
    error = assert_error(
        upload(client, bearer(user), data, name="a.gif", content_type="image/gif"),
        415,
        "unsupported_file_type",
    )
    assert error["details"]["detected"] == "image/gif"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (
            "Ça coûte cher, naïve façade — déjà vu\n".encode("cp1252") * 20,
            "Ça coûte cher, naïve façade",
        ),
        ("Grüße aus Köln\n".encode("latin-1") * 40, "Grüße aus Köln"),
        ("\ufeffUTF-16 text with a BOM\n".encode("utf-16-le"), "UTF-16 text with a BOM"),
    ],
    ids=["cp1252", "latin-1", "utf-16"],
)
def test_text_that_is_not_utf8_is_decoded(client, user, bearer, run_tasks, data, expected):
    response = upload(client, bearer(user), data, name="legacy.txt")
    assert response.status_code == 201, response.content
    run_tasks()
    text = get(client, f"/files/{response.json()['id']}/text", **bearer(user)).json()["text"]
    assert expected in text


def test_invalid_utf8_in_a_utf8_file_does_not_crash(client, user, bearer, run_tasks):
    data = ("valid start " * 50).encode() + b"\xff\xfe\xc3(" + b" valid end"
    response = upload(client, bearer(user), data, name="mixed.txt")
    assert response.status_code == 201, response.content
    run_tasks()
    file = get(client, f"/files/{response.json()['id']}", **bearer(user)).json()
    assert file["status"] == "ready"
    text = get(client, f"/files/{file['id']}/text", **bearer(user)).json()["text"]
    assert text.startswith("valid start") and "valid end" in text


def test_invalid_purpose(client, user, bearer):
    error = assert_error(
        upload(client, bearer(user), b"words", purpose="no spaces <allowed>"),
        422,
        "validation_error",
    )
    assert error["details"][0]["field"] == "purpose"
    assert_nothing_stored()


def test_nothing_left_in_storage_after_refusals(client, user, bearer, settings):
    settings.UPLOAD_MAX_BYTES = 100
    upload(client, bearer(user), b"x" * 500)
    upload(client, bearer(user), documents.ELF_HEADER)
    upload(client, bearer(user), b"")
    assert stored_keys() == []
