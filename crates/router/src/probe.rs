//! Reachability probes for `clawgate models status --probe`: ask each provider for its model
//! list with a short timeout and report whether it answered, how fast, what it serves and the
//! context windows it reports. Probes never touch the cooldown store (listing models says
//! little about whether generation works); [`provider_status`] reports that store instead.

use std::time::Duration;

use clawgate_providers::{DiscoveredModel, FailureKind, Provider, ProviderError};
use futures::StreamExt;
use serde::Serialize;
use tokio::time::Instant;

use crate::clock::human_duration;
use crate::cooldown::{Availability, CooldownEntry, CooldownKey};
use crate::router::Router;

/// Default time allowed for one probe.
pub const DEFAULT_PROBE_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProbeResult {
    pub provider: String,
    pub reachable: bool,
    #[serde(serialize_with = "as_millis")]
    pub latency: Duration,
    /// Models served, with the context window each reports (when it does).
    pub models: Vec<DiscoveredModel>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ProbeError>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProbeError {
    pub kind: FailureKind,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
}

impl From<ProviderError> for ProbeError {
    fn from(error: ProviderError) -> Self {
        Self {
            kind: error.kind,
            message: error.message,
            status: error.status,
        }
    }
}

/// Lists `provider`'s models within `timeout`.
pub async fn probe(provider: &dyn Provider, timeout: Duration) -> ProbeResult {
    let started = Instant::now();
    let outcome = tokio::time::timeout(timeout, provider.list_models()).await;
    let latency = started.elapsed();
    let result = match outcome {
        Ok(result) => result,
        Err(_) => Err(ProviderError::new(
            FailureKind::Timeout,
            format!("no model list within {}", human_duration(timeout)),
        )),
    };
    match result {
        Ok(models) => ProbeResult {
            provider: provider.id().to_string(),
            reachable: true,
            latency,
            models,
            error: None,
        },
        Err(error) => ProbeResult {
            provider: provider.id().to_string(),
            reachable: false,
            latency,
            models: Vec::new(),
            error: Some(error.into()),
        },
    }
}

/// Probes every provider, at most `concurrency` at once; results in the input order.
pub async fn probe_all<'a>(
    providers: impl IntoIterator<Item = &'a dyn Provider>,
    timeout: Duration,
    concurrency: usize,
) -> Vec<ProbeResult> {
    futures::stream::iter(providers)
        .map(|provider| probe(provider, timeout))
        .buffered(concurrency.max(1))
        .collect()
        .await
}

/// One provider's row in `models status`: its keys and cooldown state.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProviderStatus {
    pub provider: String,
    pub local: bool,
    pub key_count: usize,
    /// `None` when usable now; else until when (epoch ms) and why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blocked_until: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blocked_reason: Option<String>,
    /// The provider-wide entry, then one per key, as stored.
    pub entries: Vec<(String, CooldownEntry)>,
}

/// The cooldown state of every provider the router knows, for `models status`.
pub fn provider_status(router: &Router) -> Vec<ProviderStatus> {
    let now = router.clock().now_ms();
    let store = router.cooldowns();
    router
        .providers()
        .iter()
        .map(|target| {
            let (blocked_until, blocked_reason) =
                match store.availability(target.id(), target.key_count, now) {
                    Availability::Ready { .. } => (None, None),
                    Availability::Blocked { block, .. } => (Some(block.until), Some(block.reason)),
                };
            let keys = std::iter::once(CooldownKey::provider(target.id()))
                .chain((0..target.key_count).map(|index| CooldownKey::api_key(target.id(), index)));
            let entries = keys
                .filter_map(|key| store.entry(&key).map(|entry| (key.to_string(), entry)))
                .collect();
            ProviderStatus {
                provider: target.id().to_string(),
                local: target.local,
                key_count: target.key_count,
                blocked_until,
                blocked_reason,
                entries,
            }
        })
        .collect()
}

fn as_millis<S: serde::Serializer>(value: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_u64(value.as_millis() as u64)
}
