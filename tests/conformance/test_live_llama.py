"""Live tier: the official SDKs through the gateway in front of llama.cpp's server (gemma-3-270m
from `scripts/live-up`, aliases `gemma` and `gemma-tools`). A tiny *base* model: its answers are
prompt echoes, so these check shapes, translation and transport, never content. Run with
`scripts/conformance --live`; a missing live.env fails loudly.

llama-cpp-python's server reports usage on full answers but not in streams (it ignores
`stream_options.include_usage`), so streamed answers carry no token counts here: the gateway
reports usage only when the upstream gave it."""

import json

import pytest

pytestmark = pytest.mark.live

WEATHER_PARAMS = {
    "type": "object",
    "properties": {"city": {"type": "string"}},
    "required": ["city"],
}


def test_chat_create_and_stream(live_stack):
    client = live_stack.openai()
    completion = client.chat.completions.create(
        model="llama/gemma", messages=[{"role": "user", "content": "Say hi."}], max_tokens=16
    )
    assert completion.choices[0].finish_reason in ("stop", "length")
    assert completion.usage.completion_tokens > 0
    chunks = list(
        client.chat.completions.create(
            model="llama/gemma",
            messages=[{"role": "user", "content": "Count to three."}],
            max_tokens=16,
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text.strip()
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert finishes in (["stop"], ["length"])


def test_chat_forced_tool_call(live_stack):
    completion = live_stack.openai().chat.completions.create(
        model="llama/gemma-tools",
        messages=[{"role": "user", "content": "What is the weather in Paris?"}],
        tools=[{"type": "function", "function": {"name": "get_weather", "parameters": WEATHER_PARAMS}}],
        tool_choice={"type": "function", "function": {"name": "get_weather"}},
        max_tokens=64,
    )
    call = completion.choices[0].message.tool_calls[0]
    assert call.function.name == "get_weather"
    assert isinstance(json.loads(call.function.arguments), dict)


def test_responses_over_a_chat_server(live_stack):
    client = live_stack.openai()
    response = client.responses.create(model="llama/gemma", input="Say hi.", max_output_tokens=16)
    assert response.status in ("completed", "incomplete")
    assert response.usage.output_tokens > 0
    events = list(
        client.responses.create(
            model="llama/gemma", input="Say hi.", max_output_tokens=16, stream=True
        )
    )
    # A 16-token cap usually cuts the echo: `response.incomplete`, as OpenAI sends it.
    assert events[0].type == "response.created"
    assert events[-1].type in ("response.completed", "response.incomplete")
    deltas = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    assert deltas.strip()
    assert events[-1].response.output_text == deltas


def test_anthropic_over_a_chat_server(live_stack):
    client = live_stack.anthropic()
    message = client.messages.create(
        model="llama/gemma", max_tokens=16, messages=[{"role": "user", "content": "Say hi."}]
    )
    assert message.content[0].type == "text"
    assert message.stop_reason in ("end_turn", "max_tokens")
    with client.messages.stream(
        model="llama/gemma", max_tokens=16, messages=[{"role": "user", "content": "Say hi."}]
    ) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text == final.content[0].text
    assert final.stop_reason in ("end_turn", "max_tokens")
    assert message.usage.output_tokens > 0


def test_anthropic_forced_tool_use(live_stack):
    message = live_stack.anthropic().messages.create(
        model="llama/gemma-tools",
        max_tokens=64,
        tools=[{"name": "get_weather", "input_schema": WEATHER_PARAMS}],
        tool_choice={"type": "tool", "name": "get_weather"},
        messages=[{"role": "user", "content": "What is the weather in Paris?"}],
    )
    call = next(block for block in message.content if block.type == "tool_use")
    assert call.name == "get_weather"
    assert isinstance(call.input, dict)
