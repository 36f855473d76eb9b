"""The official `ollama` Python client against the gateway's Ollama API, over every upstream
dialect: chat and generate, streamed and not (with the async client too), the final object's
counts and timings, tool calls both ways, thinking kept out of the answer, structured output
and options reaching the upstream, images, errors as the client's own `ResponseError` (before
and during a stream), the model endpoints, Ollama's load call, and an agent target."""

import asyncio
import base64
import json
import urllib.request

import ollama
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


def last_upstream_body(stack):
    return stack.mock_requests()[-1]["body"]


def upstream_request_count(stack):
    with urllib.request.urlopen(stack.mock_url + "/__mock/stats", timeout=5) as r:
        return json.loads(r.read())["requests"]


def assert_final(response):
    assert response.done is True
    assert response.done_reason == "stop"
    assert response.total_duration > 0
    assert response.load_duration == 0
    assert response.prompt_eval_duration + response.eval_duration <= response.total_duration
    assert response.prompt_eval_count > 0
    assert response.eval_count > 0
    assert response.created_at and not response.created_at.startswith("1970")


def test_chat(stack, upstream_model):
    prompt = f"hello {upstream_model}"
    response = stack.ollama().chat(model=upstream_model, messages=[{"role": "user", "content": prompt}])
    assert isinstance(response, ollama.ChatResponse)
    assert response.model == upstream_model
    assert response.message.role == "assistant"
    assert response.message.content == f"mock answer to: {prompt}"
    assert response.message.thinking is None
    assert_final(response)


def test_chat_streamed(stack, upstream_model):
    prompt = f"stream {upstream_model}"
    chunks = list(
        stack.ollama().chat(
            model=upstream_model,
            messages=[{"role": "system", "content": "be brief"}, {"role": "user", "content": prompt}],
            stream=True,
        )
    )
    assert len(chunks) > 2
    assert "".join(c.message.content or "" for c in chunks) == f"mock answer to: {prompt}"
    assert [c.done for c in chunks] == [False] * (len(chunks) - 1) + [True]
    assert_final(chunks[-1])


def test_generate(stack, upstream_model):
    client = stack.ollama()
    response = client.generate(model=upstream_model, prompt="why is the sky blue?", system="be brief")
    assert isinstance(response, ollama.GenerateResponse)
    assert response.response == "mock answer to: why is the sky blue?"
    assert_final(response)
    body = last_upstream_body(stack)
    assert json.dumps(body).count("be brief") == 1

    chunks = list(client.generate(model=upstream_model, prompt="streamed", stream=True))
    assert "".join(c.response for c in chunks) == "mock answer to: streamed"
    assert_final(chunks[-1])


def test_async_client_streams(stack):
    async def run():
        client = stack.ollama(asynchronous=True)
        stream = await client.chat(
            model="fast", messages=[{"role": "user", "content": "async"}], stream=True
        )
        return [chunk async for chunk in stream]

    chunks = asyncio.run(run())
    assert "".join(c.message.content for c in chunks) == "mock answer to: async"
    assert chunks[-1].done


@pytest.mark.parametrize("stream", [False, True])
def test_tool_calls(stack, upstream_model, stream):
    stack.push_script({"tool_call": {"name": "get_weather", "arguments": {"city": "Paris"}}})
    client = stack.ollama()
    messages = [{"role": "user", "content": "weather in Paris?"}]
    answer = client.chat(model=upstream_model, messages=messages, tools=[WEATHER_TOOL], stream=stream)
    chunks = list(answer) if stream else [answer]
    calls = [call for c in chunks for call in (c.message.tool_calls or [])]
    assert len(calls) == 1
    assert calls[0].function.name == "get_weather"
    assert calls[0].function.arguments == {"city": "Paris"}
    assert chunks[-1].done_reason == "stop"

    # The result goes back as a `tool` message, as Ollama's docs show it.
    assistant = ollama.Message(role="assistant", content="", tool_calls=calls)
    messages += [assistant, {"role": "tool", "tool_name": "get_weather", "content": "18 degrees"}]
    follow_up = client.chat(model=upstream_model, messages=messages, tools=[WEATHER_TOOL])
    assert follow_up.message.content
    assert "18 degrees" in json.dumps(last_upstream_body(stack))


def test_a_python_function_as_a_tool(stack):
    def get_weather(city: str) -> str:
        """Weather for a city.

        Args:
          city: The city

        Returns:
          str: The weather
        """
        return "sunny"

    stack.push_script({"tool_call": {"name": "get_weather", "arguments": {"city": "Oslo"}}})
    response = stack.ollama().chat(
        model="ollup/mock-model", messages=[{"role": "user", "content": "Oslo?"}], tools=[get_weather]
    )
    assert response.message.tool_calls[0].function.arguments == {"city": "Oslo"}
    sent_tool = last_upstream_body(stack)["tools"][0]["function"]
    assert sent_tool["name"] == "get_weather"
    assert sent_tool["parameters"]["properties"]["city"]["type"] == "string"


