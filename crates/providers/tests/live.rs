//! Live tests against real servers on loopback: llama-cpp-python's server (gemma-3-270m,
//! aliases `gemma` and `gemma-tools`, n_ctx 4096) and the LiteLLM proxy in front of it
//! (`gemma`, and `gemma-bridge` for its Responses-to-chat bridge). Started by
//! `scripts/live-up`, which writes `$CLAWGATE_LIVE_DIR/live.env` (default
//! `~/.cache/clawgate-live/live.env`). Compiled only with `--features live`; run with
//! `cargo test -p clawgate-providers --features live --test live`. A missing env file fails
//! every test loudly: this tier is run on purpose, after starting the servers.
//!
//! The model is a *base* model: its answers are prompt echoes, so these tests check shapes,
//! kinds and transport, never content.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use clawgate_providers::{
    ApiKind, CallContext, FailureKind, HttpClient, ModelInfo, Provider, ProviderError,
    ProviderSpec, build_provider,
};
use clawgate_wire::{Event, Message, Request, Role, StopReason, ToolChoice, ToolSpec};
use futures::StreamExt;
use serde_json::{Value, json};

/// A CPU model: generous per-step bound, still finite.
const STEP: Duration = Duration::from_secs(180);
const N_CTX: u64 = 4096;

struct Live {
    vars: HashMap<String, String>,
}

impl Live {
    fn load() -> Live {
        let dir = std::env::var("CLAWGATE_LIVE_DIR").unwrap_or_else(|_| {
            let home = std::env::var("HOME").unwrap_or_default();
            format!("{home}/.cache/clawgate-live")
        });
        let path = format!("{dir}/live.env");
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) => panic!(
                "live tests need {path} ({e}): run scripts/live-setup and scripts/live-up first"
            ),
        };
        let vars = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .filter_map(|l| l.trim_start_matches("export ").split_once('='))
            .map(|(k, v)| {
                (
                    k.trim().to_string(),
                    v.trim().trim_matches('"').trim_matches('\'').to_string(),
                )
            })
            .collect();
        Live { vars }
    }

    fn var(&self, name: &str) -> String {
        match self.vars.get(name) {
            Some(v) if !v.is_empty() => v.clone(),
            _ => panic!("live.env has no {name}"),
        }
    }

    fn llama(&self) -> ProviderSpec {
        ProviderSpec::new(
            "llama-live",
            ApiKind::OpenAiCompletions,
            self.var("CLAWGATE_LIVE_LLAMA_URL"),
        )
        .with_key("sk-local")
        .with_model(ModelInfo::new("gemma").with_context_window(N_CTX))
        .with_model(ModelInfo::new("gemma-tools").with_context_window(N_CTX))
    }

    fn litellm(&self, api: ApiKind) -> ProviderSpec {
        ProviderSpec::new("litellm-live", api, self.var("CLAWGATE_LIVE_LITELLM_URL"))
            .with_key(self.var("CLAWGATE_LIVE_LITELLM_KEY"))
            .with_model(ModelInfo::new("gemma").with_context_window(N_CTX))
            .with_model(ModelInfo::new("gemma-bridge").with_context_window(N_CTX))
    }
}

fn provider(spec: &ProviderSpec) -> Arc<dyn Provider> {
    let client = match HttpClient::new() {
        Ok(c) => c,
        Err(e) => panic!("client: {e}"),
    };
    match build_provider(spec, &client) {
        Ok(p) => p,
        Err(e) => panic!("build: {e}"),
    }
}

fn ctx() -> CallContext {
    CallContext {
        key_index: 0,
        connect_timeout: Some(Duration::from_secs(5)),
        header_timeout: Some(STEP),
    }
}

fn request(model: &str, text: &str, stream: bool) -> Request {
    Request {
        model: model.into(),
        messages: vec![Message::text(Role::User, text)],
        max_tokens: Some(16),
        temperature: Some(0.0),
        stream,
        ..Request::default()
    }
}

fn too_big(model: &str, stream: bool) -> Request {
    // About 6,000 tokens against a 4,096-token context (estimate: 36,000 ASCII characters / 4 = 9,000, plus message framing).
    request(model, &"hello ".repeat(6000), stream)
}

