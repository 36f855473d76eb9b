"""The official `openai` SDK's Responses client against the gateway, over every upstream
dialect (a Responses client can talk to a chat-only server): create, raw event streams with
their sequence numbers, the SDK's stream helper, tools, reasoning items and a failed stream."""

import json

import pytest

WEATHER_TOOL = {
    "type": "function",
    "name": "get_weather",
    "description": "Weather for a city",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
    },
}


def test_create(stack, upstream_model):
    prompt = f"hello {upstream_model}"
    raw = stack.openai().responses.with_raw_response.create(
        model=upstream_model, input=prompt, instructions="answer briefly"
    )
    assert raw.headers["x-clawgate-model"] == upstream_model
    response = raw.parse()
    assert response.object == "response"
    assert response.status == "completed"
    assert response.output_text == f"mock answer to: {prompt}"
    assert response.usage.input_tokens > 0
    assert response.usage.output_tokens > 0


def test_raw_event_stream(stack, upstream_model):
    prompt = f"events {upstream_model}"
    events = list(stack.openai().responses.create(model=upstream_model, input=prompt, stream=True))
    types = [e.type for e in events]
    assert types[0] == "response.created"
    assert types[-1] == "response.completed"
    numbers = [e.sequence_number for e in events]
    assert numbers == list(range(numbers[0], numbers[0] + len(numbers)))
    text = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    assert text == f"mock answer to: {prompt}"
    assert events[-1].response.output_text == text
    assert events[-1].response.usage.output_tokens > 0


def test_stream_helper(stack, upstream_model):
    prompt = f"helper {upstream_model}"
    with stack.openai().responses.stream(model=upstream_model, input=prompt) as stream:
        deltas = [e.delta for e in stream if e.type == "response.output_text.delta"]
        final = stream.get_final_response()
    assert "".join(deltas) == f"mock answer to: {prompt}"
    assert final.output_text == f"mock answer to: {prompt}"


def test_multi_turn_input_items(stack):
    response = stack.openai().responses.create(
        model="anthup/mock-model",
        input=[
            {"role": "user", "content": "first"},
            {"role": "assistant", "content": "an answer"},
            {"role": "user", "content": [{"type": "input_text", "text": "second"}]},
        ],
    )
    assert response.output_text == "mock answer to: second"


def test_tool_call(stack, upstream_model):
    stack.push_script({"tool_call": {"name": "get_weather", "arguments": {"city": "Paris"}}})
    response = stack.openai().responses.create(
        model=upstream_model, input="weather in Paris?", tools=[WEATHER_TOOL]
    )
    calls = [item for item in response.output if item.type == "function_call"]
    assert len(calls) == 1
    assert calls[0].name == "get_weather"
    assert json.loads(calls[0].arguments) == {"city": "Paris"}

    follow_up = stack.openai().responses.create(
        model=upstream_model,
        input=[
            {"role": "user", "content": "weather in Paris?"},
            {"type": "function_call", "call_id": calls[0].call_id, "name": "get_weather",
             "arguments": calls[0].arguments},
            {"type": "function_call_output", "call_id": calls[0].call_id, "output": "sunny"},
        ],
        tools=[WEATHER_TOOL],
    )
    assert follow_up.status == "completed"


def test_tool_call_streamed(stack, upstream_model):
    stack.push_script({"tool_call": {"name": "get_weather", "arguments": {"city": "Oslo"}}})
    with stack.openai().responses.stream(
        model=upstream_model, input="weather in Oslo?", tools=[WEATHER_TOOL]
    ) as stream:
        done = [e for e in stream if e.type == "response.function_call_arguments.done"]
        final = stream.get_final_response()
    assert json.loads(done[0].arguments) == {"city": "Oslo"}
    call = next(item for item in final.output if item.type == "function_call")
    assert call.name == "get_weather"


def test_reasoning_is_a_reasoning_item(stack):
    stack.push_script({"reasoning": "thinking it over"})
    response = stack.openai().responses.create(model="chatup/mock-model", input="q")
    kinds = [item.type for item in response.output]
    assert kinds[0] == "reasoning"
    assert "thinking it over" in json.dumps(response.output[0].model_dump())
    assert response.output_text == "mock answer to: q"


def test_a_stream_failing_midway_ends_with_response_failed(stack):
    stack.push_script({"fault": "error_in_stream"})
    events = list(
        stack.openai().responses.create(model="flakychat/mock-model", input="hi", stream=True)
    )
    assert events[-1].type == "response.failed"
    assert events[-1].response.status == "failed"
    assert events[-1].response.error.code
    assert not any(e.type == "response.completed" for e in events)


def test_unknown_model_is_not_found(stack):
    import openai

    with pytest.raises(openai.NotFoundError):
        stack.openai().responses.create(model="nowhere/nothing", input="hi")
