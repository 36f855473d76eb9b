"""The official `openai` SDK's Chat Completions client against the gateway, over every upstream
dialect: plain and streamed answers, usage, tool calls, errors as the SDK's own exceptions,
a stream that fails mid-way, the model list and an agent target."""

import json

import openai
import pytest

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather for a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
}


def test_create(stack, upstream_model):
    client = stack.openai()
    prompt = f"hello {upstream_model}"
    raw = client.chat.completions.with_raw_response.create(
        model=upstream_model, messages=[{"role": "user", "content": prompt}]
    )
    assert raw.headers["x-clawgate-model"] == upstream_model
    completion = raw.parse()
    assert completion.id.startswith("chatcmpl-")
    assert completion.object == "chat.completion"
    choice = completion.choices[0]
    assert choice.message.role == "assistant"
    assert choice.message.content == f"mock answer to: {prompt}"
    assert choice.finish_reason == "stop"
    assert completion.usage.prompt_tokens > 0
    assert completion.usage.completion_tokens > 0


def test_stream_with_usage(stack, upstream_model):
    client = stack.openai()
    prompt = f"stream {upstream_model}"
    stream = client.chat.completions.create(
        model=upstream_model,
        messages=[{"role": "system", "content": "be brief"}, {"role": "user", "content": prompt}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == f"mock answer to: {prompt}"
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert finishes == ["stop"]
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens > 0


def test_tool_call(stack, upstream_model):
    stack.push_script({"tool_call": {"name": "get_weather", "arguments": {"city": "Paris"}}})
    client = stack.openai()
    completion = client.chat.completions.create(
        model=upstream_model,
        messages=[{"role": "user", "content": "weather in Paris?"}],
        tools=[WEATHER_TOOL],
    )
    choice = completion.choices[0]
    assert choice.finish_reason == "tool_calls"
    call = choice.message.tool_calls[0]
    assert call.type == "function"
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {"city": "Paris"}
    assert call.id

    # The tool result goes back as a follow-up turn.
    follow_up = client.chat.completions.create(
        model=upstream_model,
        messages=[
            {"role": "user", "content": "weather in Paris?"},
            choice.message.model_dump(exclude_none=True),
            {"role": "tool", "tool_call_id": call.id, "content": "sunny, 21C"},
        ],
        tools=[WEATHER_TOOL],
    )
    assert follow_up.choices[0].finish_reason == "stop"


def test_tool_call_streamed(stack, upstream_model):
    stack.push_script({"tool_call": {"name": "get_weather", "arguments": {"city": "Oslo"}}})
    client = stack.openai()
    stream = client.chat.completions.create(
        model=upstream_model,
        messages=[{"role": "user", "content": "weather in Oslo?"}],
        tools=[WEATHER_TOOL],
        stream=True,
    )
    name, arguments, finish = "", "", None
    for chunk in stream:
        if not chunk.choices:
            continue
        delta = chunk.choices[0].delta
        for call in delta.tool_calls or []:
            assert call.index == 0
            name += call.function.name or ""
            arguments += call.function.arguments or ""
        finish = chunk.choices[0].finish_reason or finish
    assert name == "get_weather"
    assert json.loads(arguments) == {"city": "Oslo"}
    assert finish == "tool_calls"


def test_reasoning_arrives_as_reasoning_content(stack):
    stack.push_script({"reasoning": "let me think"})
    client = stack.openai()
    stream = client.chat.completions.create(
        model="chatup/mock-model", messages=[{"role": "user", "content": "q"}], stream=True
    )
    reasoning, text = "", ""
    for chunk in stream:
        if chunk.choices:
            delta = chunk.choices[0].delta
            reasoning += (delta.model_extra or {}).get("reasoning_content") or ""
            text += delta.content or ""
    assert reasoning == "let me think"
    assert text == "mock answer to: q"


def test_wrong_key_is_an_authentication_error(stack):
    with pytest.raises(openai.AuthenticationError) as caught:
        stack.openai(api_key="wrong").chat.completions.create(
            model="fast", messages=[{"role": "user", "content": "hi"}]
        )
    assert caught.value.status_code == 401
    assert caught.value.body["type"] == "authentication_error"


def test_unknown_model_is_not_found(stack):
    with pytest.raises(openai.NotFoundError) as caught:
        stack.openai().chat.completions.create(
            model="nowhere/nothing", messages=[{"role": "user", "content": "hi"}]
        )
    assert caught.value.body["code"] == "model_not_found"
    assert "nowhere/nothing" in caught.value.message


def test_context_overflow_is_a_bad_request(stack):
    stack.push_script({"fault": "context_overflow", "overflow_server": "vllm"})
    with pytest.raises(openai.BadRequestError) as caught:
        stack.openai().chat.completions.create(
            model="flakychat/mock-model", messages=[{"role": "user", "content": "long"}]
        )
    assert caught.value.body["code"] == "context_length_exceeded"


def test_rate_limit_is_429_with_retry_after(stack):
    stack.push_script({"fault": "status_429", "retry_after_secs": 3}, times=5)
    client = stack.openai()
    with pytest.raises(openai.RateLimitError) as caught:
        client.chat.completions.create(
            model="flakyresp/mock-model", messages=[{"role": "user", "content": "hi"}]
        )
    assert caught.value.response.headers["retry-after"] == "3"


def test_a_stream_failing_midway_raises(stack):
    stack.push_script({"fault": "error_in_stream"})
    stream = stack.openai().chat.completions.create(
        model="flakyanth/mock-model", messages=[{"role": "user", "content": "hi"}], stream=True
    )
    received = []
    with pytest.raises(openai.APIError):
        for chunk in stream:
            received.append(chunk)
    assert any(c.choices and c.choices[0].delta.content for c in received)


def test_models_list(stack):
    ids = [m.id for m in stack.openai().models.list()]
    assert ids[0] == "clawgate/main"
    for provider in ("chatup", "respup", "anthup", "ollup"):
        assert f"{provider}/mock-model" in ids


def test_routing_headers(stack):
    raw = stack.openai().chat.completions.with_raw_response.create(
        model="fast", messages=[{"role": "user", "content": "who answers?"}]
    )
    assert raw.headers["x-clawgate-model"] == "chatup/mock-model"
    assert raw.headers["x-clawgate-fallback"] == "false"
    assert raw.parse().choices[0].message.content == "mock answer to: who answers?"


def test_agent_target(stack):
    completion = stack.openai().chat.completions.create(
        model="clawgate/main", messages=[{"role": "user", "content": "hello agent"}], user="sdk-user"
    )
    assert completion.model == "clawgate/main"
    assert "hello agent" in completion.choices[0].message.content
