"""llm_call through the real SDK against the fake OpenAI server: what is sent, what is recorded."""

import base64

import pytest

from analyses import llm

STYLES = ["chat", "responses"]
PATHS = {"chat": "/v1/chat/completions", "responses": "/v1/responses"}
MESSAGES = [
    {"role": "system", "content": "You review contracts."},
    {"role": "user", "content": "Summarise clause four please."},
]
SCHEMA = {
    "type": "object",
    "properties": {
        "verdict": {"enum": ["ok", "risky"]},
        "score": {"type": "integer", "minimum": 0},
        "reasons": {"type": "array", "items": {"type": "string"}},
    },
    "required": ["verdict", "score"],
    "additionalProperties": False,
}


@pytest.mark.parametrize("style", STYLES)
def test_a_call_records_model_ids_finish_reason_usage_and_latency(fake_openai, style):
    fake_openai.script(
        model="gpt-4o-mini-2024-07-18", cached_tokens=3, reasoning_tokens=7, latency=0.05
    )

    result = llm.llm_call(model="gpt-4o-mini", messages=MESSAGES, api_style=style)

    assert result.api_style == style
    assert result.model == "gpt-4o-mini-2024-07-18"  # the model actually used, not the alias
    assert result.response_id.startswith("chatcmpl-" if style == "chat" else "resp_")
    assert result.upstream_request_id.startswith("req_")
    assert result.finish_reason == "stop"
    assert result.text == (
        "Local stand-in reply: I read 7 words, starting with: "
        "'You review contracts. Summarise clause four please.'."
    )
    input_chars = len("You review contracts.\nSummarise clause four please.")
    assert result.usage == llm.Usage(
        input_tokens=-(-input_chars // 4),
        cached_input_tokens=3,
        output_tokens=-(-len(result.text) // 4) + 7,
        reasoning_tokens=7,
    )
    assert 50 <= result.latency_ms < 5000  # the scripted 50 ms, and no runaway
    assert result.parsed_json is None and result.refusal is None
    [sent] = fake_openai.requests
    assert sent["path"] == PATHS[style]
    assert sent["body"]["model"] == "gpt-4o-mini"
    assert sent["headers"]["authorization"] == "Bearer sk-test-parecer-0123456789abcdefSECRET"
    assert result.as_dict()["usage"]["reasoning_tokens"] == 7


def test_the_setting_picks_the_api_style_and_a_call_may_override_it(fake_openai, settings):
    settings.OPENAI_API_STYLE = "responses"
    llm.llm_call(model="m", messages=MESSAGES)
    llm.llm_call(model="m", messages=MESSAGES, api_style="chat")
    assert [r["path"] for r in fake_openai.requests] == [PATHS["responses"], PATHS["chat"]]


def test_messages_and_parameters_on_the_chat_wire(fake_openai):
    llm.llm_call(
        model="m",
        messages=MESSAGES,
        parameters={
            "temperature": 0.2,
            "max_output_tokens": 300,
            "seed": 7,
            "reasoning_effort": "low",
        },
        api_style="chat",
    )
    [sent] = fake_openai.requests
    assert sent["body"]["messages"] == MESSAGES
    assert sent["body"]["temperature"] == 0.2
    assert sent["body"]["max_completion_tokens"] == 300
    assert sent["body"]["seed"] == 7
    assert sent["body"]["reasoning_effort"] == "low"
    assert "response_format" not in sent["body"]


def test_messages_and_parameters_on_the_responses_wire(fake_openai):
    llm.llm_call(
        model="m",
        messages=MESSAGES,
        parameters={"temperature": 0.2, "max_output_tokens": 300, "reasoning_effort": "low"},
        api_style="responses",
    )
    [sent] = fake_openai.requests
    assert sent["body"]["input"] == MESSAGES
    assert sent["body"]["store"] is False
    assert sent["body"]["max_output_tokens"] == 300
    assert sent["body"]["reasoning"] == {"effort": "low"}
    assert "text" not in sent["body"]


def test_images_become_data_url_parts_of_the_last_user_message(fake_openai):
    png = b"\x89PNG\r\n\x1a\nfake"
    jpeg = b"\xff\xd8\xfffake"
    images = [llm.ImageInput(png, "image/png"), llm.ImageInput(jpeg, "image/jpeg")]
    png_url = "data:image/png;base64," + base64.b64encode(png).decode()
    jpeg_url = "data:image/jpeg;base64," + base64.b64encode(jpeg).decode()

    chat = llm.llm_call(
        model="fake-vision-model", messages=MESSAGES, images=images, api_style="chat"
    )
    responses = llm.llm_call(
        model="fake-vision-model", messages=MESSAGES, images=images, api_style="responses"
    )

    chat_sent, responses_sent = (r["body"] for r in fake_openai.requests)
    assert chat_sent["messages"][0] == MESSAGES[0]
    assert chat_sent["messages"][1] == {
        "role": "user",
        "content": [
            {"type": "text", "text": "Summarise clause four please."},
            {"type": "image_url", "image_url": {"url": png_url}},
            {"type": "image_url", "image_url": {"url": jpeg_url}},
        ],
    }
    assert responses_sent["input"][1] == {
        "role": "user",
        "content": [
            {"type": "input_text", "text": "Summarise clause four please."},
            {"type": "input_image", "image_url": png_url, "detail": "auto"},
            {"type": "input_image", "image_url": jpeg_url, "detail": "auto"},
        ],
    }
    assert "and 2 image(s)" in chat.text and "and 2 image(s)" in responses.text


def test_images_without_a_user_message_get_one_of_their_own(fake_openai):
    image = llm.ImageInput(b"GIF89a", "image/gif")
    llm.llm_call(model="m", messages=MESSAGES[:1], images=[image], api_style="chat")
    [sent] = fake_openai.requests
    assert sent["body"]["messages"][1] == {
        "role": "user",
        "content": [{"type": "image_url", "image_url": {"url": image.data_url()}}],
    }


@pytest.mark.parametrize("style", STYLES)
def test_structured_output_is_requested_validated_and_stored_parsed(fake_openai, style):
    result = llm.llm_call(model="m", messages=MESSAGES, output_schema=SCHEMA, api_style=style)

    assert result.parsed_json == {"verdict": "ok", "score": 1, "reasons": ["example"]}
    assert result.text == '{"verdict": "ok", "score": 1, "reasons": ["example"]}'
    [sent] = fake_openai.requests
    if style == "chat":
        assert sent["body"]["response_format"] == {
            "type": "json_schema",
            "json_schema": {"name": "output", "schema": SCHEMA, "strict": False},
        }
    else:
        assert sent["body"]["text"] == {
            "format": {"type": "json_schema", "name": "output", "schema": SCHEMA, "strict": False}
        }


def test_json_in_a_markdown_fence_is_accepted(fake_openai):
    # Local servers that ignore response_format answer like a chat: the JSON inside a fence.
    fake_openai.script(text='```json\n{"verdict": "risky", "score": 4}\n```')
    result = llm.llm_call(model="m", messages=MESSAGES, output_schema=SCHEMA)
    assert result.parsed_json == {"verdict": "risky", "score": 4}


def test_a_reply_cut_at_the_token_limit_is_recorded_as_length(fake_openai):
    fake_openai.script(finish_reason="length")
    chat = llm.llm_call(model="m", messages=MESSAGES, api_style="chat")
    fake_openai.script(finish_reason="length")
    responses = llm.llm_call(model="m", messages=MESSAGES, api_style="responses")
    assert chat.finish_reason == responses.finish_reason == "length"


def test_organisation_and_project_are_sent(fake_openai, settings):
    settings.OPENAI_ORGANIZATION = "org-parecer"
    settings.OPENAI_PROJECT = "proj_parecer"
    llm.llm_call(model="m", messages=MESSAGES)
    [sent] = fake_openai.requests
    assert sent["headers"]["openai-organization"] == "org-parecer"
    assert sent["headers"]["openai-project"] == "proj_parecer"


def test_a_caller_bug_is_refused_before_any_network_call(fake_openai):
    cases = [
        ({"messages": []}, "at least one message"),
        ({"messages": [{"role": "robot", "content": "x"}]}, "role must be one of"),
        ({"messages": [{"role": "user", "content": 3}]}, "content must be text"),
        (
            {"images": [llm.ImageInput(b"%PDF", "application/pdf")]},
            "'application/pdf' is not one of",
        ),
        ({"parameters": {"temprature": 1}}, "unknown parameter(s): temprature"),
        ({"parameters": {"seed": 1}, "api_style": "responses"}, "not supported by the responses"),
        ({"api_style": "completions"}, "api style must be one of chat, responses"),
    ]
    for overrides, why in cases:
        with pytest.raises(llm.LLMError) as caught:
            llm.llm_call(**{"model": "m", "messages": MESSAGES, **overrides})
        assert caught.value.code == "llm_bad_request"
        assert caught.value.retryable is False
        assert why in caught.value.message
    assert fake_openai.requests == []
