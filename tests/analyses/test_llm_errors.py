"""Every LLM failure, produced by the real fake server and the real SDK, classified once."""

import pickle
import socket

import pytest

from analyses import llm
from tests.conftest import FAKE_OPENAI_KEY

STYLES = ["chat", "responses"]
MESSAGES = [{"role": "user", "content": "Review this."}]
SCHEMA = {
    "type": "object",
    "properties": {"verdict": {"enum": ["ok", "risky"]}},
    "required": ["verdict"],
}


def failure(**call) -> llm.LLMError:
    with pytest.raises(llm.LLMError) as caught:
        llm.llm_call(**{"model": "fake-model", "messages": MESSAGES, **call})
    return caught.value


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize(
    ("behaviour", "code", "retryable", "upstream_code"),
    [
        ({"status": 401}, "llm_auth_failed", False, "invalid_api_key"),
        ({"status": 403}, "llm_permission_denied", False, None),
        ({"status": 404}, "llm_not_found", False, "model_not_found"),
        (
            {"status": 400, "error_code": "context_length_exceeded"},
            "llm_context_too_long",
            False,
            "context_length_exceeded",
        ),
        ({"status": 400}, "llm_bad_request", False, "invalid_value"),
        (
            {"status": 400, "error_code": "content_policy_violation"},
            "llm_refused",
            False,
            "content_policy_violation",
        ),
        ({"status": 422}, "llm_bad_request", False, None),
        ({"status": 429, "retry_after": 7}, "llm_rate_limited", True, "rate_limit_exceeded"),
        (
            {"status": 429, "error_code": "insufficient_quota"},
            "llm_rate_limited",
            False,
            "insufficient_quota",
        ),
        ({"status": 500}, "llm_unavailable", True, None),
        ({"status": 503, "retry_after": 1}, "llm_unavailable", True, None),
        ({"status": 408}, "llm_timeout", True, None),
    ],
)
def test_http_errors_are_classified_by_status_and_code(
    fake_openai, style, behaviour, code, retryable, upstream_code
):
    fake_openai.script(**behaviour)

    error = failure(api_style=style)

    assert (error.code, error.retryable) == (code, retryable)
    assert error.retryable is llm.RETRYABLE[code] or code == "llm_rate_limited"
    assert error.upstream_status == behaviour["status"]
    assert error.upstream_code == upstream_code
    assert error.upstream_request_id.startswith("req_")
    assert error.retry_after == behaviour.get("retry_after")
    assert error.result is None
    assert error.latency_ms is not None
    # One request: the SDK's retry loop is off, whatever the status.
    assert len(fake_openai.requests) == 1


def test_the_context_length_error_is_found_by_its_code_not_its_wording(fake_openai):
    fake_openai.script(status=400, error_code="context_length_exceeded", text="irrelevant")
    assert failure().code == "llm_context_too_long"
    # The same wording under another code is a plain bad request.
    fake_openai.script(status=400, error_code="invalid_value")
    assert failure().code == "llm_bad_request"


@pytest.mark.parametrize("style", STYLES)
def test_a_dropped_connection_is_unavailable_and_retryable(fake_openai, style):
    fake_openai.script(drop=True)
    error = failure(api_style=style)
    assert (error.code, error.retryable, error.upstream_status) == ("llm_unavailable", True, None)
    assert len(fake_openai.requests) == 1


@pytest.mark.parametrize("style", STYLES)
def test_malformed_json_is_the_server_unavailable_not_the_model_output(fake_openai, style):
    fake_openai.script(malformed=True)
    error = failure(api_style=style, output_schema=SCHEMA)
    assert (error.code, error.retryable) == ("llm_unavailable", True)
    assert error.message == "the LLM server sent a malformed reply"
    assert error.upstream_status == 200
    assert error.upstream_request_id.startswith("req_")


@pytest.mark.parametrize("style", STYLES)
def test_a_slow_drip_hits_the_whole_call_deadline(fake_openai, settings, style):
    # Each slice arrives well within any per-read timeout; only a whole-call deadline stops it.
    settings.OPENAI_TIMEOUT = 0.8
    fake_openai.script(drip=0.5)  # the whole body would take 5 s
    error = failure(api_style=style)
    assert (error.code, error.retryable) == ("llm_timeout", True)
    assert 750 <= error.latency_ms < 4000


def test_a_server_silent_past_the_timeout_is_a_timeout(fake_openai, settings):
    settings.OPENAI_TIMEOUT = 0.3
    fake_openai.script(latency=4.0)
    error = failure()
    assert (error.code, error.retryable) == ("llm_timeout", True)
    assert 250 <= error.latency_ms < 3500


def test_a_connection_that_cannot_be_made_in_time_is_a_timeout(fake_openai, settings):
    # A listener whose accept queue is full drops new SYNs: the connect hangs, as to a dead host.
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    fillers = []
    for _ in range(3):
        filler = socket.socket()
        filler.setblocking(False)
        filler.connect_ex(listener.getsockname())
        fillers.append(filler)
    settings.OPENAI_BASE_URL = f"http://127.0.0.1:{listener.getsockname()[1]}/v1"
    settings.OPENAI_CONNECT_TIMEOUT = 0.3
    try:
        error = failure()
    finally:
        for sock in [*fillers, listener]:
            sock.close()
    assert (error.code, error.retryable) == ("llm_timeout", True)
    assert 250 <= error.latency_ms < 3500


