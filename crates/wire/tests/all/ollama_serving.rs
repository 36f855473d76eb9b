//! The Ollama codec as a server uses it (`/api/generate` requests, answers and stream lines in
//! both endpoints' shapes, timings, dropped reasoning), and the fields that carry structured
//! output and sampling across dialects (`format` / `response_format` / `text.format`,
//! `top_k`, `num_ctx`).

use clawgate_wire::ollama::{self, Durations, Endpoint};
use clawgate_wire::{
    ContentBlock, EncodeOptions, Event, ImageSource, Message, ReasoningEffort, Request, Response,
    ResponseFormat, Role, StopReason, StreamEncoder, Usage, WireError, anthropic, openai_chat,
    openai_responses,
};
use serde_json::{Value, json};

fn malformed_path(error: WireError) -> String {
    match error {
        WireError::Malformed { path, .. } => path,
        other => panic!("expected a malformed-payload error, got {other:?}"),
    }
}

#[test]
fn generate_maps_system_prompt_images_and_options() {
    let body = json!({
        "model": "m",
        "system": "be brief",
        "prompt": "what is this?",
        "images": ["iVBORw0KGgo"],
        "think": "max",
        "format": "json",
        "keep_alive": "5m",
        "options": { "temperature": 0.5, "num_ctx": 4096, "num_predict": 64, "top_k": 20,
                     "top_p": 0.9, "seed": 7, "stop": ["\n\n"] },
    });
    let request = ollama::decode_generate_request(&body).expect("decodes");
    assert!(request.stream, "Ollama streams unless told otherwise");
    assert_eq!(request.system.as_deref(), Some("be brief"));
    assert_eq!(request.messages.len(), 1);
    assert_eq!(request.messages[0].role, Role::User);
    assert_eq!(
        request.messages[0].content,
        vec![
            ContentBlock::Text {
                text: "what is this?".into()
            },
            ContentBlock::Image {
                source: ImageSource::Base64 {
                    media_type: "image/png".into(),
                    data: "iVBORw0KGgo".into()
                }
            },
        ]
    );
    assert_eq!(request.reasoning, Some(ReasoningEffort::High), "max → High");
    assert_eq!(request.response_format, Some(ResponseFormat::Json));
    assert_eq!(request.temperature, Some(0.5));
    assert_eq!(request.num_ctx, Some(4096));
    assert_eq!(request.max_tokens, Some(64));
    assert_eq!(request.top_k, Some(20));
    assert_eq!(request.top_p, Some(0.9));
    assert_eq!(request.seed, Some(7));
    assert_eq!(request.stop, vec!["\n\n".to_string()]);
}

#[test]
fn generate_refuses_what_has_no_canonical_form_with_its_path() {
    let refused = [
        (
            json!({ "model": "m", "prompt": "def f(", "suffix": "return x" }),
            "$.suffix",
        ),
        (
            json!({ "model": "m", "prompt": "p", "template": "{{ .Prompt }}" }),
            "$.template",
        ),
        (
            json!({ "model": "m", "prompt": "p", "context": [1, 2, 3] }),
            "$.context",
        ),
        (
            json!({ "model": "m", "prompt": "p", "raw": true, "system": "s" }),
            "$.system",
        ),
        (
            json!({ "model": "m", "prompt": "p", "format": "yaml" }),
            "$.format",
        ),
        (
            json!({ "model": "m", "prompt": "p", "think": "extreme" }),
            "$.think",
        ),
        (json!({ "prompt": "p" }), "$"),
    ];
    for (body, path) in refused {
        let error = ollama::decode_generate_request(&body).expect_err("refused");
        assert_eq!(malformed_path(error), path, "{body}");
    }
    // Empty values are no values.
    let body = json!({ "model": "m", "prompt": "p", "suffix": "", "template": "", "context": [] });
    assert!(ollama::decode_generate_request(&body).is_ok());
}

#[test]
fn generate_raw_passes_the_prompt_alone_and_an_empty_prompt_asks_for_nothing() {
    let body = json!({ "model": "m", "prompt": "[INST] hi [/INST]", "raw": true, "stream": false });
    let request = ollama::decode_generate_request(&body).expect("decodes");
    assert!(!request.stream);
    assert_eq!(request.system, None);
    assert_eq!(
        request.messages,
        vec![Message::text(Role::User, "[INST] hi [/INST]")]
    );
    let load = ollama::decode_generate_request(&json!({ "model": "m" })).expect("decodes");
    assert!(load.messages.is_empty(), "Ollama's load call");
}

