//! Exec approvals answered in the Control UI. A streamed agent turn whose client asked for
//! clawgate's stream frames (`x-clawgate-events: on`, which the page sends) gets a
//! [`UiApprover`]: when the exec approvals need an answer it sends an `approval_request` frame
//! on that stream and waits for `POST /clawgate/v1/approvals/{id}` with OpenClaw's decisions
//! (`allow-once`, `allow-always`, `deny`). No answer within the limit
//! (`RequestLimits::approval_timeout`) refuses the command; a client that goes away cancels the
//! turn, so the command never runs. Turns without the frames keep no approver (`askFallback`
//! decides).
//!
//! `allow-always` appends the command's resolved programs to the agent's allowlist in
//! `<state>/exec-approvals.json` (the file the approvals are read from) and remembers them here
//! for the agent at once, so the running settings need no reload to stop asking.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use axum::Router;
use axum::body::Bytes;
use axum::extract::Path;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::post;
use clawgate_agent::{ApprovalDecision, ApprovalRequest, ExecApprover};
use serde_json::{Value, json};
use tokio::sync::{mpsc, oneshot};

use crate::control_api::{Guarded, api_error, json_ok};
use crate::dialect::ApiError;
use crate::http_api::is_json;
use crate::server::AppState;
use crate::sse_body::StreamItem;

/// OpenClaw's decisions, as the endpoint takes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum UiDecision {
    AllowOnce,
    AllowAlways,
    Deny,
}

impl UiDecision {
    fn parse(text: &str) -> Option<Self> {
        match text {
            "allow-once" => Some(UiDecision::AllowOnce),
            "allow-always" => Some(UiDecision::AllowAlways),
            "deny" => Some(UiDecision::Deny),
            _ => None,
        }
    }
}

/// A question waiting for its answer.
struct Pending {
    agent: String,
    /// What `allow-always` adds (the resolved programs of the chain).
    patterns: Vec<String>,
    allowlist_file: Option<PathBuf>,
    answer: oneshot::Sender<UiDecision>,
}

/// The open questions of every turn, and the patterns allowed always per agent since start.
#[derive(Default)]
pub(crate) struct PendingApprovals {
    open: Mutex<HashMap<String, Pending>>,
    remembered: Mutex<HashMap<String, Vec<String>>>,
    /// One writer of the approvals file at a time.
    file_writer: Arc<Mutex<()>>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl PendingApprovals {
    fn remembered(&self, agent: &str) -> Vec<String> {
        lock(&self.remembered)
            .get(agent)
            .cloned()
            .unwrap_or_default()
    }

    fn remember(&self, agent: &str, patterns: &[String]) {
        let mut remembered = lock(&self.remembered);
        let list = remembered.entry(agent.to_string()).or_default();
        for p in patterns {
            if !list.contains(p) {
                list.push(p.clone());
            }
        }
    }
}

/// Removes the question when the asking future ends or is dropped (answered, expired, or the
/// turn was cancelled because the client went away).
struct Withdraw<'a> {
    pending: &'a PendingApprovals,
    id: String,
}

impl Drop for Withdraw<'_> {
    fn drop(&mut self) {
        lock(&self.pending.open).remove(&self.id);
    }
}

/// The approver of one streamed turn: asks on the turn's own stream.
pub(crate) struct UiApprover {
    pub pending: Arc<PendingApprovals>,
    pub frames: mpsc::UnboundedSender<StreamItem>,
    pub agent: String,
    pub allowlist_file: Option<PathBuf>,
    pub wait: Duration,
}

#[async_trait]
impl ExecApprover for UiApprover {
    async fn approve(&self, request: &ApprovalRequest) -> ApprovalDecision {
        let id = uuid::Uuid::new_v4().simple().to_string();
        let patterns: Vec<String> = request
            .programs
            .iter()
            .map(|p| p.display().to_string())
            .collect();
        let (answer, answered) = oneshot::channel();
        lock(&self.pending.open).insert(
            id.clone(),
            Pending {
                agent: self.agent.clone(),
                patterns: patterns.clone(),
                allowlist_file: self.allowlist_file.clone(),
                answer,
            },
        );
        let _withdraw = Withdraw {
            pending: &self.pending,
            id: id.clone(),
        };
        let frame = json!({
            "type": "approval_request",
            "id": id,
            "command": request.command,
            "cwd": request.workspace.display().to_string(),
            "agent": self.agent,
            "session": request.session_key,
            "reason": request.reason,
            "sandboxed": request.sandboxed,
            "patterns": patterns,
            "expiresInMs": self.wait.as_millis() as u64,
        });
        if self.frames.send(StreamItem::Extension(frame)).is_err() {
            // The stream is gone: nobody sees the question.
            return ApprovalDecision::Deny;
        }
        match tokio::time::timeout(self.wait, answered).await {
            Ok(Ok(UiDecision::AllowOnce | UiDecision::AllowAlways)) => ApprovalDecision::Allow,
            Ok(Ok(UiDecision::Deny)) | Ok(Err(_)) => ApprovalDecision::Deny,
            Err(_) => ApprovalDecision::Expired {
                waited_secs: self.wait.as_secs(),
            },
        }
    }