@pytest.mark.parametrize("stream", [False, True])
def test_thinking_never_in_content(stack, stream):
    stack.push_script({"reasoning": "let me think", "text": "the answer"})
    answer = stack.ollama().chat(
        model="anthup/mock-model", messages=[{"role": "user", "content": "q"}], think=True, stream=stream
    )
    chunks = list(answer) if stream else [answer]
    assert "".join(c.message.thinking or "" for c in chunks) == "let me think"
    assert "".join(c.message.content or "" for c in chunks) == "the answer"


def test_think_false_sends_no_thinking(stack):
    stack.push_script({"reasoning": "let me think", "text": "plain"})
    response = stack.ollama().generate(model="fast", prompt="q", think=False)
    assert response.thinking is None
    assert response.response == "plain"


def test_structured_output_and_options_reach_the_upstream(stack):
    schema = {
        "type": "object",
        "properties": {"age": {"type": "integer"}, "available": {"type": "boolean"}},
        "required": ["age", "available"],
    }
    options = {"temperature": 0, "num_ctx": 4096, "num_predict": 50, "seed": 3, "top_k": 9, "stop": ["END"]}
    client = stack.ollama()
    client.chat(
        model="ollup/mock-model",
        messages=[{"role": "user", "content": "Ollama is 22"}],
        format=schema,
        options=options,
        keep_alive="10m",
    )
    sent = last_upstream_body(stack)
    assert sent["format"] == schema
    for key, value in options.items():
        assert sent["options"][key] == value, key

    client.chat(
        model="chatup/mock-model", messages=[{"role": "user", "content": "json"}], format="json",
        options=ollama.Options(top_k=5, num_predict=12),
    )
    sent = last_upstream_body(stack)
    assert sent["response_format"] == {"type": "json_object"}
    assert sent["top_k"] == 5
    assert sent["max_tokens"] == 12


def test_images(stack):
    image = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")
    stack.ollama().chat(
        model="ollup/mock-model",
        messages=[{"role": "user", "content": "what is this?", "images": [image]}],
    )
    sent = last_upstream_body(stack)["messages"][-1]
    assert sent["images"] == [base64.b64encode(image).decode()]


def test_unknown_model_is_a_404_response_error(stack):
    with pytest.raises(ollama.ResponseError) as caught:
        stack.ollama().chat(model="nowhere/nothing", messages=[{"role": "user", "content": "hi"}])
    assert caught.value.status_code == 404
    assert "nowhere/nothing" in caught.value.error


def test_wrong_token_is_a_401_response_error(stack):
    with pytest.raises(ollama.ResponseError) as caught:
        stack.ollama(api_key="wrong").generate(model="fast", prompt="hi")
    assert caught.value.status_code == 401
    assert "token" in caught.value.error


def test_a_stream_failing_midway_raises(stack):
    stack.push_script({"fault": "error_in_stream"})
    stream = stack.ollama().chat(
        model="flakychat/mock-model", messages=[{"role": "user", "content": "hi"}], stream=True
    )
    received = []
    with pytest.raises(ollama.ResponseError):
        for chunk in stream:
            received.append(chunk)
    assert any(c.message.content for c in received)
    assert not any(c.done for c in received)


def test_list_show_ps_and_version(stack):
    client = stack.ollama()
    listed = client.list()
    names = [m.model for m in listed.models]
    assert names[0] == "clawgate/main"
    for provider in ("chatup", "respup", "anthup", "ollup"):
        assert f"{provider}/mock-model" in names
    assert "fast" in names
    fast = next(m for m in listed.models if m.model == "fast")
    assert fast.details.parent_model == "chatup/mock-model"
    assert fast.modified_at is not None and len(fast.digest) == 64

    shown = client.show("ollup/mock-model")
    assert "completion" in shown.capabilities
    assert shown.modelinfo["clawgate.context_length"] == 65536
    assert client.show("fast:latest").details.parent_model == "chatup/mock-model"
    with pytest.raises(ollama.ResponseError) as caught:
        client.show("nowhere/nothing")
    assert caught.value.status_code == 404

    assert client.ps().models == []
    with urllib.request.urlopen(stack.url + "/api/version", timeout=5) as r:
        assert json.loads(r.read())["version"]


def test_load_call_answers_without_an_upstream(stack):
    before = upstream_request_count(stack)
    response = stack.ollama().chat(model="fast", messages=[])
    assert response.done and response.done_reason == "load"
    response = stack.ollama().generate(model="fast", keep_alive=0)
    assert response.done_reason == "unload"
    assert upstream_request_count(stack) == before


def test_agent_target(stack):
    client = stack.ollama()
    response = client.chat(model="clawgate/main", messages=[{"role": "user", "content": "hello agent"}])
    assert response.model == "clawgate/main"
    assert "hello agent" in response.message.content
    chunks = list(client.generate(model="clawgate/main", prompt="streamed agent", stream=True))
    assert "streamed agent" in "".join(c.response for c in chunks)
    assert chunks[-1].done
