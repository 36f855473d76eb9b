//! The measuring client: one [`Target`] per path (direct to the mock, through clawgate in
//! each inbound dialect, through LiteLLM), the same short chat request for all, timed from the
//! start of the call to the end of the answer (non-streaming), or to each content frame
//! (streaming). Streams are parsed with clawgate's own SSE parser (the wire crate), which is
//! the same work on every path, and each frame is classified by its dialect's JSON shape.

use std::time::{Duration, Instant};

use anyhow::bail;
use clawgate_wire::sse::SseParser;
use futures::StreamExt as _;
use futures::future::BoxFuture;
use serde_json::{Value, json};

/// The inbound API a target speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Dialect {
    Chat,
    Responses,
    Anthropic,
}

/// One path to the mock.
#[derive(Debug, Clone)]
pub struct Target {
    pub label: String,
    pub url: String,
    pub dialect: Dialect,
    pub model: String,
    pub bearer: Option<String>,
}

impl Target {
    pub fn new(label: &str, base: &str, dialect: Dialect, model: &str) -> Self {
        let path = match dialect {
            Dialect::Chat => "/v1/chat/completions",
            Dialect::Responses => "/v1/responses",
            Dialect::Anthropic => "/v1/messages",
        };
        Self {
            label: label.to_string(),
            url: format!("{base}{path}"),
            dialect,
            model: model.to_string(),
            bearer: None,
        }
    }

    pub fn with_bearer(mut self, key: &str) -> Self {
        self.bearer = Some(key.to_string());
        self
    }

    /// The request body: "hello", at most 256 output tokens.
    pub fn body(&self, stream: bool) -> Value {
        let messages = json!([{"role": "user", "content": "hello"}]);
        match self.dialect {
            Dialect::Chat | Dialect::Anthropic => json!({
                "model": self.model, "messages": messages, "max_tokens": 256, "stream": stream,
            }),
            Dialect::Responses => json!({
                "model": self.model, "input": "hello", "max_output_tokens": 256, "stream": stream,
            }),
        }
    }

    fn request(&self, client: &reqwest::Client, body: &Value) -> reqwest::RequestBuilder {
        let mut builder = client.post(&self.url).json(body);
        if let Some(key) = &self.bearer {
            builder = builder.bearer_auth(key);
        }
        if self.dialect == Dialect::Anthropic {
            builder = builder.header("anthropic-version", "2023-06-01");
        }
        builder
    }
}

/// A keep-alive HTTP/1.1 client (one per path, so each path keeps its own connection).
pub fn keep_alive_client(max_idle: usize) -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .no_proxy()
        .http1_only()
        .tcp_nodelay(true)
        .pool_max_idle_per_host(max_idle)
        .timeout(Duration::from_secs(120))
        .build()?)
}

/// One non-streaming call: the time to the end of the body.
pub async fn timed_call(client: &reqwest::Client, target: &Target) -> anyhow::Result<Duration> {
    let body = target.body(false);
    let started = Instant::now();
    let response = target.request(client, &body).send().await?;
    let status = response.status();
    let bytes = response.bytes().await?;
    let elapsed = started.elapsed();
    if !status.is_success() {
        bail!(
            "{}: HTTP {status}: {}",
            target.label,
            String::from_utf8_lossy(&bytes)
        );
    }
    Ok(elapsed)
}

/// One timed exchange with a target (`timed_call`, or a stream's TTFT).
pub type TimedCall<'a> = BoxFuture<'a, anyhow::Result<Duration>>;

/// `rounds` timed exchanges per target, each target on a keep-alive connection of its own,
/// the targets interleaved one exchange at a time (rotating which goes first, so drift hits
/// them alike), after `warmup` rounds that are not kept. One series of samples per target,
/// in the order given.
pub async fn interleaved(
    targets: &[&Target],
    rounds: usize,
    warmup: usize,
    time: impl for<'a> Fn(&'a reqwest::Client, &'a Target) -> TimedCall<'a>,
) -> anyhow::Result<Vec<Vec<Duration>>> {
    let clients = targets
        .iter()
        .map(|_| keep_alive_client(1))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let mut samples: Vec<Vec<Duration>> = vec![Vec::with_capacity(rounds); targets.len()];
    for round in 0..warmup + rounds {
        for slot in 0..targets.len() {
            let which = (round + slot) % targets.len();
            let took = time(&clients[which], targets[which]).await?;
            if round >= warmup {
                samples[which].push(took);
            }
        }
    }
    Ok(samples)
}

/// What one streamed answer looked like from the client.
#[derive(Debug, Clone, Default)]
pub struct StreamRecord {
    /// Request start to the first content frame.
    pub ttft: Option<Duration>,
    /// Between consecutive content frames.
    pub gaps: Vec<Duration>,
    pub content_frames: usize,
    /// The dialect's normal end was seen (finish + `[DONE]`, `message_stop`, `response.completed`).
    pub finished: bool,
    pub error: Option<String>,
}

