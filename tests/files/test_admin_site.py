"""The back office for files: list with filters, detail with a text preview, no add or edit,
deletion through the service (audited, blob removed after commit, vetoes respected)."""

import pytest
from django.db.models.signals import pre_delete

from core.errors import Conflict
from files.models import ExtractedText, File, FileStatus
from tests.files.helpers import stored_keys
from tests.support.factories import UserFactory
from tests.support.files_factories import file_create

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/files/file/"


def test_changelist_filters_by_status_type_and_owner(admin_client):
    alice, bob = UserFactory(email="alice@example.com"), UserFactory(email="bob@example.com")
    ready = file_create(owner=alice, data=b"alice notes\n", name="alice-notes.txt")
    File.objects.filter(pk=ready.pk).update(status=FileStatus.READY)
    file_create(owner=bob, data=b'{"b": 1}', name="bob-data.json", content_type="application/json")

    page = admin_client.get(CHANGELIST).content.decode()
    assert "alice-notes.txt" in page and "bob-data.json" in page
    by_status = admin_client.get(CHANGELIST, {"status__exact": "ready"}).content.decode()
    assert "alice-notes.txt" in by_status and "bob-data.json" not in by_status
    by_type = admin_client.get(CHANGELIST, {"content_type": "application/json"}).content.decode()
    assert "bob-data.json" in by_type and "alice-notes.txt" not in by_type
    by_owner = admin_client.get(CHANGELIST, {"owner__id__exact": str(bob.pk)}).content.decode()
    assert "bob-data.json" in by_owner and "alice-notes.txt" not in by_owner
    assert (
        admin_client.get(CHANGELIST, {"q": "alice@"}).content.decode().count("alice-notes.txt") >= 1
    )


def test_detail_shows_metadata_and_a_text_preview_without_editing(admin_client):
    file = file_create(
        owner=UserFactory(), data=b"<script>alert(1)</script> preview me\n", name="x.txt"
    )
    ExtractedText.objects.create(file=file, text="<script>alert(1)</script> preview me")
    page = admin_client.get(f"{CHANGELIST}{file.pk}/change/").content.decode()
    assert file.sha256 in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; preview me" in page  # escaped, never markup
    assert "<script>alert(1)" not in page
    assert 'name="_save"' not in page  # read-only
    assert admin_client.get("/admin/files/file/add/").status_code == 403


def test_delete_through_the_admin_uses_the_service(
    admin_client, admin, audit_events, django_capture_on_commit_callbacks
):
    file = file_create(owner=UserFactory(), data=b"to be removed\n")
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(f"{CHANGELIST}{file.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not File.objects.filter(pk=file.pk).exists()
    assert stored_keys() == []
    [event] = audit_events(action="file.deleted")
    assert event.actor_user_id == str(admin.pk) and event.source == "admin"


def test_bulk_delete_respects_a_veto(admin_client, django_capture_on_commit_callbacks):
    busy = file_create(owner=UserFactory(), data=b"in use\n", name="busy.txt")
    idle = file_create(owner=UserFactory(), data=b"idle\n", name="idle.txt")

    def in_use(sender, instance, **kwargs):
        if instance.pk == busy.pk:
            raise Conflict("An analysis is using this file.", code="file_in_use")

    pre_delete.connect(in_use, sender=File, dispatch_uid="admin-veto")
    try:
        with django_capture_on_commit_callbacks(execute=True):
            response = admin_client.post(
                CHANGELIST,
                {
                    "action": "delete_selected",
                    "_selected_action": [str(busy.pk), str(idle.pk)],
                    "post": "yes",
                },
                follow=True,
            )
    finally:
        pre_delete.disconnect(dispatch_uid="admin-veto", sender=File)
    shown = [str(message) for message in response.context["messages"]]
    assert "busy.txt: not deleted (An analysis is using this file.)" in shown
    assert list(File.objects.values_list("name", flat=True)) == ["busy.txt"]
    assert stored_keys() == [busy.storage_key]
