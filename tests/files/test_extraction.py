"""Processing: every state (uploaded, processing, ready, failed), the caps against hostile
documents, and recovery of an attempt whose worker died."""

from datetime import timedelta

import pytest
from django.utils import timezone

from files.models import File, FileStatus
from tests.files import documents
from tests.files.helpers import upload
from tests.support.http import assert_error, get

pytestmark = pytest.mark.django_db


def _uploaded(client, user, bearer, data, **kwargs) -> str:
    response = upload(client, bearer(user), data, **kwargs)
    assert response.status_code == 201, response.content
    return response.json()["id"]


def _state(client, user, bearer, file_id) -> dict:
    return get(client, f"/files/{file_id}", **bearer(user)).json()


def test_uploaded_state_until_the_worker_runs(client, user, bearer):
    file_id = _uploaded(client, user, bearer, b"waiting for the worker\n")
    assert _state(client, user, bearer, file_id)["status"] == "uploaded"
    error = assert_error(
        get(client, f"/files/{file_id}/text", **bearer(user)), 409, "file_not_ready"
    )
    assert error["details"]["status"] == "uploaded"


def test_zip_bomb_docx_fails_before_inflating(
    client, user, bearer, run_tasks, audit_events, settings
):
    settings.FILES_DOCX_MAX_UNCOMPRESSED = 50 * 1024 * 1024
    bomb = documents.docx(["innocent"], padding=("word/media/padding.bin", 200 * 1024 * 1024))
    assert len(bomb) < 1024 * 1024  # 200 MiB of zeros compress to a fraction of a megabyte
    file_id = _uploaded(
        client, user, bearer, bomb, name="bomb.docx", content_type=documents.DOCX_TYPE
    )

    run_tasks()

    state = _state(client, user, bearer, file_id)
    assert state["status"] == "failed" and state["error_code"] == "zip_bomb"
    [event] = audit_events(action="file.extraction_failed")
    assert event.entity_id == file_id and event.details["error_code"] == "zip_bomb"


def test_high_ratio_docx_under_the_size_cap_is_still_a_bomb(client, user, bearer, run_tasks):
    bomb = documents.docx(["innocent"], padding=("word/media/padding.bin", 20 * 1024 * 1024))
    file_id = _uploaded(
        client, user, bearer, bomb, name="ratio.docx", content_type=documents.DOCX_TYPE
    )
    run_tasks()
    assert _state(client, user, bearer, file_id)["error_code"] == "zip_bomb"


def test_pdf_with_100000_pages_is_capped(client, user, bearer, run_tasks, settings):
    settings.FILES_EXTRACT_MAX_PAGES = 50
    file_id = _uploaded(
        client,
        user,
        bearer,
        documents.pdf_many_pages(100_000),
        name="huge.pdf",
        content_type="application/pdf",
    )

    run_tasks()

    state = _state(client, user, bearer, file_id)
    assert state["status"] == "ready", state
    assert state["page_count"] == 100_000
    assert state["truncated"] is True
    text = get(client, f"/files/{file_id}/text", **bearer(user)).json()
    assert text["text"].count("same page") == 50


