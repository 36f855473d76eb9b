//! Behaviour of the request codecs that round trips cannot show: what is sent for options and
//! defaults, and how foreign shapes (legacy fields, folded roles) are read.

use clawgate_wire::{
    ContentBlock, EncodeOptions, Message, ReasoningEffort, Request, Role, Think, ToolChoice,
    ToolSpec, WireError, anthropic, ollama, openai_chat, openai_responses,
};
use serde_json::json;

fn sample() -> Request {
    Request {
        model: "m".into(),
        system: Some("be brief".into()),
        messages: vec![Message::text(Role::User, "hi")],
        max_tokens: Some(100),
        stream: true,
        ..Request::default()
    }
}

#[test]
fn chat_options_pick_field_names() {
    let options = EncodeOptions {
        use_max_completion_tokens: true,
        developer_role: true,
        usage_in_streaming: false,
        ..EncodeOptions::default()
    };
    let body = openai_chat::encode_request(&sample(), &options);
    assert_eq!(body["max_completion_tokens"], 100);
    assert!(body.get("max_tokens").is_none());
    assert_eq!(body["messages"][0]["role"], "developer");
    assert!(body.get("stream_options").is_none());
    let body = openai_chat::encode_request(&sample(), &EncodeOptions::default());
    assert_eq!(body["max_tokens"], 100);
    assert_eq!(body["stream_options"], json!({ "include_usage": true }));
}

#[test]
fn chat_string_content_and_tools_off() {
    let mut request = sample();
    request.messages = vec![Message {
        role: Role::User,
        content: vec![
            ContentBlock::Text { text: "a".into() },
            ContentBlock::Text { text: "b".into() },
        ],
    }];
    request.tools = vec![ToolSpec {
        name: "t".into(),
        description: None,
        parameters: json!({}),
    }];
    let options = EncodeOptions {
        string_content: true,
        tools: false,
        ..EncodeOptions::default()
    };
    let body = openai_chat::encode_request(&request, &options);
    assert_eq!(body["messages"][1]["content"], "ab");
    assert!(body.get("tools").is_none() && body.get("tool_choice").is_none());
}

#[test]
fn chat_decode_folds_roles_and_reads_legacy_fields() {
    let body = json!({
        "model": "m",
        "messages": [
            { "role": "system", "content": "one" },
            { "role": "developer", "content": [{ "type": "text", "text": "two" }] },
            { "role": "user", "content": "q" },
            { "role": "assistant", "content": null, "function_call": { "name": "f", "arguments": "{}" } },
            { "role": "function", "name": "f", "content": "42" },
        ],
        "functions": [{ "name": "f", "parameters": { "type": "object" } }],
        "function_call": { "name": "f" },
        "stop": "END",
        "max_tokens": 5,
        "max_completion_tokens": 7,
        "reasoning_effort": "high",
    });
    let request = openai_chat::decode_request(&body).expect("decodes");
    assert_eq!(request.system.as_deref(), Some("one\n\ntwo"));
    assert_eq!(request.tools[0].name, "f");
    assert_eq!(request.tool_choice, ToolChoice::Tool("f".into()));
    assert_eq!(request.stop, vec!["END".to_owned()]);
    assert_eq!(request.max_tokens, Some(7), "max_completion_tokens wins");
    assert_eq!(request.reasoning, Some(ReasoningEffort::High));
    let ContentBlock::ToolCall { id, .. } = &request.messages[1].content[0] else {
        panic!("legacy function_call becomes a tool call");
    };
    let ContentBlock::ToolResult { call_id, name, .. } = &request.messages[2].content[0] else {
        panic!("function role becomes a tool result");
    };
    assert_eq!(call_id, id);
    assert_eq!(name.as_deref(), Some("f"));
}

#[test]
fn chat_decode_reports_the_path_of_a_bad_field() {
    let body =
        json!({ "model": "m", "messages": [{ "role": "user", "content": "x" }, { "role": 3 }] });
    match openai_chat::decode_request(&body) {
        Err(WireError::Malformed { path, .. }) => assert_eq!(path, "$.messages[1].role"),
        other => panic!("expected a malformed error, got {other:?}"),
    }
}

