//! Property tests: for every codec, `decode(encode(x)) == x` for requests and full responses
//! in that dialect's normal form (documented in each codec's `//!`). The generators build the
//! normal form directly: they only choose among the shapes the dialect can carry.

use clawgate_wire::{
    ContentBlock, EncodeOptions, ImageSource, Message, ReasoningEffort, Request, Response,
    ResponseFormat, Role, StopReason, ToolChoice, ToolSpec, Usage, anthropic, ollama, openai_chat,
    openai_responses,
};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

use crate::support::Dialect;

pub fn text() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9 .,!?é🙂\"\\\\\n]{0,12}"
}

pub fn nonempty_text() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9 .,!?é🙂\"\\\\\n]{1,12}"
}

pub fn ident() -> impl Strategy<Value = String> {
    "[a-z][a-z_0-9]{0,8}"
}

/// Compact JSON object text, the normal form of arguments in object-typed dialects.
pub fn object_args() -> impl Strategy<Value = String> {
    prop::collection::vec(
        (
            ident(),
            prop_oneof![
                text().prop_map(Value::from),
                any::<i32>().prop_map(Value::from),
                any::<bool>().prop_map(Value::from),
            ],
        ),
        0..3,
    )
    .prop_map(|pairs| {
        let map: Map<String, Value> = pairs.into_iter().collect();
        Value::Object(map).to_string()
    })
}

fn any_args(dialect: Dialect) -> BoxedStrategy<String> {
    match dialect {
        // Text dialects carry any text, even invalid JSON from a small local model.
        Dialect::Chat | Dialect::Responses => prop_oneof![object_args(), text()].boxed(),
        Dialect::Anthropic | Dialect::Ollama => object_args().boxed(),
    }
}

fn image(dialect: Dialect) -> BoxedStrategy<ContentBlock> {
    let png = "[A-Za-z0-9+/]{0,16}".prop_map(|d| ImageSource::Base64 {
        media_type: "image/png".into(),
        data: format!("iVBOR{d}"),
    });
    let jpeg = "[A-Za-z0-9+/]{0,16}".prop_map(|d| ImageSource::Base64 {
        media_type: "image/jpeg".into(),
        data: format!("/9j/{d}"),
    });
    let url = "[a-z]{1,8}".prop_map(|p| ImageSource::Url {
        url: format!("https://example.com/{p}.png"),
    });
    let source = match dialect {
        Dialect::Ollama => prop_oneof![png, jpeg].boxed(),
        _ => prop_oneof![png, jpeg, url].boxed(),
    };
    source
        .prop_map(|source| ContentBlock::Image { source })
        .boxed()
}

fn user_message(dialect: Dialect) -> BoxedStrategy<Message> {
    let blocks = match dialect {
        Dialect::Ollama => (
            prop::option::of(nonempty_text()),
            prop::collection::vec(image(dialect), 0..3),
        )
            .prop_map(|(text, images)| {
                let mut blocks = Vec::new();
                match text {
                    Some(text) => blocks.push(ContentBlock::Text { text }),
                    None if images.is_empty() => blocks.push(ContentBlock::Text {
                        text: String::new(),
                    }),
                    None => {}
                }
                blocks.extend(images);
                blocks
            })
            .boxed(),
        _ => prop::collection::vec(
            prop_oneof![3 => text().prop_map(|text| ContentBlock::Text { text }), 1 => image(dialect)],
            1..4,
        )
        .boxed(),
    };
    blocks
        .prop_map(|content| Message {
            role: Role::User,
            content,
        })
        .boxed()
}

fn tool_call(dialect: Dialect) -> impl Strategy<Value = ContentBlock> {
    ("call_[a-z0-9]{1,8}", ident(), any_args(dialect)).prop_map(|(id, name, arguments)| {
        ContentBlock::ToolCall {
            id,
            name,
            arguments,
        }
    })
}

