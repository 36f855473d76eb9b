//! The bookkeeping of one request, completed exactly once: when the handler returns a full
//! answer, when a stream ends, or when a streamed body is dropped mid-way (the client left),
//! which a `Drop` impl catches. Holds what metrics need: route, answering model, its cost,
//! start time, upstream wait, usage, outcome.

use std::sync::Arc;
use std::time::{Duration, Instant};

use clawgate_config::ModelCost;
use clawgate_wire::Usage;

use crate::metrics::{GatewayMetrics, Outcome};

/// Model label for requests that never resolved to a model.
pub const UNRESOLVED_MODEL: &str = "unresolved";

pub struct RequestRecord {
    metrics: Arc<GatewayMetrics>,
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
    pub fn start(metrics: Arc<GatewayMetrics>, route: &'static str, started: Instant) -> Self {
        metrics.in_flight().inc();
        Self {
            metrics,
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

    /// When the request came in.
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
        self.metrics.in_flight().dec();
    }
}