#[test]
fn anthropic_always_sends_max_tokens_and_a_valid_thinking_budget() {
    let mut request = sample();
    request.max_tokens = None;
    request.reasoning = Some(ReasoningEffort::High);
    request.temperature = Some(0.2);
    let body = anthropic::encode_request(&request, &EncodeOptions::default());
    assert_eq!(body["max_tokens"], anthropic::DEFAULT_MAX_TOKENS);
    assert!(
        body.get("temperature").is_none(),
        "thinking rejects a custom temperature"
    );
    assert_eq!(
        body["thinking"]["budget_tokens"], 4095,
        "budget stays below max_tokens"
    );
    request.max_tokens = Some(1000);
    let body = anthropic::encode_request(&request, &EncodeOptions::default());
    assert!(
        body.get("thinking").is_none(),
        "no room for the 1024 minimum budget"
    );
    assert_eq!(body["temperature"].to_string(), "0.2");
}

#[test]
fn anthropic_splits_and_merges_tool_results() {
    let body = json!({
        "model": "m", "max_tokens": 10,
        "system": [{ "type": "text", "text": "s1" }, { "type": "text", "text": "s2" }],
        "messages": [
            { "role": "assistant", "content": [{ "type": "tool_use", "id": "t1", "name": "f", "input": { "a": 1 } }] },
            { "role": "user", "content": [
                { "type": "tool_result", "tool_use_id": "t1", "content": [{ "type": "text", "text": "ok" }], "is_error": true },
                { "type": "text", "text": "next" },
            ] },
        ],
    });
    let request = anthropic::decode_request(&body).expect("decodes");
    assert_eq!(request.system.as_deref(), Some("s1\n\ns2"));
    assert_eq!(request.messages.len(), 3);
    assert_eq!(request.messages[1].role, Role::Tool);
    assert_eq!(
        request.messages[1].content[0],
        ContentBlock::ToolResult {
            call_id: "t1".into(),
            name: None,
            content: "ok".into(),
            is_error: true
        }
    );
    let again = anthropic::encode_request(&request, &EncodeOptions::default());
    assert_eq!(again["messages"][1]["content"][0]["type"], "tool_result");
    assert_eq!(again["messages"][1]["content"][1]["text"], "next");
}

#[test]
fn anthropic_drops_unsigned_reasoning_from_other_dialects() {
    let mut request = sample();
    request.messages.push(Message {
        role: Role::Assistant,
        content: vec![
            ContentBlock::Reasoning {
                text: "local thoughts".into(),
                signature: None,
                redacted: false,
            },
            ContentBlock::Text {
                text: "answer".into(),
            },
        ],
    });
    let body = anthropic::encode_request(&request, &EncodeOptions::default());
    assert_eq!(
        body["messages"][1]["content"],
        json!([{ "type": "text", "text": "answer" }])
    );
}

#[test]
fn responses_system_as_instructions_or_input_item() {
    let body = openai_responses::encode_request(&sample(), &EncodeOptions::default());
    assert_eq!(body["instructions"], "be brief");
    assert_eq!(body["max_output_tokens"], 100);
    let options = EncodeOptions {
        instructions_field: false,
        ..EncodeOptions::default()
    };
    let body = openai_responses::encode_request(&sample(), &options);
    assert!(body.get("instructions").is_none());
    assert_eq!(body["input"][0]["role"], "system");
    let decoded = openai_responses::decode_request(&body).expect("decodes");
    assert_eq!(decoded.system.as_deref(), Some("be brief"));
}