fn assistant_blocks(dialect: Dialect) -> BoxedStrategy<Vec<ContentBlock>> {
    let calls = prop::collection::vec(tool_call(dialect), 0..3);
    match dialect {
        Dialect::Chat => (prop::collection::vec(nonempty_text(), 0..3), calls)
            .prop_map(|(texts, calls)| {
                let mut blocks: Vec<ContentBlock> = texts
                    .into_iter()
                    .map(|text| ContentBlock::Text { text })
                    .collect();
                blocks.extend(calls);
                blocks
            })
            .boxed(),
        Dialect::Ollama => (
            prop::option::of(nonempty_text()),
            prop::option::of(nonempty_text()),
            calls,
        )
            .prop_map(|(reasoning, text, calls)| {
                let mut blocks = Vec::new();
                if let Some(text) = reasoning {
                    blocks.push(ContentBlock::Reasoning {
                        text,
                        signature: None,
                        redacted: false,
                    });
                }
                if let Some(text) = text {
                    blocks.push(ContentBlock::Text { text });
                }
                blocks.extend(calls);
                blocks
            })
            .boxed(),
        Dialect::Responses => prop::collection::vec(
            prop_oneof![
                text().prop_map(|text| ContentBlock::Text { text }),
                (text(), prop::option::of("[A-Za-z0-9]{1,10}")).prop_map(|(text, signature)| {
                    ContentBlock::Reasoning {
                        text,
                        signature,
                        redacted: false,
                    }
                }),
                tool_call(dialect),
            ],
            1..4,
        )
        .boxed(),
        Dialect::Anthropic => prop::collection::vec(
            prop_oneof![
                text().prop_map(|text| ContentBlock::Text { text }),
                (text(), "[A-Za-z0-9]{1,10}").prop_map(|(text, signature)| {
                    ContentBlock::Reasoning {
                        text,
                        signature: Some(signature),
                        redacted: false,
                    }
                }),
                "[A-Za-z0-9]{1,10}".prop_map(|data| ContentBlock::Reasoning {
                    text: data,
                    signature: None,
                    redacted: true,
                }),
                tool_call(dialect),
            ],
            0..4,
        )
        .boxed(),
    }
}

fn tool_results(dialect: Dialect) -> BoxedStrategy<Vec<ContentBlock>> {
    let result = (
        "call_[a-z0-9]{1,8}",
        prop::option::of(ident()),
        text(),
        any::<bool>(),
    )
        .prop_map(
            move |(call_id, name, content, is_error)| ContentBlock::ToolResult {
                call_id,
                name: if dialect == Dialect::Chat { name } else { None },
                content,
                is_error: dialect == Dialect::Anthropic && is_error,
            },
        );
    prop::collection::vec(result, 1..3).boxed()
}

#[derive(Debug, Clone, Copy)]
enum Turn {
    User,
    Assistant,
    Tool,
}

/// A conversation in normal form: no two adjacent assistant or tool messages; tool-call ids
/// unique in the conversation (clawgate's providers make them so before encoding); for Ollama
/// a tool message answers every call of the assistant message before it, in order, by name.
fn conversation(dialect: Dialect) -> BoxedStrategy<Vec<Message>> {
    let turn = prop_oneof![Just(Turn::User), Just(Turn::Assistant), Just(Turn::Tool)];
    prop::collection::vec(
        (
            turn,
            user_message(dialect),
            assistant_blocks(dialect),
            tool_results(dialect),
        ),
        0..6,
    )
    .prop_map(move |turns| {
        let mut messages: Vec<Message> = Vec::new();
        let mut ids = std::collections::HashSet::new();
        for (turn, user, mut assistant, results) in turns {
            for block in &mut assistant {
                if let ContentBlock::ToolCall { id, .. } = block {
                    while !ids.insert(id.clone()) {
                        id.push('x');
                    }
                }
            }
            let last = messages.last().map(|m| m.role);
            match turn {
                Turn::User => messages.push(user),
                Turn::Assistant if last != Some(Role::Assistant) => {
                    if dialect == Dialect::Responses && assistant.is_empty() {
                        continue;
                    }
                    messages.push(Message {
                        role: Role::Assistant,
                        content: assistant,
                    });
                }
                Turn::Tool if last != Some(Role::Tool) => {
                    let content = if dialect == Dialect::Ollama {
                        let Some(previous) = messages.last() else {
                            continue;
                        };
                        let answers: Vec<ContentBlock> = previous
                            .content
                            .iter()
                            .filter_map(|b| match b {
                                ContentBlock::ToolCall { id, name, .. } => {
                                    Some(ContentBlock::ToolResult {
                                        call_id: id.clone(),
                                        name: Some(name.clone()),
                                        content: format!("result of {id}"),
                                        is_error: false,
                                    })
                                }
                                _ => None,
                            })
                            .collect();
                        if answers.is_empty() {
                            continue;
                        }
                        answers
                    } else {
                        results
                    };
                    messages.push(Message {
                        role: Role::Tool,
                        content,
                    });
                }
                _ => {}
            }
        }
        messages
    })
    .boxed()
}

fn tool_spec() -> impl Strategy<Value = ToolSpec> {
    (ident(), prop::option::of(text()), ident()).prop_map(|(name, description, param)| ToolSpec {
        name,
        description,
        parameters: json!({ "type": "object", "properties": { param: { "type": "string" } } }),
    })
}

fn effort() -> impl Strategy<Value = ReasoningEffort> {
    prop_oneof![
        Just(ReasoningEffort::Minimal),
        Just(ReasoningEffort::Low),
        Just(ReasoningEffort::Medium),
        Just(ReasoningEffort::High),
    ]
}