#[test]
fn chat_reads_format_top_k_num_ctx_and_think_levels() {
    let schema = json!({ "type": "object", "properties": { "age": { "type": "integer" } } });
    let body = json!({
        "model": "m", "messages": [{ "role": "user", "content": "hi" }],
        "format": schema, "think": false,
        "options": { "top_k": -1, "num_ctx": 0 },
    });
    let request = ollama::decode_request(&body).expect("decodes");
    assert_eq!(
        request.response_format,
        Some(ResponseFormat::JsonSchema {
            name: None,
            schema: schema.clone(),
            strict: None
        })
    );
    assert_eq!(request.reasoning, None, "think: false");
    assert_eq!(
        request.top_k, None,
        "a non-positive top_k is the server's 'off'"
    );
    assert_eq!(request.num_ctx, None);
    let body = json!({ "model": "m", "messages": [], "format": "" });
    assert_eq!(
        ollama::decode_request(&body)
            .expect("decodes")
            .response_format,
        None
    );
}

fn answer() -> Response {
    Response {
        id: String::new(),
        model: "local/qwen3".into(),
        content: vec![
            ContentBlock::Reasoning {
                text: "thinking it over".into(),
                signature: None,
                redacted: false,
            },
            ContentBlock::Text { text: "42".into() },
        ],
        stop_reason: StopReason::Length,
        usage: Usage {
            input_tokens: Some(12),
            output_tokens: Some(3),
            ..Usage::default()
        },
    }
}

const DURATIONS: Durations = Durations {
    total_ns: 900,
    load_ns: 0,
    prompt_eval_ns: 300,
    eval_ns: 600,
};

#[test]
fn answers_have_each_endpoints_shape_and_the_timings() {
    let chat = ollama::encode_answer(Endpoint::Chat, &answer(), "2026-01-02T03:04:05Z", None);
    assert_eq!(
        chat,
        json!({
            "model": "local/qwen3", "created_at": "2026-01-02T03:04:05Z",
            "message": { "role": "assistant", "content": "42", "thinking": "thinking it over" },
            "done": true, "done_reason": "length",
            "prompt_eval_count": 12, "eval_count": 3,
        })
    );
    let generate = ollama::encode_answer(
        Endpoint::Generate,
        &answer(),
        "2026-01-02T03:04:05Z",
        Some(&DURATIONS),
    );
    assert_eq!(
        generate,
        json!({
            "model": "local/qwen3", "created_at": "2026-01-02T03:04:05Z",
            "response": "42", "thinking": "thinking it over",
            "done": true, "done_reason": "length",
            "total_duration": 900, "load_duration": 0,
            "prompt_eval_count": 12, "prompt_eval_duration": 300,
            "eval_count": 3, "eval_duration": 600,
        })
    );
}

fn lines(encoder: &mut dyn StreamEncoder, events: &[Event]) -> Vec<Value> {
    events
        .iter()
        .flat_map(|e| encoder.encode(e))
        .map(|frame| serde_json::from_str(&frame.data).expect("each line is JSON"))
        .collect()
}

fn events() -> Vec<Event> {
    vec![
        Event::Started {
            id: String::new(),
            model: "x".into(),
        },
        Event::ReasoningDelta { text: "hmm".into() },
        Event::TextDelta { text: "4".into() },
        Event::TextDelta { text: "2".into() },
        Event::Usage {
            usage: Usage {
                input_tokens: Some(5),
                output_tokens: Some(2),
                ..Usage::default()
            },
        },
        Event::Finished {
            stop_reason: StopReason::Stop,
        },
    ]
}

#[test]
fn generate_stream_lines_carry_response_and_the_last_one_the_timings() {
    let mut encoder = ollama::Encoder::new("", "m")
        .with_endpoint(Endpoint::Generate)
        .with_created_at("2026-01-02T03:04:05Z");
    encoder.set_durations(DURATIONS);
    let lines = lines(&mut encoder, &events());
    assert_eq!(lines.len(), 4);
    assert_eq!(
        lines[0],
        json!({ "model": "m", "created_at": "2026-01-02T03:04:05Z", "response": "",
                "thinking": "hmm", "done": false })
    );
    assert_eq!(lines[1]["response"], "4");
    assert_eq!(lines[2]["response"], "2");
    assert!(lines[..3].iter().all(|l| l.get("message").is_none()));
    let last = &lines[3];
    assert_eq!(last["done"], true);
    assert_eq!(last["done_reason"], "stop");
    assert_eq!(last["response"], "");
    assert_eq!(last["total_duration"], 900);
    assert_eq!(last["prompt_eval_duration"], 300);
    assert_eq!(last["eval_duration"], 600);
    assert_eq!(last["load_duration"], 0);
    assert_eq!(last["prompt_eval_count"], 5);
    assert_eq!(last["eval_count"], 2);
}

