"""Listing, metadata, content (ETag, conditional GET, ranges, Content-Disposition), text slices,
and deletion (blob after commit; vetoed by another app while in use)."""

import hashlib

import pytest
from django.db.models.signals import pre_delete

from core.errors import Conflict
from files.models import File
from tests.files.helpers import stored_keys
from tests.support.factories import AdminFactory, StaffFactory, UserFactory
from tests.support.files_factories import file_create
from tests.support.http import assert_error, delete, get

pytestmark = pytest.mark.django_db

DATA = bytes(range(256)) * 40  # 10,240 bytes that are not text
TEXT = ("The quick brown fox. " * 100).encode()


def test_list_is_own_files_newest_first_with_filters_and_pages(client, user, bearer):
    other = UserFactory()
    file_create(owner=other, data=b"theirs\n", name="theirs.txt")
    older = file_create(owner=user, data=b"first\n", name="Budget 2025.txt", purpose="finance")
    newer = file_create(
        owner=user, data=b'{"a": 1}', name="data.json", content_type="application/json"
    )
    File.objects.filter(pk=newer.pk).update(status="ready")

    page = get(client, "/files", **bearer(user)).json()
    assert page["count"] == 2 and [item["id"] for item in page["items"]] == [
        str(newer.pk),
        str(older.pk),
    ]
    assert get(client, "/files?q=budget", **bearer(user)).json()["items"][0]["id"] == str(older.pk)
    assert get(client, "/files?purpose=finance", **bearer(user)).json()["count"] == 1
    assert get(client, "/files?status=ready", **bearer(user)).json()["items"][0]["id"] == str(
        newer.pk
    )
    assert get(client, "/files?content_type=application/json", **bearer(user)).json()["count"] == 1
    assert get(client, "/files?page_size=1&page=2", **bearer(user)).json()["items"][0]["id"] == str(
        older.pk
    )
    assert_error(get(client, "/files?status=bogus", **bearer(user)), 422, "validation_error")


def test_staff_list_everyone(client, user, bearer):
    file_create(owner=user, data=b"mine\n")
    file_create(owner=UserFactory(), data=b"theirs\n")
    assert get(client, "/files", **bearer(StaffFactory())).json()["count"] == 2


def test_metadata_fields(client, user, bearer):
    file = file_create(owner=user, data=TEXT, name="fox.txt", purpose="demo")
    body = get(client, f"/files/{file.pk}", **bearer(user)).json()
    assert body | {"created_at": None, "updated_at": None} == {
        "id": str(file.pk),
        "name": "fox.txt",
        "size": len(TEXT),
        "content_type": "text/plain",
        "sha256": hashlib.sha256(TEXT).hexdigest(),
        "purpose": "demo",
        "status": "uploaded",
        "error_code": "",
        "error_message": "",
        "page_count": None,
        "text_chars": None,
        "truncated": False,
        "width": None,
        "height": None,
        "owner_id": str(user.pk),
        "created_at": None,
        "updated_at": None,
    }


def test_other_users_file_is_404_everywhere(client, user, bearer):
    file = file_create(owner=UserFactory(), data=b"private\n")
    for path in (f"/files/{file.pk}", f"/files/{file.pk}/content", f"/files/{file.pk}/text"):
        assert_error(get(client, path, **bearer(user)), 404, "not_found")
    assert_error(delete(client, f"/files/{file.pk}", **bearer(user)), 404, "not_found")
    assert File.objects.filter(pk=file.pk).exists()


def test_content_streams_with_safe_headers(client, user, bearer, audit_events):
    file = file_create(owner=user, data=TEXT, name="Résumé \u2013 final.txt")
    response = client.get(f"/api/v1/files/{file.pk}/content", **bearer(user))
    assert response.status_code == 200 and response.streaming
    assert b"".join(response.streaming_content) == TEXT
    assert response["Content-Type"] == "text/plain"
    assert response["Content-Length"] == str(len(TEXT))
    assert response["ETag"] == f'"{file.sha256}"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Accept-Ranges"] == "bytes"
    assert response["Content-Disposition"] == (
        "attachment; filename=\"Resume _ final.txt\"; filename*=UTF-8''R%C3%A9sum%C3%A9%20%E2%80%93%20final.txt"
    )
    assert audit_events(action="file.downloaded") == []  # the owner's own download is not audited