def test_truncated_pdf_fails_cleanly(client, user, bearer, run_tasks):
    whole = documents.pdf_text("will be cut")
    file_id = _uploaded(
        client,
        user,
        bearer,
        whole[: len(whole) // 3],
        name="cut.pdf",
        content_type="application/pdf",
    )
    run_tasks()
    state = _state(client, user, bearer, file_id)
    assert state["status"] == "failed" and state["error_code"] == "pdf_unreadable"
    assert state["error_message"].startswith("The PDF cannot be read")


def test_extracted_text_is_capped_and_the_cut_recorded(client, user, bearer, run_tasks, settings):
    settings.FILES_TEXT_MAX_CHARS = 1000
    file_id = _uploaded(client, user, bearer, b"0123456789" * 500)
    run_tasks()
    state = _state(client, user, bearer, file_id)
    assert (state["status"], state["text_chars"], state["truncated"]) == ("ready", 1000, True)


def test_invalid_json_fails(client, user, bearer, run_tasks):
    file_id = _uploaded(
        client, user, bearer, b'{"open": [1, 2', name="broken.json", content_type="application/json"
    )
    run_tasks()
    state = _state(client, user, bearer, file_id)
    assert state["status"] == "failed" and state["error_code"] == "invalid_json"


def test_image_dimensions_and_pixel_cap(client, user, bearer, run_tasks, settings):
    settings.FILES_IMAGE_MAX_PIXELS = 100
    small = _uploaded(
        client, user, bearer, documents.png(4, 3), name="small.png", content_type="image/png"
    )
    big = _uploaded(
        client, user, bearer, documents.png(300, 300), name="big.png", content_type="image/png"
    )
    run_tasks()
    state = _state(client, user, bearer, small)
    assert (state["status"], state["width"], state["height"], state["text_chars"]) == (
        "ready",
        4,
        3,
        0,
    )
    assert (state["page_count"], state["truncated"]) == (None, False)
    big_state = _state(client, user, bearer, big)
    assert (big_state["status"], big_state["error_code"]) == ("failed", "image_too_large")


def test_time_cap_kills_the_extractor(client, user, bearer, run_tasks, settings):
    settings.FILES_EXTRACT_TIMEOUT = 0.001  # no child answers that fast: the cap is what is tested
    file_id = _uploaded(
        client,
        user,
        bearer,
        documents.pdf_text("slow"),
        name="slow.pdf",
        content_type="application/pdf",
    )
    run_tasks()
    state = _state(client, user, bearer, file_id)
    assert state["status"] == "failed" and state["error_code"] == "extraction_timeout"


def test_processing_left_by_a_dead_worker_is_swept_and_finished(
    client, user, bearer, run_tasks, settings
):
    file_id = _uploaded(client, user, bearer, b"the worker died while extracting me\n")
    # What a worker killed mid-extraction leaves behind: processing, its task consumed.
    from django_tasks_db.models import DBTaskResult

    DBTaskResult.objects.all().delete()
    File.objects.filter(pk=file_id).update(
        status=FileStatus.PROCESSING,
        attempts=1,
        processing_started_at=timezone.now() - timedelta(minutes=5),
    )
    from files.processing import file_extract_run, files_stuck_requeue

    assert files_stuck_requeue() == 0  # not stale yet: a live attempt may still hold it
    assert file_extract_run(file_id=file_id) is None  # and a second runner leaves it alone
    File.objects.filter(pk=file_id).update(
        processing_started_at=timezone.now() - timedelta(seconds=settings.FILES_STUCK_AFTER + 1)
    )

    assert files_stuck_requeue() == 1
    run_tasks()

    state = _state(client, user, bearer, file_id)
    assert state["status"] == "ready"
    assert File.objects.get(pk=file_id).attempts == 2


def test_attempt_budget_ends_in_failed(client, user, bearer, run_tasks, settings, audit_events):
    file_id = _uploaded(client, user, bearer, b"keeps killing workers\n")
    File.objects.filter(pk=file_id).update(
        status=FileStatus.PROCESSING,
        attempts=settings.FILES_EXTRACT_MAX_ATTEMPTS,
        processing_started_at=timezone.now() - timedelta(days=1),
    )
    run_tasks()
    state = _state(client, user, bearer, file_id)
    assert state["status"] == "failed" and state["error_code"] == "extraction_abandoned"
    assert (
        audit_events(action="file.extraction_failed")[0].details["error_code"]
        == "extraction_abandoned"
    )


def test_extraction_runs_once_even_when_enqueued_twice(client, user, bearer, run_tasks):
    from core.context import enqueue
    from files.tasks import file_extract

    file_id = _uploaded(client, user, bearer, b"twice enqueued\n")
    enqueue(file_extract, file_id)
    run_tasks()
    file = File.objects.get(pk=file_id)
    assert file.status == FileStatus.READY and file.attempts == 1


def test_periodic_sweeper_is_registered():
    from core.tasks import periodic_tasks

    assert "files.tasks.files_stuck_sweep" in [task.name for task in periodic_tasks()]
