//! The Control UI's session endpoints: an agent's sessions (`GET /clawgate/v1/sessions`), one
//! session as the page shows it (its conversation on the active branch, and the context meter:
//! tokens in context against the window of the model its next turn uses, and how many
//! compactions happened), and a transcript export (JSONL as stored, or Markdown). They read
//! `sessions.json` and the transcripts like `clawgate sessions` does, after the runtime's
//! queued index changes, without taking a session's lock, on the blocking pool (file I/O).
//!
//! Reasoning in past answers is included only when the session's reasoning display is on,
//! the same rule as for a live turn.

use std::sync::Arc;

use axum::extract::{Path, Query};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use clawgate_agent::session::EntryBody;
use clawgate_agent::{AgentError, AgentRuntime, ExportFormat, SessionStore, SessionView};
use clawgate_wire::{ContentBlock, Role};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::control_api::{Guarded, api_error, json_ok};
use crate::dialect::ApiError;
use crate::error_response::from_runtime_error;

#[derive(Debug, Deserialize)]
pub(crate) struct AgentQuery {
    /// The agent whose sessions to read (default: the default agent).
    agent: Option<String>,
    /// Export format: `jsonl` (default) or `markdown`.
    format: Option<String>,
}

fn runtime_for(guarded: &Guarded, agent: Option<&str>) -> Result<Arc<AgentRuntime>, ApiError> {
    guarded
        .services
        .agent(agent)
        .map_err(|e| from_runtime_error(&e))
}

fn from_session_error(error: &AgentError) -> ApiError {
    match error {
        AgentError::UnknownSession(key) => {
            ApiError::not_found("session_not_found", format!("no session {key}"))
        }
        other => ApiError::internal(other.to_string()),
    }
}

/// `GET /clawgate/v1/sessions?agent=ID`.
pub(crate) async fn list(guarded: Guarded, Query(query): Query<AgentQuery>) -> Response {
    let result = async {
        let runtime = runtime_for(&guarded, query.agent.as_deref())?;
        let settings = runtime.settings();
        let agent = settings.agent_id.clone();
        runtime
            .flush_sessions()
            .await
            .map_err(|e| from_session_error(&e))?;
        // One read of the index and the transcripts (for each session's last model).
        let store = SessionStore::for_agent(&settings.state_dir, &agent);
        let rows = tokio::task::spawn_blocking(move || {
            let sessions = store.list().map_err(|e| from_session_error(&e))?;
            Ok::<_, ApiError>(
                sessions
                    .iter()
                    .map(|summary| {
                        let view = store.show(&summary.key).ok();
                        let mut row = serde_json::to_value(summary).unwrap_or_else(|_| json!({}));
                        row["lastModel"] = json!(view.as_ref().and_then(SessionView::last_model));
                        row
                    })
                    .collect::<Vec<Value>>(),
            )
        })
        .await
        .map_err(|e| ApiError::internal(format!("session read failed: {e}")))??;
        Ok::<_, ApiError>(json!({ "agent": agent, "sessions": rows }))
    }
    .await;
    match result {
        Ok(body) => json_ok(&body),
        Err(error) => api_error(&error),
    }
}

/// One transcript message as the page renders it.
fn message_json(
    view_reasoning: bool,
    timestamp: &str,
    message: &clawgate_agent::session::StoredMessage,
) -> Value {
    let mut text = String::new();
    let mut reasoning = String::new();
    let mut calls = Vec::new();
    let mut results = Vec::new();
    let mut images = 0;
    for block in &message.content {
        match block {
            ContentBlock::Text { text: t } => {
                if !text.is_empty() {
                    text.push_str("\n\n");
                }
                text.push_str(t);
            }
            ContentBlock::Reasoning { text: r, .. } if view_reasoning => reasoning.push_str(r),
            ContentBlock::Reasoning { .. } => {}
            ContentBlock::Image { .. } => images += 1,
            ContentBlock::ToolCall {
                id,
                name,
                arguments,
            } => calls.push(json!({ "id": id, "name": name, "arguments": arguments })),
            ContentBlock::ToolResult {
                call_id,
                name,
                content,
                is_error,
            } => results.push(json!({
                "id": call_id, "name": name, "isError": is_error, "output": content,
            })),
        }
    }
    let role = match message.role {
        Role::User => "user",
        Role::Assistant => "assistant",
        Role::Tool => "tool",
    };
    json!({
        "role": role,
        "at": timestamp,
        "text": text,
        "reasoning": (!reasoning.is_empty()).then_some(reasoning),
        "model": message.model,
        "toolCalls": calls,
        "toolResults": results,
        "images": images,
    })
}

