//! The bookkeeping of one request, completed exactly once: when the handler returns a full
//! answer, when a stream ends, or when a streamed body is dropped mid-way (the client left),
//! which a `Drop` impl catches. Holds what metrics need (route, answering model, its cost,
//! start time, upstream wait, usage, outcome) and the request's entry in the recent-requests
//! log (model asked for, attempts, fallback, error), moved to the finished ring on completion.

use std::sync::Arc;
use std::time::{Duration, Instant};

use clawgate_config::ModelCost;
use clawgate_wire::Usage;

use crate::dialect::ApiError;
use crate::metrics::{GatewayMetrics, Outcome};
use crate::request_log::{AttemptView, FallbackView, RequestLog, SharedEntry, TokenCounts, lock};

/// Model label for requests that never resolved to a model.
pub const UNRESOLVED_MODEL: &str = "unresolved";

pub struct RequestRecord {
    metrics: Arc<GatewayMetrics>,
    log: Arc<RequestLog>,
    entry: SharedEntry,
    route: &'static str,
    model: Arc<str>,
    cost: ModelCost,
    started: Instant,
    upstream: Duration,
    /// Book total/overhead timing (routed model calls; an agent turn is all "upstream").
    timed: bool,
    usage: Option<Usage>,
    outcome: Option<Outcome>,
}

impl std::fmt::Debug for RequestRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequestRecord")
            .field("route", &self.route)
            .field("model", &self.model)
            .field("outcome", &self.outcome)
            .finish_non_exhaustive()
    }
}

impl RequestRecord {
    pub fn start(
        metrics: Arc<GatewayMetrics>,
        log: Arc<RequestLog>,
        route: &'static str,
        started: Instant,
    ) -> Self {
        metrics.request_started();
        let entry = log.start(route);
        Self {
            metrics,
            log,
            entry,
            route,
            model: Arc::from(UNRESOLVED_MODEL),
            cost: ModelCost::default(),
            started,
            upstream: Duration::ZERO,
            timed: false,
            usage: None,
            outcome: None,
        }
    }

    /// The model answering (or asked for), its cost, and whether to book overhead timing.
    pub fn set_model(&mut self, model: Arc<str>, cost: ModelCost, timed: bool) {
        self.model = model;
        self.cost = cost;
        self.timed = timed;
    }

    /// When the request arrived.
    pub fn started(&self) -> Instant {
        self.started
    }

    pub fn add_upstream(&mut self, waited: Duration) {
        self.upstream += waited;
    }

    pub fn set_usage(&mut self, usage: Usage) {
        self.usage = Some(usage);
    }

    pub fn set_outcome(&mut self, outcome: Outcome) {
        self.outcome = Some(outcome);
    }

    /// The request id (the `x-clawgate-request-id` header).
    pub fn id(&self) -> String {
        lock(&self.entry).id.clone()
    }

    /// The request's entry in the recent-requests log, for updates from elsewhere (an agent
    /// turn's event sink).
    pub fn entry(&self) -> SharedEntry {
        self.entry.clone()
    }

    /// What the client asked for.
    pub fn set_asked(&mut self, model: &str, stream: bool) {
        let mut entry = lock(&self.entry);
        entry.asked = Some(model.to_string());
        entry.stream = stream;
    }

    /// An agent turn: which agent, on which session.
    pub fn set_agent(&mut self, agent: &str, session: &str) {
        let mut entry = lock(&self.entry);
        entry.agent = Some(agent.to_string());
        entry.session = Some(session.to_string());
    }

    /// A routed call's attempts, and who answered (when one did).
    pub fn set_route(
        &mut self,
        answered: Option<&str>,
        fallback: Option<FallbackView>,
        attempts: Vec<AttemptView>,
    ) {
        let mut entry = lock(&self.entry);
        entry.answered = answered.map(str::to_string);
        entry.fallback = fallback;
        entry.attempts = attempts;
    }

    /// Notices the client was given (see [`RequestEntry::notices`]).
    pub fn add_notices(&mut self, notices: &[String]) {
        lock(&self.entry).notices.extend_from_slice(notices);
    }

    /// The error the client was answered with.
    pub fn set_error(&mut self, error: &ApiError) {
        let mut entry = lock(&self.entry);
        entry.status = Some(error.status);
        entry.error = Some(error.message.clone());
    }

    /// Completes the record now.
    pub fn finish(mut self, outcome: Outcome) {
        self.outcome = Some(outcome);
    }
}

impl Drop for RequestRecord {
    fn drop(&mut self) {
        let outcome = self.outcome.unwrap_or(Outcome::Aborted);
        let total = self.started.elapsed();
        tracing::debug!(
            route = self.route,
            model = %self.model,
            outcome = ?outcome,
            total_us = total.as_micros() as u64,
            upstream_us = self.upstream.as_micros() as u64,
            "request done"
        );
        self.metrics.request(self.route, &self.model, outcome);
        if self.timed {
            self.metrics.timing(
                self.route,
                &self.model,
                self.started.elapsed(),
                self.upstream,
            );
        }
        if let Some(usage) = &self.usage {
            self.metrics.usage(&self.model, usage, &self.cost);
        }
        {
            let mut entry = lock(&self.entry);
            entry.latency_ms = Some(total.as_millis() as u64);
            entry.outcome = Some(outcome.label());
            if let Some(usage) = self.usage {
                entry.tokens = TokenCounts::from(usage);
            }
        }
        self.log.finish(&self.entry);
        self.metrics.in_flight().dec();
    }
}