fn response_format() -> impl Strategy<Value = Option<ResponseFormat>> {
    prop_oneof![
        Just(None),
        Just(Some(ResponseFormat::Json)),
        (prop::option::of(ident()), ident(), prop::option::of(any::<bool>())).prop_map(
            |(name, field, strict)| {
                Some(ResponseFormat::JsonSchema {
                    name,
                    schema: json!({ "type": "object", "properties": { field: { "type": "string" } } }),
                    strict,
                })
            }
        ),
    ]
}

fn request(dialect: Dialect) -> BoxedStrategy<Request> {
    let sampling = (
        prop::option::of(0u32..200_000),
        prop::option::of(0.0f32..2.0),
        prop::option::of(0.0f32..1.0),
        prop::collection::vec(nonempty_text(), 0..3),
        prop::option::of(any::<i64>()),
        prop::option::of(effort()),
        any::<bool>(),
        prop::option::of(ident()),
    );
    let tools = (prop::collection::vec(tool_spec(), 0..3), 0usize..4);
    let extra = (
        prop::option::of(1u32..500),
        prop::option::of(1u32..200_000),
        response_format(),
    );
    (
        ident(),
        prop::option::of(text()),
        conversation(dialect),
        tools,
        sampling,
        extra,
    )
        .prop_map(
            move |(model, system, messages, (tools, choice), sampling, extra)| {
                let (top_k, num_ctx, response_format) = extra;
                let (max_tokens, temperature, top_p, stop, seed, reasoning, stream, user) =
                    sampling;
                let tool_choice = match (tools.first(), choice, dialect) {
                    (None, _, _) | (_, _, Dialect::Ollama) => ToolChoice::Auto,
                    (Some(_), 0, _) => ToolChoice::Auto,
                    (Some(_), 1, _) => ToolChoice::None,
                    (Some(_), 2, _) => ToolChoice::Required,
                    (Some(tool), _, _) => ToolChoice::Tool(tool.name.clone()),
                };
                let mut request = Request {
                    model,
                    system,
                    messages,
                    tools,
                    tool_choice,
                    max_tokens,
                    temperature,
                    top_p,
                    top_k,
                    stop,
                    seed,
                    reasoning,
                    response_format,
                    num_ctx,
                    stream,
                    user,
                };
                // OpenAI's schema formats always carry a name; Ollama's never do.
                let named = |format: Option<ResponseFormat>| match format {
                    Some(ResponseFormat::JsonSchema {
                        name,
                        schema,
                        strict,
                    }) => Some(ResponseFormat::JsonSchema {
                        name: Some(name.unwrap_or_else(|| "response".into())),
                        schema,
                        strict,
                    }),
                    other => other,
                };
                match dialect {
                    Dialect::Chat => {
                        request.num_ctx = None;
                        request.response_format = named(request.response_format.take());
                    }
                    Dialect::Responses => {
                        request.stop.clear();
                        request.seed = None;
                        request.top_k = None;
                        request.num_ctx = None;
                        request.response_format = named(request.response_format.take());
                    }
                    Dialect::Anthropic => {
                        request.seed = None;
                        request.num_ctx = None;
                        request.response_format = None;
                        // Room for every thinking budget (budget_tokens < max_tokens).
                        request.max_tokens = Some(request.max_tokens.unwrap_or(0).max(32_001));
                        if request.reasoning.is_some() {
                            request.temperature = None;
                            request.top_p = None;
                            request.top_k = None;
                        }
                    }
                    Dialect::Ollama => {
                        request.user = None;
                        request.reasoning = request.reasoning.map(|_| ReasoningEffort::Medium);
                        if let Some(ResponseFormat::JsonSchema { name, strict, .. }) =
                            &mut request.response_format
                        {
                            *name = None;
                            *strict = None;
                        }
                    }
                }
                request
            },
        )
        .boxed()
}

fn usage(dialect: Dialect) -> BoxedStrategy<Usage> {
    let count = || prop::option::of(0u64..1_000_000);
    (
        count(),
        count(),
        prop::option::of(1u64..1000),
        prop::option::of(0u64..1000),
    )
        .prop_map(
            move |(input, output, cache_read, cache_write)| match dialect {
                Dialect::Chat => Usage {
                    input_tokens: input,
                    output_tokens: output,
                    cache_read_tokens: cache_read,
                    cache_write_tokens: None,
                },
                Dialect::Responses => Usage {
                    input_tokens: Some(input.unwrap_or(0)),
                    output_tokens: Some(output.unwrap_or(0)),
                    cache_read_tokens: cache_read,
                    cache_write_tokens: None,
                },
                Dialect::Anthropic => Usage {
                    input_tokens: Some(input.unwrap_or(0)),
                    output_tokens: Some(output.unwrap_or(0)),
                    cache_read_tokens: cache_read,
                    cache_write_tokens: cache_write,
                },
                Dialect::Ollama => Usage {
                    input_tokens: input,
                    output_tokens: output,
                    ..Usage::default()
                },
            },
        )
        .boxed()
}