    fn remembered_patterns(&self) -> Vec<String> {
        self.pending.remembered(&self.agent)
    }
}

pub(crate) fn routes() -> Router<Arc<AppState>> {
    Router::new().route("/clawgate/v1/approvals/{id}", post(decide))
}

/// `POST /clawgate/v1/approvals/{id}` with `{"decision": "allow-once"|"allow-always"|"deny"}`.
async fn decide(
    guarded: Guarded,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !is_json(&headers) {
        return api_error(&ApiError::unsupported_media_type(
            "send the body as JSON with `Content-Type: application/json`",
        ));
    }
    let decision = match serde_json::from_slice::<Value>(&body) {
        Ok(value) => value
            .get("decision")
            .and_then(Value::as_str)
            .map(str::to_string),
        Err(e) => {
            return api_error(&ApiError::bad_request(format!(
                "the request body is not valid JSON: {e}"
            )));
        }
    };
    let Some(decision) = decision.as_deref().and_then(UiDecision::parse) else {
        return api_error(&ApiError::bad_request(format!(
            "decision: expected one of \"allow-once\", \"allow-always\", \"deny\", got {}",
            decision.map_or("nothing".to_string(), |d| format!("{d:?}"))
        )));
    };
    let pending = guarded.state.approvals.clone();
    let Some(question) = lock(&pending.open).remove(&id) else {
        return api_error(&ApiError::not_found(
            "approval_not_found",
            format!("no open approval request {id:?}: it was answered, expired, or its turn ended"),
        ));
    };
    let mut added = Vec::new();
    if decision == UiDecision::AllowAlways {
        match remember(&pending, &question).await {
            Ok(patterns) => added = patterns,
            Err(error) => {
                // Put the question back (unless its turn ended meanwhile): allow-once or deny
                // can still answer it.
                if !question.answer.is_closed() {
                    lock(&pending.open).insert(id, question);
                }
                return api_error(&error);
            }
        }
    }
    let delivered = question.answer.send(decision).is_ok();
    json_ok(&json!({
        "id": id,
        "decision": match decision {
            UiDecision::AllowOnce => "allow-once",
            UiDecision::AllowAlways => "allow-always",
            UiDecision::Deny => "deny",
        },
        "delivered": delivered,
        "remembered": added,
    }))
}

/// Writes the question's patterns to the approvals file (on the blocking pool) and remembers
/// them for the agent.
async fn remember(pending: &PendingApprovals, question: &Pending) -> Result<Vec<String>, ApiError> {
    if question.patterns.is_empty() {
        return Err(ApiError::bad_request(
            "this command cannot be allowed always: the allowlist holds program paths, and the \
             command uses syntax the allowlist never matches (redirections, `$…`, subshells …) \
             or a program that is not found; answer allow-once or deny",
        ));
    }
    let Some(file) = question.allowlist_file.clone() else {
        return Err(ApiError::internal(
            "the agent has no approvals file to remember the command in",
        ));
    };
    let (agent, patterns) = (question.agent.clone(), question.patterns.clone());
    let writer = pending.file_writer.clone();
    let written = tokio::task::spawn_blocking(move || {
        let _one_writer = lock(&writer);
        clawgate_config::exec_approvals::remember_patterns(&file, &agent, &patterns)
    })
    .await;
    match written {
        Ok(Ok(added)) => {
            pending.remember(&question.agent, &question.patterns);
            Ok(added)
        }
        Ok(Err(error)) => Err(ApiError::internal(format!(
            "could not update the approvals file: {error}"
        ))),
        Err(error) => Err(ApiError::internal(format!(
            "could not update the approvals file: {error}"
        ))),
    }
}
