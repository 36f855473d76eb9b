"""The official `openai` SDK's embeddings and model clients against the gateway: vectors over the
OpenAI-compatible and the Ollama upstream (the SDK asks for base64 by default and decodes it),
floats when asked, a dialect without embeddings as the SDK's BadRequestError, and one model
retrieved by an id that contains `/`."""

import openai
import pytest

# mock-upstream's vector of a text: characters, words, first byte, last byte.
def mock_vector(text):
    raw = text.encode()
    return [float(len(text)), float(len(text.split())), float(raw[0]), float(raw[-1])]


@pytest.mark.parametrize("provider", ["chatup", "ollup"])
def test_embeddings(stack, provider):
    model = f"{provider}/mock-model"
    raw = stack.openai().embeddings.with_raw_response.create(model=model, input=["hello world", "hi"])
    assert raw.headers["x-clawgate-model"] == model
    result = raw.parse()
    assert result.model == model
    assert [d.index for d in result.data] == [0, 1]
    assert result.data[0].embedding == mock_vector("hello world")
    assert result.data[1].embedding == mock_vector("hi")
    assert result.usage.prompt_tokens == 3


def test_float_encoding(stack):
    result = stack.openai().embeddings.create(
        model="chatup/mock-model", input="hello", encoding_format="float"
    )
    assert result.data[0].embedding == mock_vector("hello")


def test_a_dialect_without_embeddings_is_a_bad_request(stack):
    with pytest.raises(openai.BadRequestError) as caught:
        stack.openai().embeddings.create(model="anthup/mock-model", input="hello")
    assert "does not serve embeddings" in caught.value.message


def test_model_retrieve(stack):
    model = stack.openai().models.retrieve("chatup/mock-model")
    assert model.id == "chatup/mock-model"
    assert model.owned_by == "chatup"
    with pytest.raises(openai.NotFoundError):
        stack.openai().models.retrieve("nowhere/nothing")