#[test]
fn responses_decode_string_input_and_easy_messages() {
    let body = json!({ "model": "m", "input": "hello", "instructions": "sys" });
    let request = openai_responses::decode_request(&body).expect("decodes");
    assert_eq!(request.messages, vec![Message::text(Role::User, "hello")]);
    let body = json!({ "model": "m", "input": [
        { "role": "user", "content": "q" },
        { "type": "function_call", "call_id": "c1", "name": "f", "arguments": "{}" },
        { "type": "function_call_output", "call_id": "c1", "output": "r" },
    ] });
    let request = openai_responses::decode_request(&body).expect("decodes");
    assert_eq!(request.messages[1].role, Role::Assistant);
    assert_eq!(request.messages[2].role, Role::Tool);
}

#[test]
fn responses_input_items_that_are_not_objects_are_refused_with_their_path() {
    let body = json!({ "model": "m", "input": [null, 1, "x"] });
    match openai_responses::decode_request(&body) {
        Err(WireError::Malformed { path, .. }) => assert_eq!(path, "$.input[0]"),
        other => panic!("expected a malformed error, got {other:?}"),
    }
    let body = json!({ "model": "m", "input": [{ "role": "user", "content": "q" }, "x"] });
    match openai_responses::decode_request(&body) {
        Err(WireError::Malformed { path, .. }) => assert_eq!(path, "$.input[1]"),
        other => panic!("expected a malformed error, got {other:?}"),
    }
}

#[test]
fn anthropic_stream_errors_use_anthropic_error_types() {
    use clawgate_wire::StreamEncoder;
    for (code, expected) in [
        ("server_error", "api_error"),
        ("timeout", "api_error"),
        ("overloaded", "overloaded_error"),
        ("rate_limit_exceeded", "rate_limit_error"),
        ("context_length_exceeded", "invalid_request_error"),
        ("overloaded_error", "overloaded_error"),
        ("made_up_error", "api_error"),
    ] {
        let mut encoder = anthropic::Encoder::new("msg_1", "m");
        let frames = encoder.fail("boom", code);
        let data: serde_json::Value = serde_json::from_str(&frames[0].data).expect("json");
        assert_eq!(data["error"]["type"], expected, "{code}");
    }
}

#[test]
fn ollama_options_and_think() {
    let mut request = sample();
    request.reasoning = Some(ReasoningEffort::Low);
    request.temperature = Some(0.7);
    let options = EncodeOptions {
        num_ctx: Some(8192),
        ..EncodeOptions::default()
    };
    let body = ollama::encode_request(&request, &options);
    assert_eq!(body["options"]["num_ctx"], 8192);
    assert_eq!(body["options"]["num_predict"], 100);
    assert_eq!(body["options"]["temperature"].to_string(), "0.7");
    assert_eq!(body["think"], true);
    assert_eq!(
        body["messages"][0],
        json!({ "role": "system", "content": "be brief" })
    );
}

#[test]
fn ollama_think_is_sent_as_the_options_say() {
    let mut request = sample();
    let think = |request: &Request, think| {
        let options = EncodeOptions {
            think,
            ..EncodeOptions::default()
        };
        ollama::encode_request(request, &options)
            .get("think")
            .cloned()
    };
    assert_eq!(think(&request, None), None, "unset: the server decides");
    assert_eq!(think(&request, Some(Think::Off)), Some(json!(false)));
    assert_eq!(think(&request, Some(Think::On)), Some(json!(true)));
    request.reasoning = Some(ReasoningEffort::High);
    assert_eq!(think(&request, None), Some(json!(true)));
    assert_eq!(think(&request, Some(Think::Off)), Some(json!(false)));
    for (effort, level) in [
        (ReasoningEffort::Minimal, "low"),
        (ReasoningEffort::Low, "low"),
        (ReasoningEffort::Medium, "medium"),
        (ReasoningEffort::High, "high"),
    ] {
        assert_eq!(
            think(&request, Some(Think::Level(effort))),
            Some(json!(level))
        );
    }
    // A level reads back as that effort.
    let body = ollama::encode_request(
        &request,
        &EncodeOptions {
            think: Some(Think::Level(ReasoningEffort::Low)),
            ..EncodeOptions::default()
        },
    );
    let decoded = ollama::decode_request(&body).expect("decodes");
    assert_eq!(decoded.reasoning, Some(ReasoningEffort::Low));
}