def test_conditional_get(client, user, bearer):
    file = file_create(owner=user, data=TEXT)
    response = client.get(
        f"/api/v1/files/{file.pk}/content", HTTP_IF_NONE_MATCH=f'"{file.sha256}"', **bearer(user)
    )
    assert response.status_code == 304 and response.content == b""
    assert response["ETag"] == f'"{file.sha256}"'
    changed = client.get(
        f"/api/v1/files/{file.pk}/content", HTTP_IF_NONE_MATCH='"other"', **bearer(user)
    )
    assert changed.status_code == 200


@pytest.mark.parametrize(
    ("header", "start", "end"),
    [
        ("bytes=0-99", 0, 99),
        ("bytes=10000-", 10000, 10239),
        ("bytes=-40", 10200, 10239),
        ("bytes=10200-99999", 10200, 10239),
    ],
)
def test_single_range(client, user, bearer, header, start, end):
    file = File.objects.create(
        owner=user,
        storage_key="files/x/" + "a" * 32,
        name="b.bin",
        size=len(DATA),
        content_type="application/octet-stream",
        sha256="0" * 64,
    )
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    default_storage.save(file.storage_key, ContentFile(DATA))
    response = client.get(f"/api/v1/files/{file.pk}/content", HTTP_RANGE=header, **bearer(user))
    assert response.status_code == 206
    assert b"".join(response.streaming_content) == DATA[start : end + 1]
    assert response["Content-Range"] == f"bytes {start}-{end}/{len(DATA)}"
    assert response["Content-Length"] == str(end - start + 1)


def test_unsatisfiable_and_ignored_ranges(client, user, bearer):
    file = file_create(owner=user, data=TEXT)
    error = assert_error(
        client.get(f"/api/v1/files/{file.pk}/content", HTTP_RANGE="bytes=99999-", **bearer(user)),
        416,
        "range_not_satisfiable",
    )
    assert "bytes" in error["message"]
    response = client.get(
        f"/api/v1/files/{file.pk}/content", HTTP_RANGE="bytes=99999-", **bearer(user)
    )
    assert response["Content-Range"] == f"bytes */{len(TEXT)}"
    several = client.get(
        f"/api/v1/files/{file.pk}/content", HTTP_RANGE="bytes=0-1,5-6", **bearer(user)
    )
    assert several.status_code == 200 and b"".join(several.streaming_content) == TEXT
    stale = client.get(
        f"/api/v1/files/{file.pk}/content",
        HTTP_RANGE="bytes=0-1",
        HTTP_IF_RANGE='"old"',
        **bearer(user),
    )
    assert stale.status_code == 200


def test_staff_download_of_a_users_file_is_audited(client, user, bearer, audit_events):
    file = file_create(owner=user, data=TEXT)
    staff = StaffFactory()
    response = client.get(f"/api/v1/files/{file.pk}/content", **bearer(staff))
    assert response.status_code == 200 and b"".join(response.streaming_content) == TEXT
    [event] = audit_events(action="file.downloaded")
    assert event.actor_user_id == str(staff.pk) and event.entity_id == str(file.pk)
    assert event.details["owner_id"] == str(user.pk)


def test_text_in_slices(client, user, bearer, run_tasks):
    file = file_create(owner=user, data=TEXT)
    run_tasks()
    first = get(client, f"/files/{file.pk}/text?offset=0&limit=1000", **bearer(user)).json()
    assert first["total_chars"] == len(TEXT) and first["text"] == TEXT.decode()[:1000]
    assert first["next_offset"] == 1000
    last = get(client, f"/files/{file.pk}/text?offset=2000&limit=1000", **bearer(user)).json()
    assert last["text"] == TEXT.decode()[2000:] and last["next_offset"] is None
    beyond = get(client, f"/files/{file.pk}/text?offset=999999", **bearer(user)).json()
    assert beyond["text"] == "" and beyond["next_offset"] is None
    assert_error(
        get(client, f"/files/{file.pk}/text?limit=0", **bearer(user)), 422, "validation_error"
    )