impl StreamRecord {
    pub fn max_gap(&self) -> Duration {
        self.gaps.iter().copied().max().unwrap_or_default()
    }
}

enum FrameKind {
    Content,
    End,
    Other,
}

fn classify(dialect: Dialect, data: &str) -> FrameKind {
    if data.trim() == "[DONE]" {
        return match dialect {
            Dialect::Chat => FrameKind::End,
            _ => FrameKind::Other,
        };
    }
    let Ok(v) = serde_json::from_str::<Value>(data) else {
        return FrameKind::Other;
    };
    match dialect {
        Dialect::Chat => {
            let content = v["choices"][0]["delta"]["content"].as_str();
            if content.is_some_and(|c| !c.is_empty()) {
                FrameKind::Content
            } else {
                FrameKind::Other
            }
        }
        Dialect::Responses => match v["type"].as_str() {
            Some("response.output_text.delta") => FrameKind::Content,
            Some("response.completed" | "response.incomplete") => FrameKind::End,
            _ => FrameKind::Other,
        },
        Dialect::Anthropic => match v["type"].as_str() {
            Some("content_block_delta") if v["delta"]["type"] == "text_delta" => FrameKind::Content,
            Some("message_stop") => FrameKind::End,
            _ => FrameKind::Other,
        },
    }
}

/// One streamed call, read to its end; failures are recorded, not returned.
pub async fn timed_stream(client: &reqwest::Client, target: &Target) -> StreamRecord {
    let mut record = StreamRecord::default();
    if let Err(e) = read_stream(client, target, &mut record).await {
        record.error = Some(e.to_string());
    }
    record
}

async fn read_stream(
    client: &reqwest::Client,
    target: &Target,
    record: &mut StreamRecord,
) -> anyhow::Result<()> {
    let body = target.body(true);
    let started = Instant::now();
    let response = target.request(client, &body).send().await?;
    let status = response.status();
    if !status.is_success() {
        let text = response.text().await.unwrap_or_default();
        bail!("HTTP {status}: {text}");
    }
    let mut parser = SseParser::new();
    let mut last = None;
    let mut body = response.bytes_stream();
    let mut on_frames = |frames: Vec<clawgate_wire::Frame>, record: &mut StreamRecord| {
        for frame in frames {
            match classify(target.dialect, &frame.data) {
                FrameKind::Content => {
                    let now = Instant::now();
                    match last {
                        None => record.ttft = Some(now - started),
                        Some(prev) => record.gaps.push(now - prev),
                    }
                    last = Some(now);
                    record.content_frames += 1;
                }
                FrameKind::End => record.finished = true,
                FrameKind::Other => {}
            }
        }
    };
    while let Some(chunk) = body.next().await {
        let frames = parser.push(&chunk?);
        on_frames(frames, record);
    }
    on_frames(parser.finish(), record);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(d: Dialect, data: &str) -> &'static str {
        match classify(d, data) {
            FrameKind::Content => "content",
            FrameKind::End => "end",
            FrameKind::Other => "other",
        }
    }

    #[test]
    fn chat_frames() {
        let role = r#"{"choices":[{"delta":{"role":"assistant","content":""}}]}"#;
        let text = r#"{"choices":[{"delta":{"content":"mock"}}]}"#;
        let finish = r#"{"choices":[{"delta":{},"finish_reason":"stop"}]}"#;
        assert_eq!(kind(Dialect::Chat, role), "other");
        assert_eq!(kind(Dialect::Chat, text), "content");
        assert_eq!(kind(Dialect::Chat, finish), "other");
        assert_eq!(kind(Dialect::Chat, "[DONE]"), "end");
    }

    #[test]
    fn responses_frames() {
        let delta = r#"{"type":"response.output_text.delta","delta":"mo"}"#;
        let done = r#"{"type":"response.completed","response":{}}"#;
        assert_eq!(kind(Dialect::Responses, delta), "content");
        assert_eq!(kind(Dialect::Responses, done), "end");
        // LiteLLM's bridge ends with [DONE] after response.completed: not a second end.
        assert_eq!(kind(Dialect::Responses, "[DONE]"), "other");
    }

    #[test]
    fn anthropic_frames() {
        let text =
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"m"}}"#;
        let thinking = r#"{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"m"}}"#;
        assert_eq!(kind(Dialect::Anthropic, text), "content");
        assert_eq!(kind(Dialect::Anthropic, thinking), "other");
        assert_eq!(
            kind(Dialect::Anthropic, r#"{"type":"message_stop"}"#),
            "end"
        );
    }

    #[test]
    fn bodies_name_the_model_and_stream_flag() {
        let t = Target::new("x", "http://h", Dialect::Responses, "fast/mock-model");
        assert_eq!(t.url, "http://h/v1/responses");
        let body = t.body(true);
        assert_eq!(body["model"], "fast/mock-model");
        assert_eq!(body["stream"], true);
        assert_eq!(body["input"], "hello");
    }
}