fn session_json(runtime: &AgentRuntime, view: &SessionView) -> Value {
    let reasoning_on = view
        .entry
        .reasoning_on(runtime.settings().reasoning_default);
    let messages: Vec<Value> = view
        .transcript
        .active_branch()
        .iter()
        .filter_map(|entry| match &entry.body {
            EntryBody::Message(m) => Some(message_json(reasoning_on, &entry.timestamp, m)),
            EntryBody::Compaction(c) => Some(json!({
                "role": "compaction",
                "at": entry.timestamp,
                "text": c.summary,
                "tokensBefore": c.tokens_before,
            })),
            EntryBody::Other(_) => None,
        })
        .collect();
    let model = runtime.session_model(&view.entry).ok();
    json!({
        "agent": runtime.settings().agent_id,
        "key": view.key,
        "sessionId": view.entry.session_id,
        "modelOverride": view.entry.model_override,
        "lastModel": view.last_model(),
        "reasoning": reasoning_on,
        "updatedAt": view.entry.updated_at,
        "totalTokens": view.entry.total_tokens,
        "context": {
            "tokens": view.entry.context_tokens,
            "window": model.as_ref().map(|(_, budget)| budget.window),
            "promptBudget": model.as_ref().map(|(_, budget)| budget.prompt_budget),
            "model": model.as_ref().map(|(info, _)| info.model_ref.clone()),
            "compactions": view.entry.compaction_count,
        },
        "messages": messages,
        "warnings": view.transcript.warnings,
    })
}

/// `GET /clawgate/v1/sessions/{key}?agent=ID`: by key or session id.
pub(crate) async fn show(
    guarded: Guarded,
    Path(key): Path<String>,
    Query(query): Query<AgentQuery>,
) -> Response {
    let result = async {
        let runtime = runtime_for(&guarded, query.agent.as_deref())?;
        let view = runtime
            .show_session(&key)
            .await
            .map_err(|e| from_session_error(&e))?;
        Ok::<_, ApiError>(session_json(&runtime, &view))
    }
    .await;
    match result {
        Ok(body) => json_ok(&body),
        Err(error) => api_error(&error),
    }
}

/// `GET /clawgate/v1/sessions/{key}/export?agent=ID&format=jsonl|markdown`: a download.
pub(crate) async fn export(
    guarded: Guarded,
    Path(key): Path<String>,
    Query(query): Query<AgentQuery>,
) -> Response {
    let (format, content_type, extension) = match query.format.as_deref() {
        None | Some("jsonl") => (ExportFormat::Jsonl, "application/x-ndjson", "jsonl"),
        Some("markdown") | Some("md") => {
            (ExportFormat::Markdown, "text/markdown; charset=utf-8", "md")
        }
        Some(other) => {
            return api_error(&ApiError::bad_request(format!(
                "format must be jsonl or markdown, not {other:?}"
            )));
        }
    };
    let result = async {
        let runtime = runtime_for(&guarded, query.agent.as_deref())?;
        let view = runtime
            .show_session(&key)
            .await
            .map_err(|e| from_session_error(&e))?;
        let text = runtime
            .export_session(&view.key, format)
            .await
            .map_err(|e| from_session_error(&e))?;
        Ok::<_, ApiError>((view.entry.session_id.clone(), text))
    }
    .await;
    match result {
        Ok((id, text)) => {
            let disposition = format!("attachment; filename=\"session-{id}.{extension}\"");
            let mut response = (StatusCode::OK, Bytes::from(text)).into_response();
            let headers = response.headers_mut();
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
            if let Ok(value) = HeaderValue::from_str(&disposition) {
                headers.insert(header::CONTENT_DISPOSITION, value);
            }
            response
        }
        Err(error) => api_error(&error),
    }
}
