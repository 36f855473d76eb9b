//! Prometheus metrics, with `prometheus-client` (the Prometheus project's own Rust client: a
//! registry per gateway instance, so several in-process gateways in tests do not share
//! counters, and no global recorder). Label values are `&'static str` or shared `Arc<str>`, so
//! recording a request allocates nothing. Cooldown gauges are filled at scrape time from the
//! router's cooldown store.
//!
//! The overhead histogram is clawgate's own time per request: the whole handling time minus
//! the time spent waiting on the upstream (attempts up to the commit, then every wait for the
//! next event), which is what the latency target is about.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use clawgate_config::ModelCost;
use clawgate_router::{Availability, Router};
use clawgate_runtime::StateHealth;
use clawgate_wire::Usage;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// Content type of [`GatewayMetrics::render`]'s output (OpenMetrics text, which Prometheus
/// scrapes natively).
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    route: &'static str,
    model: Arc<str>,
    outcome: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ModelLabels {
    model: Arc<str>,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabels {
    reason: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TokenLabels {
    model: Arc<str>,
    kind: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ProviderLabels {
    provider: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BackendLabels {
    backend: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResultLabels {
    result: &'static str,
}

type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;

fn latency_histogram() -> Histogram {
    // 1 ms … ~65 s.
    Histogram::new(exponential_buckets(0.001, 2.0, 17))
}

fn overhead_histogram() -> Histogram {
    // 5 µs … ~0.65 s: the interesting range is tens of microseconds.
    Histogram::new(exponential_buckets(0.000_005, 2.0, 18))
}

/// How a request ended, as a metrics label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    /// Bad request, unknown model, body too large.
    ClientError,
    /// The router or agent failed before any answer.
    UpstreamError,
    RateLimited,
    /// The stream failed after it started.
    StreamError,
    /// Missing or wrong token, or locked out.
    Unauthorized,
    /// The client went away, or the request timed out, before the answer was complete.
    Aborted,
}

impl Outcome {
    pub fn label(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::ClientError => "client_error",
            Outcome::UpstreamError => "upstream_error",
            Outcome::RateLimited => "rate_limited",
            Outcome::StreamError => "stream_error",
            Outcome::Unauthorized => "unauthorized",
            Outcome::Aborted => "aborted",
        }
    }
}

/// The gateway's metrics. One per server; survives config reloads.
#[derive(Debug)]
pub struct GatewayMetrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    upstream: HistogramFamily<ModelLabels>,
    overhead: HistogramFamily<RouteLabels>,
    fallbacks: Family<ReasonLabels, Counter>,
    tokens: Family<TokenLabels, Counter>,
    cost: Family<ModelLabels, Counter<f64, AtomicU64>>,
    cooling_down: Family<ProviderLabels, Gauge>,
    cooldown_remaining: Family<ProviderLabels, Gauge<f64, AtomicU64>>,
    in_flight: Gauge,
    /// Requests started since the gateway did; not exported (`idle_release` reads it).
    started: AtomicU64,
    auth_failures: Counter,
    reloads: Family<ResultLabels, Counter>,
    state_up: Family<BackendLabels, Gauge>,
}

impl Default for GatewayMetrics {
    fn default() -> Self {
        Self::new()
    }
}

impl GatewayMetrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("clawgate");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "requests",
            "Requests by route, model and outcome",
            requests.clone(),
        );
        let upstream: HistogramFamily<ModelLabels> =
            Family::new_with_constructor(latency_histogram);
        registry.register(
            "upstream_seconds",
            "Time spent waiting on the upstream per request (attempts, then stream events)",
            upstream.clone(),
        );
        let overhead: HistogramFamily<RouteLabels> =
            Family::new_with_constructor(overhead_histogram);
        registry.register(
            "overhead_seconds",
            "clawgate's own time per request: total minus time waiting on the upstream",
            overhead.clone(),
        );
        let fallbacks = Family::<ReasonLabels, Counter>::default();
        registry.register(
            "fallbacks",
            "Answers from a fallback model, by why the requested model did not answer",
            fallbacks.clone(),
        );
        let tokens = Family::<TokenLabels, Counter>::default();
        registry.register(
            "tokens",
            "Tokens by answering model and kind",
            tokens.clone(),
        );
        let cost = Family::<ModelLabels, Counter<f64, AtomicU64>>::default();
        registry.register(
            "cost_usd",
            "Cost in USD by answering model, from the config's cost per 1M tokens",
            cost.clone(),
        );
        let cooling_down = Family::<ProviderLabels, Gauge>::default();
        registry.register(
            "provider_cooling_down",
            "1 when the provider (every key of it) is cooling down or disabled",
            cooling_down.clone(),
        );
        let cooldown_remaining = Family::<ProviderLabels, Gauge<f64, AtomicU64>>::default();
        registry.register(
            "provider_cooldown_remaining_seconds",
            "Seconds until the provider is usable again (0 when usable)",
            cooldown_remaining.clone(),
        );
        let in_flight = Gauge::default();
        registry.register(
            "in_flight_requests",
            "Requests being served",
            in_flight.clone(),
        );
        let auth_failures = Counter::default();
        registry.register(
            "auth_failures",
            "Requests refused for a missing or wrong token",
            auth_failures.clone(),
        );
        let reloads = Family::<ResultLabels, Counter>::default();
        registry.register(
            "config_reloads",
            "Config reloads by result",
            reloads.clone(),
        );
        let state_up = Family::<BackendLabels, Gauge>::default();
        registry.register(
            "state_store_up",
            "1 when the shared state store (sessions, cooldowns) is reachable; 0 when degraded",
            state_up.clone(),
        );
        Self {
            registry,
            requests,
            upstream,
            overhead,
            fallbacks,
            tokens,
            cost,
            cooling_down,
            cooldown_remaining,
            in_flight,
            started: AtomicU64::new(0),
            auth_failures,
            reloads,
            state_up,
        }
    }

    pub fn request(&self, route: &'static str, model: &Arc<str>, outcome: Outcome) {
        self.requests
            .get_or_create(&RequestLabels {
                route,
                model: model.clone(),
                outcome: outcome.label(),
            })
            .inc();
    }

    /// Total handling time and the part of it spent waiting on the upstream.
    pub fn timing(
        &self,
        route: &'static str,
        model: &Arc<str>,
        total: Duration,
        upstream: Duration,
    ) {
        self.upstream
            .get_or_create(&ModelLabels {
                model: model.clone(),
            })
            .observe(upstream.as_secs_f64());
        self.overhead
            .get_or_create(&RouteLabels { route })
            .observe(total.saturating_sub(upstream).as_secs_f64());
    }

    pub fn fallback(&self, reason: &str) {
        self.fallbacks
            .get_or_create(&ReasonLabels {
                reason: reason.to_string(),
            })
            .inc();
    }

    /// Tokens and their cost for one answer.
    pub fn usage(&self, model: &Arc<str>, usage: &Usage, cost: &ModelCost) {
        let mut usd = 0.0;
        let kinds = [
            ("input", usage.input_tokens, cost.input),
            ("output", usage.output_tokens, cost.output),
            ("cache_read", usage.cache_read_tokens, cost.cache_read),
            ("cache_write", usage.cache_write_tokens, cost.cache_write),
        ];
        for (kind, count, per_million) in kinds {
            let Some(count) = count.filter(|c| *c > 0) else {
                continue;
            };
            self.tokens
                .get_or_create(&TokenLabels {
                    model: model.clone(),
                    kind,
                })
                .inc_by(count);
            usd += count as f64 * per_million / 1_000_000.0;
        }
        if usd > 0.0 {
            self.cost
                .get_or_create(&ModelLabels {
                    model: model.clone(),
                })
                .inc_by(usd);
        }
    }

    pub fn in_flight(&self) -> &Gauge {
        &self.in_flight
    }

    /// Counts a request that started (and is now in flight).
    pub(crate) fn request_started(&self) {
        self.in_flight.inc();
        self.started.fetch_add(1, Ordering::Relaxed);
    }

    /// Requests started so far.
    pub(crate) fn requests_started(&self) -> u64 {
        self.started.load(Ordering::Relaxed)
    }

    pub fn auth_failure(&self) {
        self.auth_failures.inc();
    }

    /// Sets `state_store_up` from the services' state health (at scrape time).
    pub fn state_up(&self, health: &StateHealth) {
        let (backend, up) = match health {
            StateHealth::Files => ("files", true),
            StateHealth::Postgres { up, .. } => ("postgres", *up),
        };
        self.state_up.clear();
        self.state_up
            .get_or_create(&BackendLabels { backend })
            .set(i64::from(up));
    }

    pub fn reload(&self, ok: bool) {
        let result = if ok { "ok" } else { "error" };
        self.reloads.get_or_create(&ResultLabels { result }).inc();
    }

    /// The text exposition, with the cooldown gauges refreshed from `router` first.
    pub fn render(&self, router: &Router) -> String {
        self.cooling_down.clear();
        self.cooldown_remaining.clear();
        let now = router.clock().now_ms();
        for target in router.providers().iter() {
            let labels = ProviderLabels {
                provider: target.id().to_string(),
            };
            let (cooling, remaining) =
                match router
                    .cooldowns()
                    .availability(target.id(), target.key_count, now)
                {
                    Availability::Ready { .. } => (0, 0.0),
                    Availability::Blocked { block, .. } => {
                        (1, block.until.saturating_sub(now) as f64 / 1000.0)
                    }
                };
            self.cooling_down.get_or_create(&labels).set(cooling);
            self.cooldown_remaining
                .get_or_create(&labels)
                .set(remaining);
        }
        let mut out = String::with_capacity(4096);
        if encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_price_of_the_row_counts_its_own_tokens() {
        let metrics = GatewayMetrics::new();
        let model: Arc<str> = Arc::from("p/m");
        let cost = ModelCost {
            input: 1.0,
            output: 2.0,
            cache_read: 0.5,
            cache_write: 4.0,
        };
        let usage = Usage {
            input_tokens: Some(1_000_000),
            output_tokens: Some(1_000_000),
            cache_read_tokens: Some(1_000_000),
            cache_write_tokens: Some(1_000_000),
        };
        metrics.usage(&model, &usage, &cost);
        let usd = |m: &GatewayMetrics| {
            m.cost
                .get_or_create(&ModelLabels {
                    model: model.clone(),
                })
                .get()
        };
        assert!((usd(&metrics) - 7.5).abs() < 1e-9, "{}", usd(&metrics));
        let cached_only = Usage {
            cache_read_tokens: Some(2_000_000),
            cache_write_tokens: Some(250_000),
            ..Usage::default()
        };
        let fresh = GatewayMetrics::new();
        fresh.usage(&model, &cached_only, &cost);
        assert!((usd(&fresh) - 2.0).abs() < 1e-9, "{}", usd(&fresh));
    }
}
