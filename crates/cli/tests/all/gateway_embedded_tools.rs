//! Tool calls on the embedded demo model through `clawgate gateway`. Forced calls, in all three
//! inbound dialects (chat completions, Responses, Anthropic Messages), streamed and not, with
//! `tool_choice` "required" and a named tool: every answer is one call whose arguments
//! validate against the tool's schema. Offered tools with `auto`, the base model answers in
//! text and the client is told so (`x-clawgate-notice`). The engine settings come from the
//! model row's `params` (context size, threads, sampling defaults), which the loading works
//! with.
//! Needs the `embedded` feature and the demo model (`scripts/fetch-demo-model`; a missing
//! model fails the test).

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use clawgate_wire::{ContentBlock, Response, StreamDecoder, ToolChoice};
use serde_json::{Value, json};

use super::agent_embedded::demo_model;
use super::harness::Cli;

/// The gateway process, killed when dropped.
pub struct Gateway {
    child: Child,
    pub base: String,
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `clawgate gateway --port 0` serving the demo model as `local/demo` with these engine
/// `params`; `env` is added to its environment and its stderr goes to `stderr` (if given).
pub fn start_gateway(
    cli: &Cli,
    params: Value,
    env: &[(&str, &str)],
    stderr: Option<&Path>,
) -> Gateway {
    let config = json!({
        "models": {"providers": {"local": {
            "api": "llama-cpp",
            "models": [{"id": "demo", "path": demo_model(), "maxTokens": 256, "params": params}]
        }}},
        "agents": {"defaults": {"model": {"primary": "local/demo"}}}
    });
    let config_path = cli.write("clawgate.json", &config.to_string());
    let mut child = Command::new(env!("CARGO_BIN_EXE_clawgate"))
        .args([
            "--config",
            config_path.to_str().unwrap(),
            "gateway",
            "--port",
            "0",
        ])
        .env_clear()
        .env("HOME", cli.path("home"))
        .env("CLAWGATE_STATE_DIR", cli.path("state"))
        .env("RUST_LOG", "warn")
        .env_remove("OMP_WAIT_POLICY")
        .env_remove("GOMP_SPINCOUNT")
        .envs(env.iter().copied())
        .current_dir(cli.path("cwd"))
        .stdout(Stdio::piped())
        .stderr(match stderr {
            Some(path) => Stdio::from(std::fs::File::create(path).unwrap()),
            None => Stdio::null(),
        })
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let base = line
        .trim()
        .strip_prefix("clawgate gateway listening on ")
        .unwrap_or_else(|| panic!("unexpected first line: {line:?}"))
        .to_owned();
    Gateway { child, base }
}

fn weather_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "city": {"type": "string", "minLength": 1, "maxLength": 30},
            "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}
        },
        "required": ["city", "unit"],
        "additionalProperties": false
    })
}

fn time_schema() -> Value {
    json!({
        "type": "object",
        "properties": {"zone": {"type": "string", "enum": ["UTC", "CET", "PST"]}},
        "required": ["zone"],
        "additionalProperties": false
    })
}

#[derive(Debug, Clone, Copy)]
enum Dialect {
    Chat,
    Responses,
    Anthropic,
}

/// The request body in `dialect` with both tools and the given choice.
fn body(dialect: Dialect, choice: &ToolChoice, stream: bool) -> (String, Value) {
    let prompt = "What's the weather in Madrid right now?";
    let tools = [
        (
            "get_weather",
            "Current weather for a city",
            weather_schema(),
        ),
        ("get_time", "Current time in a zone", time_schema()),
    ];
    match dialect {
        Dialect::Chat => {
            let tool_choice = match choice {
                ToolChoice::Tool(name) => json!({"type": "function", "function": {"name": name}}),
                _ => json!("required"),
            };
            let tools: Vec<Value> = tools
                .iter()
                .map(|(n, d, p)| json!({"type": "function", "function": {"name": n, "description": d, "parameters": p}}))
                .collect();
            (
                "/v1/chat/completions".into(),
                json!({"model": "local/demo", "messages": [{"role": "user", "content": prompt}],
                       "tools": tools, "tool_choice": tool_choice, "stream": stream,
                       "max_tokens": 200}),
            )
        }
        Dialect::Responses => {
            let tool_choice = match choice {
                ToolChoice::Tool(name) => json!({"type": "function", "name": name}),
                _ => json!("required"),
            };
            let tools: Vec<Value> = tools
                .iter()
                .map(|(n, d, p)| json!({"type": "function", "name": n, "description": d, "parameters": p}))
                .collect();
            (
                "/v1/responses".into(),
                json!({"model": "local/demo", "input": prompt, "tools": tools,
                       "tool_choice": tool_choice, "stream": stream, "max_output_tokens": 200}),
            )
        }
        Dialect::Anthropic => {
            let tool_choice = match choice {
                ToolChoice::Tool(name) => json!({"type": "tool", "name": name}),
                _ => json!({"type": "any"}),
            };
            let tools: Vec<Value> = tools
                .iter()
                .map(|(n, d, p)| json!({"name": n, "description": d, "input_schema": p}))
                .collect();
            (
                "/v1/messages".into(),
                json!({"model": "local/demo", "max_tokens": 200,
                       "messages": [{"role": "user", "content": prompt}],
                       "tools": tools, "tool_choice": tool_choice, "stream": stream}),
            )
        }
    }
}