fn weather_request(model: &str, stream: bool) -> Request {
    Request {
        tools: vec![ToolSpec {
            name: "get_weather".into(),
            description: Some("Weather for a city".into()),
            parameters: json!({"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}),
        }],
        tool_choice: ToolChoice::Tool("get_weather".into()),
        max_tokens: Some(64),
        ..request(model, "What is the weather in Paris?", stream)
    }
}

#[derive(Debug, Default)]
struct Outcome {
    events: Vec<Event>,
    error: Option<ProviderError>,
}

impl Outcome {
    fn text(&self) -> String {
        self.events
            .iter()
            .filter_map(|e| match e {
                Event::TextDelta { text } => Some(text.as_str()),
                _ => None,
            })
            .collect()
    }

    fn stop(&self) -> Option<StopReason> {
        self.events.iter().find_map(|e| match e {
            Event::Finished { stop_reason } => Some(*stop_reason),
            _ => None,
        })
    }

    fn has_usage(&self) -> bool {
        self.events.iter().any(|e| matches!(e, Event::Usage { .. }))
    }

    fn tool_calls(&self) -> Vec<(String, String)> {
        let mut calls: Vec<(u32, String, String)> = Vec::new();
        for e in &self.events {
            match e {
                Event::ToolCallStart { index, name, .. } => {
                    calls.push((*index, name.clone(), String::new()))
                }
                Event::ToolCallArgsDelta { index, delta } => {
                    if let Some(c) = calls.iter_mut().find(|c| c.0 == *index) {
                        c.2.push_str(delta);
                    }
                }
                _ => {}
            }
        }
        calls.into_iter().map(|(_, n, a)| (n, a)).collect()
    }

    fn ok(&self) -> &Self {
        assert!(self.error.is_none(), "unexpected error: {:?}", self.error);
        assert!(matches!(self.events.first(), Some(Event::Started { .. })));
        assert!(matches!(self.events.last(), Some(Event::Finished { .. })));
        self
    }

    fn kind(&self) -> FailureKind {
        match &self.error {
            Some(e) => e.kind,
            None => panic!("expected a failure, got {:?}", self.events),
        }
    }
}

async fn run(p: &Arc<dyn Provider>, request: Request) -> Outcome {
    let stream = match tokio::time::timeout(STEP, p.stream(request, ctx())).await {
        Err(_) => panic!("no response within {STEP:?}"),
        Ok(Err(e)) => {
            return Outcome {
                events: Vec::new(),
                error: Some(e),
            };
        }
        Ok(Ok(s)) => s,
    };
    let mut stream = stream;
    let mut out = Outcome::default();
    loop {
        match tokio::time::timeout(STEP, stream.next()).await {
            Err(_) => panic!("stream stalled; so far {:?}", out.events),
            Ok(None) => return out,
            Ok(Some(Ok(e))) => out.events.push(e),
            Ok(Some(Err(e))) => {
                out.error = Some(e);
                return out;
            }
        }
    }
}

#[tokio::test]
async fn llama_chat_stream_and_non_stream() {
    let live = Live::load();
    let p = provider(&live.llama());
    for stream in [true, false] {
        let out = run(&p, request("gemma", "Say hi", stream)).await;
        out.ok();
        assert!(!out.text().is_empty(), "stream={stream}");
        assert!(matches!(
            out.stop(),
            Some(StopReason::Length | StopReason::Stop)
        ));
        if !stream {
            assert!(out.has_usage(), "non-stream answers carry usage");
        }
    }
}

#[tokio::test]
async fn llama_forced_tool_call_stream_and_non_stream() {
    let live = Live::load();
    let p = provider(&live.llama());
    for stream in [true, false] {
        let out = run(&p, weather_request("gemma-tools", stream)).await;
        out.ok();
        let calls = out.tool_calls();
        assert_eq!(calls.len(), 1, "stream={stream}: {:?}", out.events);
        // Streamed chunks repeat the name: it must not be concatenated.
        assert_eq!(calls[0].0, "get_weather", "stream={stream}");
        let args: Value = serde_json::from_str(&calls[0].1).unwrap_or(Value::Null);
        assert!(args["city"].is_string(), "stream={stream}: {}", calls[0].1);
        assert_eq!(out.stop(), Some(StopReason::ToolUse));
    }
}

#[tokio::test]
async fn llama_overflow_is_context_overflow_stream_and_not() {
    let live = Live::load();
    let p = provider(&live.llama());
    let out = run(&p, too_big("gemma", false)).await;
    match out.kind() {
        FailureKind::ContextOverflow {
            requested: Some(r),
            limit: Some(N_CTX),
        } => assert!(r > N_CTX),
        other => panic!("non-stream: {other:?} ({:?})", out.error),
    }
    // The stream answer is an empty 200: overflow because the estimate exceeds the window.
    let out = run(&p, too_big("gemma", true)).await;
    assert!(
        matches!(
            out.kind(),
            FailureKind::ContextOverflow {
                limit: Some(N_CTX),
                ..
            }
        ),
        "stream: {:?}",
        out.error
    );
}

#[tokio::test]
async fn litellm_chat_stream_and_non_stream() {
    let live = Live::load();
    let p = provider(&live.litellm(ApiKind::OpenAiCompletions));
    for stream in [true, false] {
        let out = run(&p, request("gemma", "Say hi", stream)).await;
        out.ok();
        assert!(!out.text().is_empty(), "stream={stream}");
        // Streams: LiteLLM synthesises the usage chunk (we ask on loopback servers).
        assert!(out.has_usage(), "stream={stream}");
    }
}

#[tokio::test]
async fn litellm_overflow_is_context_overflow_stream_and_not() {
    let live = Live::load();
    let p = provider(&live.litellm(ApiKind::OpenAiCompletions));
    let out = run(&p, too_big("gemma", false)).await;
    assert!(
        matches!(
            out.kind(),
            FailureKind::ContextOverflow {
                limit: Some(N_CTX),
                ..
            }
        ),
        "non-stream: {:?}",
        out.error
    );
    // LiteLLM masks it as an empty `stop`: never an empty answer.
    let out = run(&p, too_big("gemma", true)).await;
    assert!(
        matches!(
            out.kind(),
            FailureKind::ContextOverflow {
                limit: Some(N_CTX),
                ..
            }
        ),
        "stream: {:?}",
        out.error
    );
}

#[tokio::test]
async fn litellm_responses_bridge_stream_and_non_stream() {
    let live = Live::load();
    let p = provider(&live.litellm(ApiKind::OpenAiResponses));
    for stream in [true, false] {
        let out = run(&p, request("gemma-bridge", "Say hi", stream)).await;
        out.ok();
        assert!(!out.text().is_empty(), "stream={stream}");
        assert!(matches!(
            out.stop(),
            Some(StopReason::Length | StopReason::Stop)
        ));
    }
}

#[tokio::test]
async fn litellm_wrong_key_is_auth_and_never_shown() {
    let live = Live::load();
    let wrong = "sk-9f8e7d6c5b4a39281706abcdef";
    let mut spec = live.litellm(ApiKind::OpenAiCompletions);
    spec.keys = vec![wrong.into()];
    let out = run(&provider(&spec), request("gemma", "Say hi", false)).await;
    assert_eq!(out.kind(), FailureKind::Auth, "{:?}", out.error);
    let shown = format!("{:?}", out.error);
    assert!(!shown.contains(wrong), "{shown}");
}

#[tokio::test]
async fn discovery_against_both() {
    let live = Live::load();
    let models = provider(&live.llama()).list_models().await;
    let ids: Vec<String> = models.iter().flatten().map(|m| m.id.clone()).collect();
    assert!(ids.contains(&"gemma".to_string()), "{models:?}");
    assert!(ids.contains(&"gemma-tools".to_string()), "{models:?}");
    let models = provider(&live.litellm(ApiKind::OpenAiCompletions))
        .list_models()
        .await;
    let ids: Vec<String> = models.iter().flatten().map(|m| m.id.clone()).collect();
    assert!(ids.contains(&"gemma".to_string()), "{models:?}");
    assert!(ids.contains(&"gemma-bridge".to_string()), "{models:?}");
}

/// llama-cpp-python repeats the call's id on every streamed chunk; whatever it repeats, the
/// second turn's call gets an id the history does not hold, and the history is sent with
/// every id once.
#[tokio::test]
async fn llama_tool_call_ids_are_unique_across_turns() {
    let live = Live::load();
    let p = provider(&live.llama());
    let first = run(&p, weather_request("gemma-tools", true)).await;
    first.ok();
    let first_id = first
        .events
        .iter()
        .find_map(|e| match e {
            Event::ToolCallStart { id, .. } => Some(id.clone()),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no call: {:?}", first.events));
    let mut second = weather_request("gemma-tools", false);
    for _ in 0..2 {
        // A client that replayed a repeated id: two calls, two results, one id.
        second.messages.push(Message {
            role: Role::Assistant,
            content: vec![clawgate_wire::ContentBlock::ToolCall {
                id: first_id.clone(),
                name: "get_weather".into(),
                arguments: r#"{"city":"Paris"}"#.into(),
            }],
        });
        second.messages.push(Message {
            role: Role::Tool,
            content: vec![clawgate_wire::ContentBlock::ToolResult {
                call_id: first_id.clone(),
                name: Some("get_weather".into()),
                content: "sunny".into(),
                is_error: false,
            }],
        });
    }
    second
        .messages
        .push(Message::text(Role::User, "And in Lyon?"));
    let out = run(&p, second).await;
    out.ok();
    let ids: Vec<String> = out
        .events
        .iter()
        .filter_map(|e| match e {
            Event::ToolCallStart { id, .. } => Some(id.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(ids.len(), 1, "{:?}", out.events);
    assert_ne!(ids[0], first_id);
}

/// llama-cpp-python has no `/v1/responses`: a provider configured with `openai-responses` on
/// it answers through `/chat/completions` and says so.
#[tokio::test]
async fn a_responses_provider_on_llama_cpp_python_is_bridged_to_chat() {
    let live = Live::load();
    let mut spec = live.llama();
    spec.api = ApiKind::OpenAiResponses;
    let p = provider(&spec);
    for stream in [true, false] {
        let out = run(&p, request("gemma", "Say hi", stream)).await;
        out.ok();
        assert!(!out.text().is_empty(), "stream={stream}");
    }
    assert!(p.learned().responses_via_chat);
}
