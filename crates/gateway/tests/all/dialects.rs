//! Any dialect in, any dialect out: every inbound dialect against every upstream dialect,
//! streamed and not, checked for the answer text, the usage, the routing headers and each
//! dialect's stream framing.

use serde_json::Value;

use crate::support::{
    Harness, INBOUNDS, Inbound, MODEL, SseEvent, UPSTREAMS, parse_sse, response_text, stream_text,
};

fn check_usage(inbound: Inbound, body: &Value) -> Result<(), String> {
    let (input, output) = match inbound {
        Inbound::Chat => (
            &body["usage"]["prompt_tokens"],
            &body["usage"]["completion_tokens"],
        ),
        Inbound::Responses | Inbound::Messages => (
            &body["usage"]["input_tokens"],
            &body["usage"]["output_tokens"],
        ),
    };
    match (input.as_u64(), output.as_u64()) {
        (Some(i), Some(o)) if i > 0 && o > 0 => Ok(()),
        _ => Err(format!("no usage in {body}")),
    }
}

/// The OpenAI dialects' answers carry the gateway's clock (the codecs write 0 without one);
/// Anthropic's message has no creation time.
fn check_created(inbound: Inbound, body: &Value) -> Result<(), String> {
    let field = match inbound {
        Inbound::Chat => "created",
        Inbound::Responses => "created_at",
        Inbound::Messages => return Ok(()),
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_err(|e| e.to_string())?
        .as_secs();
    match body[field].as_u64() {
        Some(created) if created + 60 >= now && created <= now + 1 => Ok(()),
        _ => Err(format!("`{field}` is not the time of the answer in {body}")),
    }
}

/// The framing each dialect's clients expect.
fn check_framing(inbound: Inbound, events: &[SseEvent]) -> Result<(), String> {
    let types: Vec<String> = events
        .iter()
        .filter(|e| e.data != "[DONE]")
        .map(|e| e.json()["type"].as_str().unwrap_or_default().to_string())
        .collect();
    match inbound {
        Inbound::Chat => {
            if events.iter().any(|e| e.event.is_some()) {
                return Err("chat chunks must not carry event: lines".into());
            }
            if events.last().map(|e| e.data.as_str()) != Some("[DONE]") {
                return Err("chat stream must end with [DONE]".into());
            }
            let chunks: Vec<Value> = events[..events.len() - 1]
                .iter()
                .map(SseEvent::json)
                .collect();
            if chunks
                .iter()
                .any(|c| c["object"] != "chat.completion.chunk")
            {
                return Err("every chunk is a chat.completion.chunk".into());
            }
            if chunks[0]["choices"][0]["delta"]["role"] != "assistant" {
                return Err("the first chunk carries the role".into());
            }
            let finish = chunks
                .iter()
                .filter_map(|c| c["choices"][0]["finish_reason"].as_str())
                .collect::<Vec<_>>();
            if finish != ["stop"] {
                return Err(format!("one finish_reason stop, got {finish:?}"));
            }
            let usage = chunks
                .last()
                .map(|c| c["usage"]["completion_tokens"].as_u64());
            if usage.flatten().is_none() {
                return Err("the last chunk carries usage (include_usage was asked)".into());
            }
        }
        Inbound::Responses => {
            let mut sequence = None;
            for event in events {
                let data = event.json();
                if event.event.as_deref() != data["type"].as_str() {
                    return Err(format!("event: line must match type: {event:?}"));
                }
                let n = data["sequence_number"]
                    .as_u64()
                    .ok_or("sequence_number missing")?;
                if sequence.is_some_and(|s| n != s + 1) {
                    return Err(format!("sequence numbers must increase by one, got {n}"));
                }
                sequence = Some(n);
            }
            if types.first().map(String::as_str) != Some("response.created") {
                return Err(format!("starts with response.created: {types:?}"));
            }
            if types.last().map(String::as_str) != Some("response.completed") {
                return Err(format!("ends with response.completed: {types:?}"));
            }
            let completed = events.last().ok_or("empty")?.json();
            check_usage(Inbound::Responses, &completed["response"])?;
        }
        Inbound::Messages => {
            for event in events {
                let data = event.json();
                if event.event.as_deref() != data["type"].as_str() {
                    return Err(format!("event: line must match type: {event:?}"));
                }
            }
            let expected_start = ["message_start"];
            if types[..1] != expected_start {
                return Err(format!("starts with message_start: {types:?}"));
            }
            if types.last().map(String::as_str) != Some("message_stop") {
                return Err(format!("ends with message_stop: {types:?}"));
            }
            for needed in [
                "content_block_start",
                "content_block_delta",
                "content_block_stop",
                "message_delta",
            ] {
                if !types.iter().any(|t| t == needed) {
                    return Err(format!("{needed} missing: {types:?}"));
                }
            }
            let delta = events
                .iter()
                .map(SseEvent::json)
                .find(|d| d["type"] == "message_delta")
                .ok_or("message_delta")?;
            if delta["usage"]["output_tokens"].as_u64().unwrap_or(0) == 0 {
                return Err(format!("message_delta carries usage: {delta}"));
            }
            if delta["delta"]["stop_reason"] != "end_turn" {
                return Err(format!("stop_reason end_turn: {delta}"));
            }
        }
    }
    Ok(())
}

async fn run_case(
    harness: &Harness,
    inbound: Inbound,
    upstream: &str,
    stream: bool,
) -> Result<(), String> {
    let prompt = format!("hello from {inbound:?} to {upstream}");
    let model = format!("{upstream}/{MODEL}");
    let response = harness
        .post(inbound.path(), &inbound.body(&model, &prompt, stream))
        .await;
    let status = response.status();
    let answered = response
        .headers()
        .get("x-clawgate-model")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let fallback = response
        .headers()
        .get("x-clawgate-fallback")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let text = response.text().await.map_err(|e| e.to_string())?;
    if status != 200 {
        return Err(format!("status {status}: {text}"));
    }
    if answered.as_deref() != Some(model.as_str()) || fallback.as_deref() != Some("false") {
        return Err(format!(
            "headers: model {answered:?}, fallback {fallback:?}"
        ));
    }
    let expected = format!("mock answer to: {prompt}");
    let got = if stream {
        if !content_type.starts_with("text/event-stream") {
            return Err(format!("content type {content_type}"));
        }
        let events = parse_sse(&text);
        check_framing(inbound, &events)?;
        stream_text(inbound, &events)
    } else {
        let body: Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
        check_usage(inbound, &body)?;
        check_created(inbound, &body)?;
        response_text(inbound, &body)
    };
    if got != expected {
        return Err(format!("text {got:?}, expected {expected:?}"));
    }
    Ok(())
}

async fn matrix(stream: bool) {
    let harness = Harness::start().await;
    let mut failures = Vec::new();
    for inbound in INBOUNDS {
        for upstream in UPSTREAMS {
            if let Err(error) = run_case(&harness, inbound, upstream, stream).await {
                failures.push(format!(
                    "{inbound:?} -> {upstream} (stream {stream}): {error}"
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} case(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[tokio::test]
async fn every_inbound_dialect_over_every_upstream_dialect() {
    matrix(false).await;
}

#[tokio::test]
async fn every_inbound_dialect_over_every_upstream_dialect_streamed() {
    matrix(true).await;
}

#[tokio::test]
async fn aliases_resolve_and_usage_chunk_only_when_asked() {
    let harness = Harness::start().await;
    let mut body = Inbound::Chat.body("fast", "alias please", true);
    body.as_object_mut().unwrap().remove("stream_options");
    let response = harness.post("/v1/chat/completions", &body).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["x-clawgate-model"], "chatup/mock-model");
    let events = parse_sse(&response.text().await.unwrap());
    let chunks: Vec<Value> = events
        .iter()
        .filter(|e| e.data != "[DONE]")
        .map(SseEvent::json)
        .collect();
    assert!(
        chunks
            .iter()
            .all(|c| c["choices"].as_array().is_some_and(|a| !a.is_empty())),
        "no usage-only chunk without stream_options.include_usage: {chunks:?}"
    );
    assert_eq!(
        stream_text(Inbound::Chat, &events),
        "mock answer to: alias please"
    );
}

#[tokio::test]
async fn reasoning_reaches_each_dialect_in_its_own_shape() {
    let harness = Harness::start().await;
    for inbound in INBOUNDS {
        harness
            .mock
            .push_script(mock_upstream::Script::default().with_reasoning("thinking hard"));
        let model = format!("chatup/{MODEL}");
        let response = harness
            .post(inbound.path(), &inbound.body(&model, "why?", true))
            .await;
        assert_eq!(response.status(), 200);
        let events = parse_sse(&response.text().await.unwrap());
        let datas: Vec<Value> = events
            .iter()
            .filter(|e| e.data != "[DONE]")
            .map(SseEvent::json)
            .collect();
        let reasoning: String = match inbound {
            Inbound::Chat => datas
                .iter()
                .filter_map(|d| d["choices"][0]["delta"]["reasoning_content"].as_str())
                .collect(),
            Inbound::Responses => datas
                .iter()
                .filter(|d| d["type"] == "response.reasoning_summary_text.delta")
                .filter_map(|d| d["delta"].as_str())
                .collect(),
            Inbound::Messages => datas
                .iter()
                .filter(|d| d["delta"]["type"] == "thinking_delta")
                .filter_map(|d| d["delta"]["thinking"].as_str())
                .collect(),
        };
        assert_eq!(reasoning, "thinking hard", "{inbound:?}: {datas:?}");
        assert!(
            !stream_text(inbound, &events).contains("thinking hard"),
            "{inbound:?}: reasoning never becomes text"
        );
    }
}
