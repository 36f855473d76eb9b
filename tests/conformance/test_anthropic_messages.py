"""The official `anthropic` SDK against the gateway's Messages endpoint, over every upstream
dialect (an Anthropic client can talk to a local chat server): create, the SDK's stream
helper and raw events, tools, thinking blocks, errors and a stream failing mid-way."""

import anthropic
import pytest

WEATHER_TOOL = {
    "name": "get_weather",
    "description": "Weather for a city",
    "input_schema": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
    },
}


def test_create(stack, upstream_model):
    prompt = f"hello {upstream_model}"
    raw = stack.anthropic().messages.with_raw_response.create(
        model=upstream_model,
        max_tokens=64,
        system="be brief",
        messages=[{"role": "user", "content": prompt}],
    )
    assert raw.headers["x-clawgate-model"] == upstream_model
    message = raw.parse()
    assert message.type == "message"
    assert message.role == "assistant"
    assert message.content[0].type == "text"
    assert message.content[0].text == f"mock answer to: {prompt}"
    assert message.stop_reason == "end_turn"
    assert message.usage.input_tokens > 0
    assert message.usage.output_tokens > 0


def test_stream_helper(stack, upstream_model):
    prompt = f"stream {upstream_model}"
    with stack.anthropic().messages.stream(
        model=upstream_model, max_tokens=64, messages=[{"role": "user", "content": prompt}]
    ) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text == f"mock answer to: {prompt}"
    assert final.content[0].text == text
    assert final.stop_reason == "end_turn"
    assert final.usage.output_tokens > 0


def test_raw_events(stack, upstream_model):
    events = list(
        stack.anthropic().messages.create(
            model=upstream_model,
            max_tokens=64,
            messages=[{"role": "user", "content": "raw"}],
            stream=True,
        )
    )
    types = [e.type for e in events]
    assert types[0] == "message_start"
    assert types[-1] == "message_stop"
    assert "content_block_start" in types and "content_block_stop" in types
    assert "message_delta" in types


def test_tool_use(stack, upstream_model):
    stack.push_script({"tool_call": {"name": "get_weather", "arguments": {"city": "Paris"}}})
    client = stack.anthropic()
    message = client.messages.create(
        model=upstream_model,
        max_tokens=64,
        tools=[WEATHER_TOOL],
        messages=[{"role": "user", "content": "weather in Paris?"}],
    )
    assert message.stop_reason == "tool_use"
    call = next(block for block in message.content if block.type == "tool_use")
    assert call.name == "get_weather"
    assert call.input == {"city": "Paris"}

    follow_up = client.messages.create(
        model=upstream_model,
        max_tokens=64,
        tools=[WEATHER_TOOL],
        messages=[
            {"role": "user", "content": "weather in Paris?"},
            {"role": "assistant", "content": [block.model_dump() for block in message.content]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": call.id, "content": "sunny"},
            ]},
        ],
    )
    assert follow_up.stop_reason == "end_turn"


def test_tool_use_streamed(stack, upstream_model):
    stack.push_script({"tool_call": {"name": "get_weather", "arguments": {"city": "Oslo"}}})
    with stack.anthropic().messages.stream(
        model=upstream_model,
        max_tokens=64,
        tools=[WEATHER_TOOL],
        messages=[{"role": "user", "content": "weather in Oslo?"}],
    ) as stream:
        final = stream.get_final_message()
    call = next(block for block in final.content if block.type == "tool_use")
    assert call.input == {"city": "Oslo"}
    assert final.stop_reason == "tool_use"


def test_thinking_block(stack):
    stack.push_script({"reasoning": "pondering"})
    with stack.anthropic().messages.stream(
        model="chatup/mock-model", max_tokens=64, messages=[{"role": "user", "content": "q"}]
    ) as stream:
        final = stream.get_final_message()
    kinds = [block.type for block in final.content]
    assert kinds == ["thinking", "text"]
    assert final.content[0].thinking == "pondering"
    assert final.content[1].text == "mock answer to: q"


def test_wrong_key_is_an_authentication_error(stack):
    with pytest.raises(anthropic.AuthenticationError) as caught:
        stack.anthropic(api_key="wrong").messages.create(
            model="fast", max_tokens=16, messages=[{"role": "user", "content": "hi"}]
        )
    assert caught.value.body["error"]["type"] == "authentication_error"


def test_unknown_model_is_not_found(stack):
    with pytest.raises(anthropic.NotFoundError) as caught:
        stack.anthropic().messages.create(
            model="nowhere/nothing", max_tokens=16, messages=[{"role": "user", "content": "hi"}]
        )
    assert caught.value.body["type"] == "error"
    assert caught.value.body["error"]["type"] == "not_found_error"


def test_a_stream_failing_midway_raises(stack):
    stack.push_script({"fault": "error_in_stream"})
    with pytest.raises(anthropic.APIError):
        with stack.anthropic().messages.stream(
            model="flakyresp/mock-model", max_tokens=64, messages=[{"role": "user", "content": "hi"}]
        ) as stream:
            for _ in stream.text_stream:
                pass


def test_agent_target_streams_final_text(stack):
    with stack.anthropic().messages.stream(
        model="clawgate/main", max_tokens=64, messages=[{"role": "user", "content": "agent hi"}]
    ) as stream:
        text = "".join(stream.text_stream)
    assert "agent hi" in text
