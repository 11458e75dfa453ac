"""Input files: their text reaches the template, only your ready files, and in-use files stay."""

from analyses.models import Analysis
from tests.support.analyses_factories import (
    FILES_MESSAGES,
    FILES_SCHEMA,
    file_create,
    prompt_create,
)
from tests.support.factories import UserFactory
from tests.support.http import assert_error, delete, get


def _files_prompt():
    return prompt_create(slug="compare", variables_schema=FILES_SCHEMA, messages=FILES_MESSAGES)


def test_file_text_reaches_the_template_and_the_snapshot_is_kept(
    client, caller, submit, fake_openai, run_tasks
):
    _files_prompt()
    one = file_create(owner=caller[0], text="Alpha report.", name="a.txt")
    two = file_create(owner=caller[0], text="Beta report.", name="b.txt")

    response = submit(prompt="compare", variables={}, file_ids=[str(two.pk), str(one.pk)])
    assert response.status_code == 202, response.content
    body = response.json()
    assert [f["id"] for f in body["input_files"]] == [str(two.pk), str(one.pk)]
    assert body["input_files"][0]["sha256"] == two.sha256
    assert body["messages"][1]["content"] == "[b.txt] Beta report.\n[a.txt] Alpha report.\n"
    assert set(Analysis.objects.get(pk=body["id"]).files.all()) == {one, two}
    run_tasks()
    assert get(client, f"/analyses/{body['id']}", **caller[1]).json()["status"] == "succeeded"


def test_files_that_are_not_yours_or_not_ready_are_refused(caller, submit):
    _files_prompt()
    foreign = file_create(owner=UserFactory(), text="theirs")
    pending = file_create(owner=caller[0], text="", status="processing")

    error = assert_error(
        submit(prompt="compare", variables={}, file_ids=[str(foreign.pk)]), 404, "file_not_found"
    )
    assert str(foreign.pk) in str(error["details"])
    assert_error(
        submit(prompt="compare", variables={}, file_ids=[str(pending.pk)]), 409, "file_not_ready"
    )
    assert Analysis.objects.count() == 0


def test_a_file_used_by_a_queued_analysis_cannot_be_deleted(
    client, caller, submit, fake_openai, run_tasks
):
    from files.models import File

    _files_prompt()
    used = file_create(owner=caller[0], text="Alpha.")
    submit(prompt="compare", variables={}, file_ids=[str(used.pk)])

    error = assert_error(delete(client, f"/files/{used.pk}", **caller[1]), 409, "file_in_use")
    assert error["details"]["file_id"] == str(used.pk)
    assert File.objects.filter(pk=used.pk).exists()

    run_tasks()  # finished: the file may go now
    assert delete(client, f"/files/{used.pk}", **caller[1]).status_code == 204
    assert not File.objects.filter(pk=used.pk).exists()


def test_an_image_goes_to_the_model_as_an_image(client, caller, submit, fake_openai, run_tasks):
    import io

    from PIL import Image

    from files.models import File
    from tests.support import files_factories

    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), "red").save(buffer, format="PNG")
    image = files_factories.file_create(
        owner=caller[0], data=buffer.getvalue(), name="red.png", content_type="image/png"
    )
    File.objects.filter(pk=image.pk).update(status="ready")  # extraction is not the point here
    _files_prompt()

    response = submit(prompt="compare", variables={}, file_ids=[str(image.pk)])
    assert response.status_code == 202, response.content
    assert response.json()["input_files"][0]["content_type"] == "image/png"
    run_tasks()

    done = get(client, f"/analyses/{response.json()['id']}", **caller[1]).json()
    assert done["status"] == "succeeded", done
    [sent] = [r for r in fake_openai.requests if r["path"] == "/v1/chat/completions"]
    parts = sent["body"]["messages"][-1]["content"]
    images = [p for p in parts if isinstance(p, dict) and p.get("type") == "image_url"]
    assert len(images) == 1
    assert images[0]["image_url"]["url"].startswith("data:image/png;base64,")
