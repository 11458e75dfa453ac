"""The fake OpenAI server on the wire: what tests, `make run` and workers in other processes rely on."""

import json
import subprocess
import sys
import time

import httpx2
import jsonschema
import pytest

from tests.fakes.openai_replies import sample
from tests.foundation.runner import REPO


def post(fake, path, body, **kwargs):
    return httpx2.post(f"{fake.base_url.removesuffix('/v1')}{path}", json=body, timeout=5, **kwargs)


def test_chat_reply_has_usage_request_id_and_echoes_the_model(fake_openai):
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "one two three four"}]}

    response = post(fake_openai, "/v1/chat/completions", body)

    assert response.status_code == 200
    assert response.headers["x-request-id"].startswith("req_")
    reply = response.json()
    assert reply["object"] == "chat.completion"
    assert reply["model"] == "gpt-4o-mini"
    assert reply["id"].startswith("chatcmpl-")
    text = reply["choices"][0]["message"]["content"]
    assert text == "Local stand-in reply: I read 4 words, starting with: 'one two three four'."
    assert reply["usage"]["prompt_tokens"] == 5  # 18 characters / 4, rounded up
    assert reply["usage"]["completion_tokens"] == -(-len(text) // 4)
    assert reply["usage"]["total_tokens"] == 5 + reply["usage"]["completion_tokens"]
    recorded = fake_openai.requests
    assert [(r["method"], r["path"]) for r in recorded] == [("POST", "/v1/chat/completions")]
    assert recorded[0]["body"] == body


def test_responses_reply_and_models_list(fake_openai):
    response = post(fake_openai, "/v1/responses", {"model": "fake-model", "input": "hello there"})
    reply = response.json()
    assert reply["object"] == "response" and reply["status"] == "completed"
    assert reply["id"].startswith("resp_")
    assert reply["output"][0]["content"][0]["type"] == "output_text"
    assert reply["usage"]["input_tokens"] == 3
    assert reply["usage"]["output_tokens_details"] == {"reasoning_tokens": 0}

    models = httpx2.get(f"{fake_openai.base_url}/models", timeout=5).json()
    assert [m["id"] for m in models["data"]] == ["fake-model", "fake-vision-model", "gpt-4o-mini"]


def test_another_process_scripts_it_over_http_and_reads_what_it_received(fake_openai):
    queued = post(
        fake_openai, "/_fake/script", [{"status": 429, "retry_after": 3}, {"status": 503}]
    )
    assert queued.json() == {"queued": 2}
    body = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}

    first = post(fake_openai, "/v1/chat/completions", body)
    second = post(fake_openai, "/v1/chat/completions", body)
    third = post(fake_openai, "/v1/chat/completions", body)

    assert (first.status_code, first.headers["retry-after"]) == (429, "3")
    assert first.json()["error"]["code"] == "rate_limit_exceeded"
    assert second.status_code == 503
    assert third.status_code == 200  # the queue is spent: back to the default
    seen = httpx2.get(f"{fake_openai.base_url.removesuffix('/v1')}/_fake/requests", timeout=5)
    assert [r["path"] for r in seen.json()] == ["/v1/chat/completions"] * 3
    post(fake_openai, "/_fake/reset", {})
    assert fake_openai.requests == []


def test_an_outage_set_over_http_answers_every_request_and_the_models_probe_until_lifted(
    fake_openai,
):
    body = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
    models = f"{fake_openai.base_url}/models"

    assert post(fake_openai, "/_fake/default", {"status": 503, "retry_after": 1}).status_code == 200
    first = post(fake_openai, "/v1/chat/completions", body)
    second = post(fake_openai, "/v1/chat/completions", body)
    probe = httpx2.get(models, timeout=5)
    assert [first.status_code, second.status_code, probe.status_code] == [503, 503, 503]
    assert first.headers["retry-after"] == "1"

    post(fake_openai, "/_fake/default", {"drop": True})
    with pytest.raises(httpx2.TransportError):
        post(fake_openai, "/v1/chat/completions", body)
    with pytest.raises(httpx2.TransportError):
        httpx2.get(models, timeout=5)

    post(fake_openai, "/_fake/default", {})  # the start-up default again
    assert post(fake_openai, "/v1/chat/completions", body).status_code == 200
    assert httpx2.get(models, timeout=5).status_code == 200
    assert post(fake_openai, "/_fake/default", {"stauts": 503}).status_code == 400


