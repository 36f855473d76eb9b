//! Fake model clients: a scripted one (answers from a closure) that can enforce a context
//! window with its own exact token rule (characters / 3, rounded up, + 5 per message: a
//! different rule from the agent's estimate, `clawgate_wire::token_estimate`, so calibration is
//! exercised), and answers summary requests deterministically.

#![allow(dead_code)]

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use clawgate_agent::{
    AgentRuntime, AgentSettings, FallbackInfo, ModelCallError, ModelClient, ModelLimits,
    ModelReply, SUMMARY_PROMPT, StaticModelDirectory,
};
use clawgate_wire::{ContentBlock, Event, Message, Request, Role, StopReason, Usage};

/// What the script answers for one request.
#[derive(Debug, Clone)]
pub enum Scripted {
    Text(String),
    /// Raw events (no usage added).
    Events(Vec<Event>),
    ToolCall {
        id: String,
        name: String,
        arguments: String,
    },
    Fail(ModelCallError),
}

#[derive(Debug, Clone)]
pub struct Recorded {
    pub request: Request,
    pub is_summary: bool,
    /// Prompt tokens by the fake's rule.
    pub tokens: u64,
    /// `Some(summary)` for summary calls that succeeded.
    pub summary_out: Option<String>,
    pub overflowed: bool,
}

type Script = dyn Fn(&Request) -> Scripted + Send + Sync;

pub struct FakeModel {
    pub window: Option<u64>,
    pub model_ref: String,
    pub log: Mutex<Vec<Recorded>>,
    script: Box<Script>,
    pub fallback: Mutex<Option<(String, FallbackInfo)>>,
    summaries: Mutex<u32>,
    /// Send a usage event with each answer (llama.cpp's server sends none when streaming).
    pub report_usage: std::sync::atomic::AtomicBool,
    /// The fallback lists `call_with_fallbacks` got, in call order.
    pub fallback_lists: Mutex<Vec<Vec<String>>>,
}

pub fn count_tokens(request: &Request) -> u64 {
    let mut chars = request.system.as_ref().map_or(0, |s| s.chars().count());
    let mut messages = 0u64;
    for tool in &request.tools {
        chars += tool.name.len() + tool.parameters.to_string().len();
    }
    for m in &request.messages {
        messages += 1;
        for b in &m.content {
            chars += match b {
                ContentBlock::Text { text } => text.chars().count(),
                ContentBlock::Reasoning { text, .. } => text.chars().count(),
                ContentBlock::ToolCall {
                    name, arguments, ..
                } => name.len() + arguments.chars().count(),
                ContentBlock::ToolResult { content, .. } => content.chars().count(),
                ContentBlock::Image { .. } => 3000,
            };
        }
    }
    (chars as u64).div_ceil(3) + 5 * messages
}

pub fn request_text(request: &Request) -> String {
    let mut s = request.system.clone().unwrap_or_default();
    for m in &request.messages {
        s.push_str(&message_text(m));
    }
    s
}

pub fn message_text(m: &Message) -> String {
    let mut s = String::new();
    for b in &m.content {
        match b {
            ContentBlock::Text { text } => s.push_str(text),
            ContentBlock::ToolCall { arguments, .. } => s.push_str(arguments),
            ContentBlock::ToolResult { content, .. } => s.push_str(content),
            _ => {}
        }
        s.push('\n');
    }
    s
}

/// The content inside an untrusted-content wrapper (the whole text, trimmed, when unwrapped).
pub fn unwrapped(text: &str) -> String {
    use clawgate_agent::untrusted::END_MARKER;
    match (text.find("\n---\n"), text.rfind(END_MARKER)) {
        (Some(start), Some(end)) if start + 5 <= end => text[start + 5..end].trim().to_string(),
        _ => text.trim().to_string(),
    }
}

/// All `[T<n>]` markers in `text`.
pub fn markers(text: &str) -> Vec<u32> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("[T") {
        rest = &rest[i + 2..];
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        if !digits.is_empty()
            && rest[digits.len()..].starts_with(']')
            && let Ok(n) = digits.parse()
        {
            out.push(n);
        }
    }
    out
}

impl FakeModel {
    pub fn new(
        model_ref: &str,
        window: Option<u64>,
        script: impl Fn(&Request) -> Scripted + Send + Sync + 'static,
    ) -> Arc<Self> {
        Arc::new(FakeModel {
            window,
            model_ref: model_ref.to_string(),
            log: Mutex::new(Vec::new()),
            script: Box::new(script),
            fallback: Mutex::new(None),
            summaries: Mutex::new(0),
            report_usage: std::sync::atomic::AtomicBool::new(true),
            fallback_lists: Mutex::new(Vec::new()),
        })
    }

    /// Always answers `text`.
    pub fn text(model_ref: &str, text: &str) -> Arc<Self> {
        let text = text.to_string();
        Self::new(model_ref, None, move |_| Scripted::Text(text.clone()))
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.log.lock().unwrap().clone()
    }

    pub fn main_requests(&self) -> Vec<Request> {
        self.requests()
            .into_iter()
            .filter(|r| !r.is_summary && !r.overflowed)
            .map(|r| r.request)
            .collect()
    }

    pub fn set_fallback(&self, answered_by: Option<(&str, &str, &str)>) {
        *self.fallback.lock().unwrap() = answered_by.map(|(by, primary, reason)| {
            (
                by.to_string(),
                FallbackInfo {
                    primary: primary.to_string(),
                    reason: reason.to_string(),
                    ..FallbackInfo::default()
                },
            )
        });
    }
}