pub fn stop_reason() -> impl Strategy<Value = StopReason> {
    prop_oneof![
        Just(StopReason::Stop),
        Just(StopReason::Length),
        Just(StopReason::ToolUse),
        Just(StopReason::ContentFilter),
    ]
}

/// Normal-form stop reason for dialects whose wire has no separate tool-use status.
pub fn fix_stop(dialect: Dialect, stop: StopReason, has_calls: bool) -> StopReason {
    let by_calls = if has_calls {
        StopReason::ToolUse
    } else {
        StopReason::Stop
    };
    match (dialect, stop) {
        (Dialect::Responses, StopReason::Stop | StopReason::ToolUse) => by_calls,
        (Dialect::Ollama, StopReason::Length) => StopReason::Length,
        (Dialect::Ollama, _) => by_calls,
        (_, stop) => stop,
    }
}

fn response(dialect: Dialect) -> BoxedStrategy<Response> {
    let content = match dialect {
        Dialect::Chat => (
            prop::option::of(nonempty_text()),
            prop::option::of(nonempty_text()),
            prop::collection::vec(tool_call(dialect), 0..3),
        )
            .prop_map(|(reasoning, text, calls)| {
                let mut blocks = Vec::new();
                if let Some(text) = reasoning {
                    blocks.push(ContentBlock::Reasoning {
                        text,
                        signature: None,
                        redacted: false,
                    });
                }
                if let Some(text) = text {
                    blocks.push(ContentBlock::Text { text });
                }
                blocks.extend(calls);
                blocks
            })
            .boxed(),
        _ => assistant_blocks(dialect),
    };
    (
        ident(),
        ident(),
        content,
        stop_reason(),
        prop::option::of(usage(dialect)),
    )
        .prop_map(move |(id, model, content, stop, usage)| {
            let has_calls = content
                .iter()
                .any(|b| matches!(b, ContentBlock::ToolCall { .. }));
            let mut usage = usage.unwrap_or_default();
            if dialect == Dialect::Anthropic && usage == Usage::default() {
                usage.input_tokens = Some(0);
                usage.output_tokens = Some(0);
            }
            Response {
                id: if dialect == Dialect::Ollama {
                    String::new()
                } else {
                    format!("resp_{id}")
                },
                model,
                content,
                stop_reason: fix_stop(dialect, stop, has_calls),
                usage,
            }
        })
        .boxed()
}

fn encode_request(dialect: Dialect, request: &Request) -> Value {
    let options = EncodeOptions::default();
    match dialect {
        Dialect::Chat => openai_chat::encode_request(request, &options),
        Dialect::Responses => openai_responses::encode_request(request, &options),
        Dialect::Anthropic => anthropic::encode_request(request, &options),
        Dialect::Ollama => ollama::encode_request(request, &options),
    }
}

fn decode_request(dialect: Dialect, body: &Value) -> Request {
    match dialect {
        Dialect::Chat => openai_chat::decode_request(body),
        Dialect::Responses => openai_responses::decode_request(body),
        Dialect::Anthropic => anthropic::decode_request(body),
        Dialect::Ollama => ollama::decode_request(body),
    }
    .expect("decode what we encoded")
}

fn encode_response(dialect: Dialect, response: &Response) -> Value {
    match dialect {
        Dialect::Chat => openai_chat::encode_response(response),
        Dialect::Responses => openai_responses::encode_response(response),
        Dialect::Anthropic => anthropic::encode_response(response),
        Dialect::Ollama => ollama::encode_response(response),
    }
}

/// Through text, as on the wire (so number formatting is part of the round trip).
fn through_text(value: &Value) -> Value {
    serde_json::from_str(&value.to_string()).expect("reparse")
}

macro_rules! roundtrip_tests {
    ($name:ident, $dialect:expr) => {
        mod $name {
            use super::*;

            proptest! {
                #![proptest_config(ProptestConfig::with_cases(160))]

                #[test]
                fn request_round_trips(request in request($dialect)) {
                    let body = through_text(&encode_request($dialect, &request));
                    prop_assert_eq!(decode_request($dialect, &body), request);
                }

                #[test]
                fn response_round_trips(response in response($dialect)) {
                    let body = through_text(&encode_response($dialect, &response));
                    let decoded = $dialect.decode_response(&body).expect("decode what we encoded");
                    prop_assert_eq!(decoded, response);
                }
            }
        }
    };
}

roundtrip_tests!(openai_chat_codec, Dialect::Chat);
roundtrip_tests!(openai_responses_codec, Dialect::Responses);
roundtrip_tests!(anthropic_codec, Dialect::Anthropic);
roundtrip_tests!(ollama_codec, Dialect::Ollama);
