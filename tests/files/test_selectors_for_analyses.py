"""The reads the analyses app builds on (the cross-app contract): files in the order asked,
refusals naming the offending ids, the text and the bytes."""

import uuid

import pytest

from core.errors import Conflict, NotFound
from files.models import File, FileStatus
from files.selectors import file_bytes, file_text, files_for_analysis
from tests.files import documents
from tests.support.factories import UserFactory
from tests.support.files_factories import file_create

pytestmark = pytest.mark.django_db


def test_ready_files_in_the_order_given_with_their_text_and_bytes(user, run_tasks):
    first = file_create(owner=user, data=b"first text\n", name="1.txt")
    image = file_create(
        owner=user, data=documents.png(2, 2), name="2.png", content_type="image/png"
    )
    run_tasks()

    files = files_for_analysis(user=user, file_ids=[image.pk, first.pk])

    assert [f.pk for f in files] == [image.pk, first.pk]
    assert file_text(file=files[1]) == "first text\n"
    assert file_text(file=files[0]) == ""
    assert file_bytes(file=files[0]) == documents.png(2, 2)


def test_missing_or_foreign_ids_are_named(user):
    mine = file_create(owner=user, data=b"mine\n")
    File.objects.filter(pk=mine.pk).update(status=FileStatus.READY)
    theirs = file_create(owner=UserFactory(), data=b"theirs\n")
    unknown = uuid.uuid4()
    with pytest.raises(NotFound) as refused:
        files_for_analysis(user=user, file_ids=[mine.pk, theirs.pk, unknown])
    assert refused.value.code == "file_not_found"
    assert refused.value.details == {"file_ids": [str(theirs.pk), str(unknown)]}


def test_a_file_not_ready_is_a_conflict_naming_it(user):
    waiting = file_create(owner=user, data=b"waiting\n")
    with pytest.raises(Conflict) as refused:
        files_for_analysis(user=user, file_ids=[waiting.pk])
    assert refused.value.code == "file_not_ready"
    assert refused.value.details == {"files": [{"id": str(waiting.pk), "status": "uploaded"}]}