#[test]
fn ollama_tool_results_are_matched_to_calls_by_name() {
    let body = json!({ "model": "m", "messages": [
        { "role": "assistant", "content": "", "tool_calls": [
            { "function": { "name": "a", "arguments": {} } },
            { "function": { "name": "b", "arguments": { "x": 1 } } },
        ] },
        { "role": "tool", "tool_name": "b", "content": "B" },
        { "role": "tool", "tool_name": "a", "content": "A" },
    ] });
    let request = ollama::decode_request(&body).expect("decodes");
    assert!(request.stream, "Ollama streams by default");
    let results: Vec<(&str, &str)> = request.messages[1]
        .content
        .iter()
        .filter_map(|b| match b {
            ContentBlock::ToolResult {
                call_id, content, ..
            } => Some((call_id.as_str(), content.as_str())),
            _ => None,
        })
        .collect();
    assert_eq!(
        results,
        vec![("ollama_call_1", "B"), ("ollama_call_0", "A")]
    );
}

/// The chat encoder's frames, byte for byte: the fields in the order OpenAI writes them, a
/// `delta` with only what the chunk carries, `logprobs: null`, usage in a chunk of its own
/// with `choices: []` after the finish chunk.
#[test]
fn chat_stream_frames_are_written_in_openais_shape() {
    use clawgate_wire::openai_chat::Encoder;
    use clawgate_wire::{Event, StopReason, StreamEncoder, Usage};
    let mut encoder = Encoder::new("chatcmpl-1", "m").with_created(7);
    let events = [
        Event::Started {
            id: "up".into(),
            model: "m".into(),
        },
        Event::ReasoningDelta { text: "hm".into() },
        Event::TextDelta {
            text: "a \"quoted\"\nline".into(),
        },
        Event::ToolCallStart {
            index: 0,
            id: "call_1".into(),
            name: "read".into(),
        },
        Event::ToolCallArgsDelta {
            index: 0,
            delta: "{\"path\":".into(),
        },
        Event::Usage {
            usage: Usage {
                input_tokens: Some(3),
                output_tokens: Some(5),
                cache_read_tokens: None,
                cache_write_tokens: None,
            },
        },
        Event::Finished {
            stop_reason: StopReason::ToolUse,
        },
    ];
    let mut frames: Vec<String> = events
        .iter()
        .flat_map(|event| encoder.encode(event))
        .map(|frame| frame.data)
        .collect();
    frames.extend(encoder.finish().into_iter().map(|frame| frame.data));
    let head =
        r#"{"id":"chatcmpl-1","object":"chat.completion.chunk","created":7,"model":"m","choices":"#;
    let delta = |delta: &str| {
        format!(r#"{head}[{{"index":0,"delta":{delta},"logprobs":null,"finish_reason":null}}]}}"#)
    };
    assert_eq!(
        frames,
        [
            delta(r#"{"role":"assistant","content":""}"#),
            delta(r#"{"reasoning_content":"hm"}"#),
            delta(r#"{"content":"a \"quoted\"\nline"}"#),
            delta(
                r#"{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"read","arguments":""}}]}"#
            ),
            delta(r#"{"tool_calls":[{"index":0,"function":{"arguments":"{\"path\":"}}]}"#),
            format!(
                r#"{head}[{{"index":0,"delta":{{}},"logprobs":null,"finish_reason":"tool_calls"}}]}}"#
            ),
            format!(
                r#"{head}[],"usage":{{"prompt_tokens":3,"completion_tokens":5,"total_tokens":8}}}}"#
            ),
            "[DONE]".to_string(),
        ]
    );
}

/// A whole chat answer, byte for byte: fields in OpenAI's order, text pieces joined,
/// reasoning as `reasoning_content` (redacted reasoning left out), `content: null` for an
/// answer that is only tool calls, usage only when known.
#[test]
fn chat_answers_are_written_in_openais_shape() {
    use clawgate_wire::openai_chat::{encode_response, write_response};
    use clawgate_wire::{ContentBlock, Response, StopReason, Usage};
    let reasoning = |text: &str, redacted: bool| ContentBlock::Reasoning {
        text: text.into(),
        signature: None,
        redacted,
    };
    let text = |text: &str| ContentBlock::Text { text: text.into() };
    let call = |id: &str| ContentBlock::ToolCall {
        id: id.into(),
        name: "read".into(),
        arguments: "{\"path\":\"a\"}".into(),
    };
    let answer = |content: Vec<ContentBlock>, stop_reason, usage| Response {
        id: "chatcmpl-1".into(),
        model: "m".into(),
        content,
        stop_reason,
        usage,
    };
    let cases = [
        (
            answer(
                vec![
                    reasoning("hm", false),
                    reasoning("hidden", true),
                    reasoning(" ok", false),
                    text("a \"quoted\""),
                    text("\nline"),
                    call("call_1"),
                ],
                StopReason::ToolUse,
                Usage {
                    input_tokens: Some(3),
                    output_tokens: Some(5),
                    cache_read_tokens: Some(2),
                    cache_write_tokens: None,
                },
            ),
            r#"{"id":"chatcmpl-1","object":"chat.completion","created":7,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"a \"quoted\"\nline","reasoning_content":"hm ok","tool_calls":[{"id":"call_1","type":"function","function":{"name":"read","arguments":"{\"path\":\"a\"}"}}]},"logprobs":null,"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":3,"completion_tokens":5,"total_tokens":8,"prompt_tokens_details":{"cached_tokens":2}}}"#,
        ),
        (
            answer(
                vec![call("call_1"), call("call_2")],
                StopReason::ToolUse,
                Usage {
                    output_tokens: Some(4),
                    ..Usage::default()
                },
            ),
            r#"{"id":"chatcmpl-1","object":"chat.completion","created":7,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"read","arguments":"{\"path\":\"a\"}"}},{"id":"call_2","type":"function","function":{"name":"read","arguments":"{\"path\":\"a\"}"}}]},"logprobs":null,"finish_reason":"tool_calls"}],"usage":{"completion_tokens":4}}"#,
        ),
        (
            answer(vec![], StopReason::Length, Usage::default()),
            r#"{"id":"chatcmpl-1","object":"chat.completion","created":7,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":""},"logprobs":null,"finish_reason":"length"}]}"#,
        ),
    ];
    for (response, expected) in cases {
        let mut value = encode_response(&response);
        value["created"] = 7.into();
        assert_eq!(value.to_string(), expected);
        assert_eq!(write_response(&response, 7), expected);
    }
}

/// A whole Responses answer written as text is the value form with its creation time: the
/// same fields in the same order.
#[test]
fn responses_answers_are_written_as_their_value_form() {
    use clawgate_wire::openai_responses::{encode_response, write_response};
    use clawgate_wire::{ContentBlock, Response, StopReason, Usage};
    let response = Response {
        id: "resp_1".into(),
        model: "m".into(),
        content: vec![
            ContentBlock::Reasoning {
                text: "hm".into(),
                signature: Some("sig".into()),
                redacted: false,
            },
            ContentBlock::Text {
                text: "a \"quoted\"".into(),
            },
            ContentBlock::ToolCall {
                id: "call_1".into(),
                name: "read".into(),
                arguments: "{}".into(),
            },
        ],
        stop_reason: StopReason::Length,
        usage: Usage {
            input_tokens: Some(3),
            output_tokens: Some(5),
            ..Usage::default()
        },
    };
    let mut value = encode_response(&response);
    assert_eq!(value["created_at"], 0);
    value["created_at"] = 7.into();
    let written = write_response(&response, 7);
    assert_eq!(written, value.to_string());
    assert!(
        written.starts_with(
            r#"{"id":"resp_1","object":"response","created_at":7,"status":"incomplete""#
        ),
        "{written}"
    );
}
