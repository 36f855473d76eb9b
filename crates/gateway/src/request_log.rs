//! The last requests through the gateway, in memory, for the Control UI's Requests view and
//! `GET /clawgate/v1/requests`: per request its time, route, the model asked for, the model
//! that answered, every attempt on the way (so a failover is visible as it happens), latency,
//! tokens and outcome. Requests still running are listed too, updated as they commit.
//!
//! Bounded: finished requests sit in a ring of `capacity` entries (oldest dropped first);
//! running ones in a map that only holds what is in flight. Each request shares one
//! `Arc<Mutex<RequestEntry>>` with its `RequestRecord`: the record updates it under an
//! uncontended lock, a reader copies it under the same lock. Nothing here is written to disk.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use clawgate_agent::FallbackInfo;
use clawgate_router::AttemptRecord;
use clawgate_runtime::model_client::attempt_reason;
use clawgate_wire::Usage;
use serde::Serialize;

/// Finished requests kept by default.
pub const DEFAULT_CAPACITY: usize = 200;

/// One attempt of a model call, as the Control UI shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AttemptView {
    /// `provider/model`.
    pub model: String,
    /// `ok`, `failed` or `skipped` (not called: cooling down, provider unavailable).
    pub outcome: &'static str,
    /// `ok`, the failure kind, `cooldown:<kind>`, `provider_unavailable`.
    pub reason: String,
    /// For people: `connection refused (network)`.
    pub detail: String,
    pub latency_ms: u64,
}

impl AttemptView {
    pub fn from_record(record: &AttemptRecord) -> Self {
        use clawgate_router::AttemptOutcome;
        let outcome = match record.outcome {
            AttemptOutcome::Ok => "ok",
            AttemptOutcome::Failed { .. } => "failed",
            AttemptOutcome::SkippedForCooldown { .. } | AttemptOutcome::SkippedUnknownProvider => {
                "skipped"
            }
        };
        Self {
            model: record.candidate.key(),
            outcome,
            reason: attempt_reason(record),
            detail: record.detail(),
            latency_ms: record.latency.as_millis() as u64,
        }
    }

    /// The attempts of one agent model call: the failed ones of its fallback record, then the
    /// model that answered.
    pub fn from_agent_answer(model_ref: &str, fallback: Option<&FallbackInfo>) -> Vec<Self> {
        let mut out: Vec<Self> = fallback
            .map(|f| f.failed.as_slice())
            .unwrap_or_default()
            .iter()
            .map(|a| Self {
                model: a.model_ref.clone(),
                outcome: if a.reason.starts_with("cooldown:") || a.reason == "provider_unavailable"
                {
                    "skipped"
                } else {
                    "failed"
                },
                reason: a.reason.clone(),
                detail: a.detail.clone(),
                latency_ms: a.latency_ms,
            })
            .collect();
        out.push(Self {
            model: model_ref.to_string(),
            outcome: "ok",
            reason: "ok".to_string(),
            detail: "ok".to_string(),
            latency_ms: 0,
        });
        out
    }
}

/// Why the requested model did not answer a call a fallback answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FallbackView {
    pub requested: String,
    pub reason: String,
}

/// Token counts of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct TokenCounts {
    pub input: Option<u64>,
    pub output: Option<u64>,
}

impl From<Usage> for TokenCounts {
    fn from(usage: Usage) -> Self {
        Self {
            input: usage.input_tokens,
            output: usage.output_tokens,
        }
    }
}

/// One request, running or finished.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestEntry {
    /// Also sent as the `x-clawgate-request-id` response header.
    pub id: String,
    /// Epoch ms.
    pub started_at: u64,
    /// `chat_completions`, `responses`, `messages`.
    pub route: &'static str,
    /// The `model` field as the client sent it (`None` when the body was never read).
    pub asked: Option<String>,
    pub stream: bool,
    /// Agent targets: the agent and the session key.
    pub agent: Option<String>,
    pub session: Option<String>,
    /// The `provider/model` that answered (agent turns: the model of the last answer).
    pub answered: Option<String>,
    pub fallback: Option<FallbackView>,
    pub attempts: Vec<AttemptView>,
    /// Operational notices the client was given: a model that could not do what was asked
    /// (`x-clawgate-notice`), an agent's notices.
    pub notices: Vec<String>,
    /// Total time, once finished.
    pub latency_ms: Option<u64>,
    pub tokens: TokenCounts,
    /// `ok`, `client_error`, `upstream_error`, `rate_limited`, `stream_error`, `unauthorized`,
    /// `aborted`; `None` while running.
    pub outcome: Option<&'static str>,
    /// HTTP status of an error answer.
    pub status: Option<u16>,
    pub error: Option<String>,
}