/// The answer as a canonical response, decoded with the wire crate's own codecs.
fn decode(dialect: Dialect, stream: bool, text: &str) -> Response {
    if !stream {
        let value: Value = serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"));
        return match dialect {
            Dialect::Chat => clawgate_wire::openai_chat::decode_response(&value),
            Dialect::Responses => clawgate_wire::openai_responses::decode_response(&value),
            Dialect::Anthropic => clawgate_wire::anthropic::decode_response(&value),
        }
        .unwrap_or_else(|e| panic!("{e}: {text}"));
    }
    let mut decoder: Box<dyn StreamDecoder> = match dialect {
        Dialect::Chat => Box::new(clawgate_wire::openai_chat::Decoder::new()),
        Dialect::Responses => Box::new(clawgate_wire::openai_responses::Decoder::new()),
        Dialect::Anthropic => Box::new(clawgate_wire::anthropic::Decoder::new()),
    };
    let mut parser = clawgate_wire::sse::SseParser::new();
    let mut collector = clawgate_wire::collect::EventCollector::new();
    let mut frames = parser.push(text.as_bytes());
    frames.extend(parser.finish());
    for frame in &frames {
        for event in decoder
            .feed(frame)
            .unwrap_or_else(|e| panic!("{e}: {text}"))
        {
            collector.push(&event);
        }
    }
    for event in decoder.finish().unwrap() {
        collector.push(&event);
    }
    collector.finish().unwrap_or_else(|e| panic!("{e}: {text}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forced_and_named_calls_validate_in_every_dialect_streamed_or_not() {
    let cli = Cli::new();
    let params = json!({"contextSize": 2048, "threads": 1, "temperature": 1.0, "seed": 5});
    let gateway = start_gateway(&cli, params, &[], None);
    let client = reqwest::Client::new();
    let schemas = [
        ("get_weather", weather_schema()),
        ("get_time", time_schema()),
    ];
    for dialect in [Dialect::Chat, Dialect::Responses, Dialect::Anthropic] {
        for stream in [false, true] {
            for choice in [ToolChoice::Required, ToolChoice::Tool("get_time".into())] {
                let case = format!("{dialect:?} stream={stream} {choice:?}");
                let (path, body) = body(dialect, &choice, stream);
                let reply = client
                    .post(format!("{}{path}", gateway.base))
                    .header("anthropic-version", "2023-06-01")
                    .json(&body)
                    .send()
                    .await
                    .unwrap();
                let status = reply.status();
                let text = reply.text().await.unwrap();
                assert!(status.is_success(), "{case}: {status} {text}");
                let response = decode(dialect, stream, &text);
                let calls: Vec<(&str, &str)> = response
                    .content
                    .iter()
                    .filter_map(|b| match b {
                        ContentBlock::ToolCall {
                            name, arguments, ..
                        } => Some((name.as_str(), arguments.as_str())),
                        _ => None,
                    })
                    .collect();
                assert_eq!(calls.len(), 1, "{case}: {text}");
                let (name, arguments) = calls[0];
                if let ToolChoice::Tool(wanted) = &choice {
                    assert_eq!(name, wanted, "{case}");
                }
                let schema = &schemas.iter().find(|(n, _)| *n == name).unwrap().1;
                let args: Value = serde_json::from_str(arguments).unwrap_or_else(|e| {
                    panic!("{case}: arguments are not JSON ({e}): {arguments}")
                });
                let validator = jsonschema::validator_for(schema).unwrap();
                let errors: Vec<String> = validator
                    .iter_errors(&args)
                    .map(|e| e.to_string())
                    .collect();
                assert!(
                    errors.is_empty(),
                    "{case}: {args} breaks the schema: {errors:?}"
                );
            }
        }
    }
}

/// The `clawgate` frames (`event: clawgate`) of an SSE body.
fn clawgate_frames(text: &str) -> Vec<Value> {
    let mut parser = clawgate_wire::sse::SseParser::new();
    let mut frames = parser.push(text.as_bytes());
    frames.extend(parser.finish());
    frames
        .iter()
        .filter(|f| f.event.as_deref() == Some("clawgate"))
        .map(|f| serde_json::from_str(&f.data).unwrap())
        .collect()
}

/// The demo model is a base model: offered tools with `tool_choice: auto`, it answers in
/// text, and the client is told so: an `x-clawgate-notice` header (streamed or not), a
/// `notice` frame for clients that read clawgate's frames, and the notice in the request
/// log the Control UI shows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_base_model_offered_tools_says_it_answers_in_text() {
    let cli = Cli::new();
    let params = json!({"contextSize": 2048, "threads": 1, "temperature": 0});
    let gateway = start_gateway(&cli, params, &[], None);
    let client = reqwest::Client::new();
    let tools = json!([{"type": "function", "function": {
        "name": "get_weather", "description": "Current weather for a city",
        "parameters": weather_schema()}}]);
    for (stream, events) in [(false, false), (true, false), (true, true)] {
        let case = format!("stream={stream} events={events}");
        let body = json!({"model": "local/demo", "max_tokens": 12, "stream": stream,
            "messages": [{"role": "user", "content": "What's the weather in Madrid?"}],
            "tools": tools, "tool_choice": "auto"});
        let mut request = client
            .post(format!("{}/v1/chat/completions", gateway.base))
            .json(&body);
        if events {
            request = request.header("x-clawgate-events", "on");
        }
        let reply = request.send().await.unwrap();
        assert!(reply.status().is_success(), "{case}: {}", reply.status());
        let notices: Vec<String> = reply
            .headers()
            .get_all("x-clawgate-notice")
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect();
        assert_eq!(notices.len(), 1, "{case}: {notices:?}");
        assert!(
            notices[0].contains("demo is a base model") && notices[0].contains("answers in text"),
            "{case}: {notices:?}"
        );
        let text = reply.text().await.unwrap();
        let response = decode(Dialect::Chat, stream, &text);
        assert!(
            !response
                .content
                .iter()
                .any(|b| matches!(b, ContentBlock::ToolCall { .. })),
            "{case}: {text}"
        );
        let answer: String = response
            .content
            .iter()
            .filter_map(|b| match b {
                ContentBlock::Text { text } => Some(text.as_str()),
                _ => None,
            })
            .collect();
        assert!(
            !answer.contains("is a base model"),
            "{case}: notice in the answer: {text}"
        );
        if events {
            let frames = clawgate_frames(&text);
            let notice = frames.iter().find(|f| f["type"] == "notice");
            assert_eq!(
                notice.and_then(|f| f["text"].as_str()),
                Some(notices[0].as_str()),
                "{case}: {frames:?}"
            );
        } else {
            assert!(!text.contains("is a base model"), "{case}: {text}");
        }
    }
    // Without tools: no notice.
    let plain = client
        .post(format!("{}/v1/chat/completions", gateway.base))
        .json(&json!({"model": "local/demo", "max_tokens": 4,
            "messages": [{"role": "user", "content": "Hello"}]}))
        .send()
        .await
        .unwrap();
    assert!(plain.status().is_success());
    assert!(plain.headers().get("x-clawgate-notice").is_none());

    // The request log (the Control UI's Requests page) keeps the notices.
    let token = std::fs::read_to_string(cli.path("state").join("gateway-token")).unwrap();
    let log: Value = client
        .get(format!("{}/clawgate/v1/requests", gateway.base))
        .bearer_auth(token.trim())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let with_notices = log["requests"]
        .as_array()
        .unwrap_or_else(|| panic!("{log}"))
        .iter()
        .filter(|r| !r["notices"].as_array().unwrap().is_empty())
        .count();
    assert_eq!(with_notices, 3, "{log:#}");
}