def test_an_unknown_behaviour_is_refused_not_ignored(fake_openai):
    response = post(fake_openai, "/_fake/script", {"statsu": 500})
    assert response.status_code == 400
    assert "statsu" in response.json()["error"]["message"]


def test_a_marker_in_the_input_scripts_that_request(fake_openai):
    body = {
        "model": "m",
        "input": [
            {"role": "user", "content": "x [[fake:status=400,error_code=context_length_exceeded]]"}
        ],
    }
    response = post(fake_openai, "/v1/responses", body)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "context_length_exceeded"


def test_a_required_key_is_enforced(fake_openai):
    fake_openai.required_key = "right"
    body = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
    wrong = post(
        fake_openai, "/v1/chat/completions", body, headers={"Authorization": "Bearer nope"}
    )
    right = post(
        fake_openai, "/v1/chat/completions", body, headers={"Authorization": "Bearer right"}
    )
    assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "invalid_api_key"
    assert right.status_code == 200


def test_slow_drip_sends_headers_first_then_the_body_slowly(fake_openai):
    fake_openai.script(drip=0.1)
    started = time.monotonic()
    with httpx2.stream(
        "POST",
        f"{fake_openai.base_url}/chat/completions",
        json={"model": "m", "messages": [{"role": "user", "content": "hi"}]},
        timeout=5,
    ) as response:
        headers_at = time.monotonic()
        body = response.read()
    # The headers came first, then the body took its ten 100 ms slices (load only adds time).
    assert time.monotonic() - headers_at >= 0.9
    assert headers_at - started < time.monotonic() - headers_at
    assert json.loads(body)["object"] == "chat.completion"


@pytest.mark.parametrize(
    "schema",
    [
        {
            "type": "object",
            "properties": {
                "a": {"type": "string", "minLength": 12},
                "n": {"type": "integer", "minimum": 5},
            },
            "required": ["a", "n"],
        },
        {
            "type": "object",
            "properties": {
                "tags": {"type": "array", "items": {"enum": ["x", "y"]}, "minItems": 2},
                "ok": {"type": "boolean"},
                "score": {"type": "number"},
            },
        },
        {
            "type": "object",
            "properties": {
                "maybe": {"type": ["null", "string"]},
                "pick": {"anyOf": [{"type": "integer"}, {"type": "string"}]},
                "fixed": {"const": 3},
            },
        },
    ],
)
def test_structured_replies_satisfy_the_requested_schema(schema):
    jsonschema.Draft202012Validator(schema).validate(sample(schema))


def test_it_runs_as_a_standalone_process():
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.openai_server", "--port", "0", "--latency", "0.2"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        banner = process.stdout.readline()
        assert "made-up replies, not a model" in banner
        base_url = banner.split("listening on ")[1].split()[0]
        started = time.monotonic()
        reply = httpx2.post(
            f"{base_url}/chat/completions",
            json={"model": "m", "messages": [{"role": "user", "content": "hi"}]},
            timeout=5,
        )
        assert time.monotonic() - started >= 0.2
        assert reply.json()["choices"][0]["message"]["content"].startswith("Local stand-in reply")
    finally:
        process.terminate()
        assert process.wait(timeout=5) == 0
        process.stdout.close()
        process.stderr.close()


def test_a_mistyped_marker_is_answered_with_a_400_saying_so(fake_openai):
    body = {"model": "m", "messages": [{"role": "user", "content": "[[fake:stauts=500]]"}]}
    response = post(fake_openai, "/v1/chat/completions", body)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "fake_marker_invalid"
    assert "stauts" in response.json()["error"]["message"]