pub type SharedEntry = Arc<Mutex<RequestEntry>>;

pub(crate) fn lock(entry: &SharedEntry) -> MutexGuard<'_, RequestEntry> {
    entry.lock().unwrap_or_else(PoisonError::into_inner)
}

fn epoch_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// See the module docs.
#[derive(Debug)]
pub struct RequestLog {
    capacity: usize,
    finished: Mutex<VecDeque<SharedEntry>>,
    running: Mutex<HashMap<String, SharedEntry>>,
}

impl Default for RequestLog {
    fn default() -> Self {
        Self::new(DEFAULT_CAPACITY)
    }
}

impl RequestLog {
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            finished: Mutex::new(VecDeque::with_capacity(capacity.max(1))),
            running: Mutex::new(HashMap::new()),
        }
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Registers a new running request on `route` and returns its shared entry.
    pub fn start(&self, route: &'static str) -> SharedEntry {
        let entry = Arc::new(Mutex::new(RequestEntry {
            id: uuid::Uuid::new_v4().simple().to_string(),
            started_at: epoch_ms(),
            route,
            asked: None,
            stream: false,
            agent: None,
            session: None,
            answered: None,
            fallback: None,
            attempts: Vec::new(),
            notices: Vec::new(),
            latency_ms: None,
            tokens: TokenCounts::default(),
            outcome: None,
            status: None,
            error: None,
        }));
        let id = lock(&entry).id.clone();
        self.running
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(id, entry.clone());
        entry
    }

    /// Moves a request from running to finished (the shared entry itself: nothing copied).
    pub fn finish(&self, entry: &SharedEntry) {
        // Lock order: an entry, then `running`; never the other way round (readers collect
        // from `running` and lock entries after letting it go).
        let removed = {
            let done = lock(entry);
            self.running
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .remove(&done.id)
        };
        let mut finished = self.finished.lock().unwrap_or_else(PoisonError::into_inner);
        if finished.len() >= self.capacity {
            finished.pop_front();
        }
        finished.push_back(removed.unwrap_or_else(|| entry.clone()));
    }

    /// Running requests, oldest first.
    pub fn running(&self) -> Vec<RequestEntry> {
        let shared: Vec<SharedEntry> = self
            .running
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .values()
            .cloned()
            .collect();
        let mut out: Vec<RequestEntry> = shared.iter().map(|e| lock(e).clone()).collect();
        out.sort_by(|a, b| a.started_at.cmp(&b.started_at).then(a.id.cmp(&b.id)));
        out
    }

    /// The last `limit` finished requests, newest first.
    pub fn recent(&self, limit: usize) -> Vec<RequestEntry> {
        let finished = self.finished.lock().unwrap_or_else(PoisonError::into_inner);
        finished
            .iter()
            .rev()
            .take(limit)
            .map(|entry| lock(entry).clone())
            .collect()
    }

    /// One request by id, running or finished.
    pub fn get(&self, id: &str) -> Option<RequestEntry> {
        let running = self
            .running
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(id)
            .cloned();
        if let Some(entry) = running {
            return Some(lock(&entry).clone());
        }
        let finished = self.finished.lock().unwrap_or_else(PoisonError::into_inner);
        finished.iter().rev().find_map(|entry| {
            let entry = lock(entry);
            (entry.id == id).then(|| entry.clone())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_last_capacity_requests_newest_first() {
        let log = RequestLog::new(2);
        let ids: Vec<String> = (0..3)
            .map(|_| {
                let entry = log.start("chat_completions");
                let id = lock(&entry).id.clone();
                log.finish(&entry);
                id
            })
            .collect();
        let recent = log.recent(10);
        assert_eq!(recent.len(), 2);
        assert_eq!(recent[0].id, ids[2]);
        assert_eq!(recent[1].id, ids[1]);
        assert!(log.get(&ids[0]).is_none());
        assert!(log.running().is_empty());
    }

    #[test]
    fn running_requests_are_visible_until_they_finish() {
        let log = RequestLog::new(5);
        let entry = log.start("responses");
        lock(&entry).answered = Some("p/m".into());
        let running = log.running();
        assert_eq!(running.len(), 1);
        assert_eq!(running[0].answered.as_deref(), Some("p/m"));
        let id = running[0].id.clone();
        assert_eq!(log.get(&id).unwrap().route, "responses");
        log.finish(&entry);
        assert!(log.running().is_empty());
        assert_eq!(log.recent(1)[0].id, id);
    }
}