#[test]
fn a_stream_without_reasoning_drops_thinking() {
    let mut encoder = ollama::Encoder::new("", "m").with_reasoning(false);
    let lines = lines(&mut encoder, &events());
    assert_eq!(
        lines.len(),
        3,
        "two text lines and the final one: {lines:?}"
    );
    for line in &lines {
        assert!(line["message"].get("thinking").is_none(), "{line}");
    }
    assert_eq!(lines[0]["message"]["content"], "4");
    // Without measured timings, none are invented.
    assert!(lines[2].get("total_duration").is_none());
}

fn with_format(format: ResponseFormat) -> Request {
    Request {
        model: "m".into(),
        messages: vec![Message::text(Role::User, "hi")],
        response_format: Some(format),
        top_k: Some(40),
        num_ctx: Some(2048),
        ..Request::default()
    }
}

#[test]
fn structured_output_and_sampling_in_each_dialect() {
    let schema = json!({ "type": "object" });
    let format = ResponseFormat::JsonSchema {
        name: None,
        schema: schema.clone(),
        strict: Some(true),
    };
    let options = EncodeOptions::default();

    let chat = openai_chat::encode_request(&with_format(format.clone()), &options);
    assert_eq!(
        chat["response_format"],
        json!({ "type": "json_schema",
                "json_schema": { "name": "response", "schema": schema, "strict": true } })
    );
    assert_eq!(chat["top_k"], 40);
    assert!(chat.get("num_ctx").is_none() && chat.get("options").is_none());
    let json_mode = openai_chat::encode_request(&with_format(ResponseFormat::Json), &options);
    assert_eq!(
        json_mode["response_format"],
        json!({ "type": "json_object" })
    );

    let responses = openai_responses::encode_request(&with_format(format.clone()), &options);
    assert_eq!(
        responses["text"],
        json!({ "format": { "type": "json_schema", "name": "response", "schema": schema,
                            "strict": true } })
    );
    assert!(responses.get("top_k").is_none());

    let ollama_body = ollama::encode_request(&with_format(format.clone()), &options);
    assert_eq!(ollama_body["format"], schema);
    assert_eq!(ollama_body["options"]["top_k"], 40);
    assert_eq!(ollama_body["options"]["num_ctx"], 2048);
    let json_mode = ollama::encode_request(&with_format(ResponseFormat::Json), &options);
    assert_eq!(json_mode["format"], "json");
    // The request's window wins over the one from the model row.
    let row_window = EncodeOptions {
        num_ctx: Some(65536),
        ..EncodeOptions::default()
    };
    let body = ollama::encode_request(&with_format(format.clone()), &row_window);
    assert_eq!(body["options"]["num_ctx"], 2048);

    let anthropic_body = anthropic::encode_request(&with_format(format), &options);
    assert_eq!(anthropic_body["top_k"], 40);
    assert!(anthropic_body.get("output_config").is_none());
    assert!(anthropic_body.get("response_format").is_none());
}

#[test]
fn inbound_openai_formats_are_read_and_bad_ones_refused() {
    let chat = json!({ "model": "m", "messages": [{ "role": "user", "content": "hi" }],
                       "response_format": { "type": "json_object" }, "top_k": 0 });
    let request = openai_chat::decode_request(&chat).expect("decodes");
    assert_eq!(request.response_format, Some(ResponseFormat::Json));
    assert_eq!(request.top_k, None);
    let text = json!({ "model": "m", "messages": [], "response_format": { "type": "text" } });
    assert_eq!(
        openai_chat::decode_request(&text)
            .expect("decodes")
            .response_format,
        None
    );
    let bad = json!({ "model": "m", "messages": [], "response_format": { "type": "xml" } });
    let error = openai_chat::decode_request(&bad).expect_err("refused");
    assert_eq!(malformed_path(error), "$.response_format");

    let responses = json!({ "model": "m", "input": "hi",
                            "text": { "format": { "type": "json_schema", "name": "n",
                                                  "schema": { "type": "object" } } } });
    let request = openai_responses::decode_request(&responses).expect("decodes");
    assert_eq!(
        request.response_format,
        Some(ResponseFormat::JsonSchema {
            name: Some("n".into()),
            schema: json!({ "type": "object" }),
            strict: None
        })
    );
}