def test_delete_removes_row_and_blob_and_is_audited(
    client, user, bearer, audit_events, django_capture_on_commit_callbacks
):
    file = file_create(owner=user, data=TEXT)
    assert stored_keys() == [file.storage_key]
    with django_capture_on_commit_callbacks() as callbacks:
        response = delete(client, f"/files/{file.pk}", **bearer(user))
        assert response.status_code == 204
        assert not File.objects.filter(pk=file.pk).exists()
        assert stored_keys() == [file.storage_key]  # the blob waits for the commit
    for callback in callbacks:
        callback()
    assert stored_keys() == []
    [event] = audit_events(action="file.deleted")
    assert event.entity_id == str(file.pk) and event.details["sha256"] == file.sha256
    assert_error(get(client, f"/files/{file.pk}", **bearer(user)), 404, "not_found")


def test_delete_vetoed_by_another_app_keeps_row_and_blob(
    client, user, bearer, audit_events, django_capture_on_commit_callbacks
):
    """What analyses does while a queued or running analysis uses the file."""
    file = file_create(owner=user, data=TEXT)

    def in_use(sender, instance, **kwargs):
        raise Conflict("An analysis is using this file.", code="file_in_use")

    pre_delete.connect(in_use, sender=File, dispatch_uid="test-in-use")
    try:
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            assert_error(delete(client, f"/files/{file.pk}", **bearer(user)), 409, "file_in_use")
        assert callbacks == []
    finally:
        pre_delete.disconnect(dispatch_uid="test-in-use", sender=File)
    assert File.objects.filter(pk=file.pk).exists()
    assert stored_keys() == [file.storage_key]
    assert audit_events(action="file.deleted") == []  # rolled back with the delete


def test_staff_may_not_delete_others_files_admin_may(
    client, user, bearer, django_capture_on_commit_callbacks
):
    file = file_create(owner=user, data=TEXT)
    assert_error(
        delete(client, f"/files/{file.pk}", **bearer(StaffFactory())), 403, "permission_denied"
    )
    assert File.objects.filter(pk=file.pk).exists()
    with django_capture_on_commit_callbacks(execute=True):
        assert delete(client, f"/files/{file.pk}", **bearer(AdminFactory())).status_code == 204
    assert stored_keys() == []


def test_a_row_whose_bytes_are_gone_is_a_clear_404(client, user, bearer):
    from django.core.files.storage import default_storage

    file = file_create(owner=user, data=TEXT)
    default_storage.delete(file.storage_key)
    error = assert_error(
        client.get(f"/api/v1/files/{file.pk}/content", **bearer(user)), 404, "blob_missing"
    )
    assert "missing" in error["message"]


def test_erasing_a_user_in_the_admin_takes_their_files_and_blobs(
    admin_client, audit_events, django_capture_on_commit_callbacks
):
    """A hard delete (erasure request) cascades to the person's files; their bytes go too, once
    the deletion commits, and another person's file stays."""
    erased, kept = UserFactory(), UserFactory()
    erased_files = [
        file_create(owner=erased, data=TEXT),
        file_create(owner=erased, data=b"notes\n"),
    ]
    kept_file = file_create(owner=kept, data=TEXT)
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            f"/admin/accounts/user/{erased.pk}/delete/", {"post": "yes"}, follow=True
        )
    assert response.status_code == 200
    assert not File.objects.filter(owner_id=erased.pk).exists()
    assert list(File.objects.values_list("pk", flat=True)) == [kept_file.pk]
    assert stored_keys() == [kept_file.storage_key]
    assert all(file.storage_key not in stored_keys() for file in erased_files)
    [event] = audit_events(action="user.deleted")
    assert event.entity_id == str(erased.pk)