pub fn text_events(text: &str, input: u64) -> Vec<Event> {
    let mut events = vec![Event::Started {
        id: "r".into(),
        model: "m".into(),
    }];
    // Split into small chunks, as a streaming server would.
    let chars: Vec<char> = text.chars().collect();
    for chunk in chars.chunks(7) {
        events.push(Event::TextDelta {
            text: chunk.iter().collect(),
        });
    }
    events.push(Event::Usage {
        usage: Usage {
            input_tokens: Some(input),
            output_tokens: Some((text.len() as u64).div_ceil(3)),
            ..Usage::default()
        },
    });
    events.push(Event::Finished {
        stop_reason: StopReason::Stop,
    });
    events
}

#[async_trait]
impl ModelClient for FakeModel {
    async fn call_with_fallbacks(
        &self,
        request: Request,
        fallbacks: &[String],
    ) -> Result<ModelReply, ModelCallError> {
        self.fallback_lists.lock().unwrap().push(fallbacks.to_vec());
        self.call(request).await
    }

    async fn call(&self, request: Request) -> Result<ModelReply, ModelCallError> {
        let tokens = count_tokens(&request);
        let is_summary = request
            .system
            .as_deref()
            .is_some_and(|s| s.starts_with(SUMMARY_PROMPT));
        let mut record = Recorded {
            request: request.clone(),
            is_summary,
            tokens,
            summary_out: None,
            overflowed: false,
        };
        if let Some(window) = self.window {
            let max = u64::from(request.max_tokens.unwrap_or(0));
            if tokens + max > window {
                record.overflowed = true;
                self.log.lock().unwrap().push(record);
                return Err(ModelCallError::ContextOverflow {
                    requested: Some(tokens),
                    limit: Some(window),
                });
            }
        }
        let (model_ref, fallback) = match self.fallback.lock().unwrap().clone() {
            Some((by, info)) => (by, Some(info)),
            None => (self.model_ref.clone(), None),
        };
        if is_summary {
            let mut n = self.summaries.lock().unwrap();
            *n += 1;
            let seen = markers(&request_text(&request));
            let (lo, hi) = (
                seen.iter().min().copied().unwrap_or(0),
                seen.iter().max().copied().unwrap_or(0),
            );
            let summary = format!("SUMMARY#{} covers turns {lo} to {hi}.", *n);
            record.summary_out = Some(summary.clone());
            self.log.lock().unwrap().push(record);
            return Ok(ModelReply {
                model_ref,
                fallback,
                events: Box::pin(futures::stream::iter(
                    text_events(&summary, tokens).into_iter().map(Ok),
                )),
            });
        }
        let scripted = (self.script)(&request);
        let events = match scripted {
            Scripted::Fail(e) => {
                self.log.lock().unwrap().push(record);
                return Err(e);
            }
            Scripted::Text(t) => text_events(&t, tokens),
            Scripted::Events(e) => e,
            Scripted::ToolCall {
                id,
                name,
                arguments,
            } => vec![
                Event::Started {
                    id: "r".into(),
                    model: "m".into(),
                },
                Event::ToolCallStart { index: 0, id, name },
                Event::ToolCallArgsDelta {
                    index: 0,
                    delta: arguments,
                },
                Event::Usage {
                    usage: Usage {
                        input_tokens: Some(tokens),
                        output_tokens: Some(20),
                        ..Usage::default()
                    },
                },
                Event::Finished {
                    stop_reason: StopReason::ToolUse,
                },
            ],
        };
        self.log.lock().unwrap().push(record);
        let report = self.report_usage.load(std::sync::atomic::Ordering::SeqCst);
        let events: Vec<Event> = events
            .into_iter()
            .filter(|e| report || !matches!(e, Event::Usage { .. }))
            .collect();
        Ok(ModelReply {
            model_ref,
            fallback,
            events: Box::pin(futures::stream::iter(events.into_iter().map(Ok))),
        })
    }
}

/// A runtime over a temp state dir and workspace, with `model` registered.
pub fn runtime(
    dir: &std::path::Path,
    client: Arc<dyn ModelClient>,
    info: ModelLimits,
    adjust: impl FnOnce(&mut AgentSettings),
) -> AgentRuntime {
    let mut settings = AgentSettings::new(
        "main",
        dir.join("state"),
        dir.join("workspace"),
        info.model_ref.clone(),
    );
    settings.durable_store = false;
    adjust(&mut settings);
    let models = StaticModelDirectory::new().with_model(info);
    AgentRuntime::new(settings, client, Arc::new(models)).unwrap()
}

pub fn model(model_ref: &str, window: u64) -> ModelLimits {
    ModelLimits {
        model_ref: model_ref.to_string(),
        context_window: Some(window),
        ..ModelLimits::default()
    }
}

/// Every request holds whole tool pairs: each result's call id has its call earlier in the
/// same request (in the assistant message right before the results), and each call has a
/// result.
pub fn assert_tool_pairs_whole(request: &Request) {
    use std::collections::HashSet;
    let mut calls_seen: HashSet<String> = HashSet::new();
    let mut results_seen: HashSet<String> = HashSet::new();
    for (i, m) in request.messages.iter().enumerate() {
        for b in &m.content {
            match b {
                ContentBlock::ToolCall { id, .. } => {
                    assert_eq!(m.role, Role::Assistant);
                    calls_seen.insert(id.clone());
                }
                ContentBlock::ToolResult { call_id, .. } => {
                    assert_eq!(m.role, Role::Tool);
                    assert!(
                        calls_seen.contains(call_id),
                        "result {call_id} without an earlier call (message {i})"
                    );
                    let prev = &request.messages[i - 1];
                    assert!(
                        prev.role == Role::Assistant || prev.role == Role::Tool,
                        "results must follow their call"
                    );
                    results_seen.insert(call_id.clone());
                }
                _ => {}
            }
        }
    }
    for id in &calls_seen {
        assert!(results_seen.contains(id), "call {id} without a result");
    }
}