def test_a_closed_port_is_unavailable(fake_openai, settings):
    free = socket.socket()
    free.bind(("127.0.0.1", 0))
    settings.OPENAI_BASE_URL = f"http://127.0.0.1:{free.getsockname()[1]}/v1"
    free.close()
    error = failure()
    assert (error.code, error.retryable) == ("llm_unavailable", True)
    assert error.message == "could not reach the LLM server (ConnectError)"


@pytest.mark.parametrize("style", STYLES)
def test_a_refusal_is_refused_with_what_the_model_said(fake_openai, style):
    fake_openai.script(refusal="I can't help with that.", reasoning_tokens=2)
    error = failure(api_style=style)
    assert (error.code, error.retryable) == ("llm_refused", False)
    assert error.message == "the model refused: I can't help with that."
    assert error.result.refusal == "I can't help with that."
    assert error.result.usage.reasoning_tokens == 2  # spent tokens are still on record
    assert error.result.response_id


@pytest.mark.parametrize("style", STYLES)
def test_a_content_filter_stop_is_refused(fake_openai, style):
    fake_openai.script(finish_reason="content_filter")
    error = failure(api_style=style)
    assert (error.code, error.retryable) == ("llm_refused", False)
    assert error.result.finish_reason == "content_filter"


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize(
    ("invalid", "raw", "why"),
    [
        ("schema", "[]", "does not match the output schema at (root): [] is not of type 'object'"),
        (
            "not_json",
            "Sure! Here is what you asked for: {",
            "the reply is not JSON (Expecting value",
        ),
    ],
)
def test_invalid_structured_output_keeps_the_raw_text_and_says_why(
    fake_openai, style, invalid, raw, why
):
    fake_openai.script(invalid_output=invalid)
    error = failure(api_style=style, output_schema=SCHEMA)
    assert (error.code, error.retryable) == ("llm_output_invalid", False)
    assert why in error.message
    assert error.result.text == raw
    assert error.result.parsed_json is None
    assert error.result.usage.input_tokens > 0 and error.result.usage.output_tokens > 0
    assert error.result.latency_ms == error.latency_ms


def test_a_truncated_structured_reply_says_it_was_cut(fake_openai):
    fake_openai.script(text='{"verdict": "o', finish_reason="length")
    error = failure(output_schema=SCHEMA)
    assert error.code == "llm_output_invalid"
    assert error.message.startswith(
        "the reply was cut off at the token limit; the reply is not JSON"
    )


def test_not_configured_fails_without_any_network_call(fake_openai, settings):
    settings.OPENAI_API_KEY = ""
    assert llm.llm_configured() is False
    error = failure()
    assert (error.code, error.retryable) == ("llm_not_configured", False)
    assert error.message == "OPENAI_API_KEY is not set"
    assert fake_openai.requests == []


def test_a_marker_scripts_a_failure_from_the_prompt_itself(fake_openai):
    # How a worker in another process is driven: the rendered prompt carries the script.
    error = failure(messages=[{"role": "user", "content": "x [[fake:status=429,retry_after=2.5]]"}])
    assert (error.code, error.retry_after) == ("llm_rate_limited", 2.5)


def test_the_key_never_reaches_an_error_or_a_log_line(fake_openai, caplog):
    # The fake's 401 echoes the key it was sent, as some gateways do.
    caplog.set_level("DEBUG")
    fake_openai.script(status=401)
    error = failure()
    assert "Incorrect API key provided: [redacted]." in error.message
    for text in (str(error), repr(error), repr(error.as_dict()), caplog.text):
        assert FAKE_OPENAI_KEY not in text
    assert error.__suppress_context__ is True  # the SDK exception (which quotes it) is not chained
    assert "llm_auth_failed" in caplog.text


def test_retry_after_as_an_http_date_or_garbage(fake_openai):
    fake_openai.script(status=429, retry_after="Fri, 01 Jan 2100 00:00:00 GMT")
    far = failure()
    assert far.retry_after > 365 * 24 * 3600
    fake_openai.script(status=429, retry_after="soon")
    unknown = failure()
    assert (unknown.code, unknown.retryable, unknown.retry_after) == (
        "llm_rate_limited",
        True,
        None,
    )


def test_an_error_survives_pickling_with_its_fields(fake_openai):
    fake_openai.script(status=429, retry_after=4)
    error = failure()
    copy = pickle.loads(pickle.dumps(error))
    assert str(copy) == "llm_rate_limited: rate limited: Rate limit reached for requests."
    assert copy.as_dict() == error.as_dict()
    assert copy.retry_after == 4.0


@pytest.mark.parametrize("style", STYLES)
def test_an_html_page_instead_of_json_is_unavailable(fake_openai, style):
    fake_openai.script(malformed="html")
    error = failure(api_style=style)
    assert (error.code, error.retryable) == ("llm_unavailable", True)
    assert error.message == "the LLM server sent a reply that is not JSON"
    assert error.upstream_status == 200


@pytest.mark.parametrize(
    ("failed", "code", "retryable"),
    [
        ("server_error", "llm_unavailable", True),
        ("rate_limit_exceeded", "llm_rate_limited", True),
        ("invalid_prompt", "llm_bad_request", False),
    ],
)
def test_a_failed_response_is_classified_by_its_error_code(fake_openai, failed, code, retryable):
    fake_openai.script(failed=failed)
    error = failure(api_style="responses")
    assert (error.code, error.retryable, error.upstream_code) == (code, retryable, failed)
    assert error.message == f"the response failed ({failed}): The response failed."
