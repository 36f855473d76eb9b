//! Discovery at run time: ask the providers marked for it (`models.providers.<id>.discover`;
//! by default the implicit local ones: `lmstudio`, `ollama`, `vllm`, `llamacpp`) which models
//! they serve, merge those rows into a copy of the registry and build services on it.
//!
//! `Registry::merge_discovered` does the merge: a new row gets the source `discovered` and the
//! window the server reports (the one a loaded model runs with: LM Studio's loaded instance,
//! Ollama's `num_ctx`); a configured row keeps its id and every field it sets, and when the
//! server runs the model with a smaller window than the config says, that is a warning (for
//! Ollama clawgate sends the row's window as `num_ctx`, so there the config decides).
//!
//! The gateway runs this in the background at start and on reload and swaps the new services
//! in when they are ready, so discovery never delays serving; `models list --probe` runs it in
//! the foreground. Each provider gets [`DISCOVERY_TIMEOUT`]; one that does not answer adds no
//! rows and is never fatal.

use std::sync::Arc;
use std::time::Duration;

use clawgate_config::{ApiKind, DiscoveredRow, ModelEntry};
use clawgate_providers::{DiscoveredModel, Provider};
use clawgate_router::{ProbeResult, probe};

use crate::error::RuntimeError;
use crate::services::Services;

/// Time one provider has to list its models.
pub const DISCOVERY_TIMEOUT: Duration = Duration::from_secs(5);

/// Services with discovered rows merged in, and what a user should hear about.
pub struct Discovered {
    pub services: Services,
    /// Rows the discovery added (models no config row names).
    pub added: usize,
    /// Configured windows the servers do not run with.
    pub warnings: Vec<String>,
}

/// The providers of `services` whose models are discovered (marked, and built).
pub fn discoverable(services: &Services) -> Vec<String> {
    services
        .registry()
        .providers()
        .iter()
        .filter(|p| p.discover && services.router().providers().get(&p.id).is_some())
        .map(|p| p.id.clone())
        .collect()
}

/// Asks every discoverable provider for its models, all at once (a handful of local
/// servers), each within `timeout`.
pub async fn discover(services: &Services, timeout: Duration) -> Vec<ProbeResult> {
    // Owned providers and no stored closures: the future stays `Send` for the gateway's
    // background task.
    let probes: Vec<_> = discoverable(services)
        .iter()
        .filter_map(|id| services.router().providers().get(id))
        .map(|target| probe_owned(target.provider.clone(), timeout))
        .collect();
    futures::future::join_all(probes).await
}

async fn probe_owned(provider: Arc<dyn Provider>, timeout: Duration) -> ProbeResult {
    probe(provider.as_ref(), timeout).await
}

fn row(model: &DiscoveredModel) -> DiscoveredRow {
    DiscoveredRow {
        id: model.id.clone(),
        context_window: model.context_window,
        reasoning: model.reasoning,
        supports_tools: model.supports_tools,
        ..DiscoveredRow::default()
    }
}

/// The warning for a row whose configured window is larger than the one the server runs the
/// model with (`None` when they agree, or for Ollama, which runs with the `num_ctx` clawgate
/// sends).
pub fn context_warning(row: &ModelEntry, server: u64) -> Option<String> {
    (row.api != ApiKind::Ollama && server < row.context_window).then(|| {
        format!(
            "{}: server reports context {server}, config says {} — set contextWindow: {server}",
            row.reference, row.context_window
        )
    })
}

/// New services on `services`' config with the answers of `probes` merged into the registry
/// (same HTTP client, cooldown store, engine and router settings). Unreachable providers add
/// nothing.
pub fn with_discovered(
    services: &Services,
    probes: &[ProbeResult],
) -> Result<Discovered, RuntimeError> {
    let mut loaded = services.loaded().clone();
    let before = loaded.registry.models().len();
    for probe in probes.iter().filter(|p| p.reachable) {
        loaded
            .registry
            .merge_discovered(&probe.provider, probe.models.iter().map(row))?;
    }
    let added = loaded.registry.models().len().saturating_sub(before);
    let mut warnings = Vec::new();
    for probe in probes.iter().filter(|p| p.reachable) {
        for found in &probe.models {
            let entry = loaded
                .registry
                .models_of(&probe.provider)
                .find(|m| m.id == found.id);
            if let (Some(entry), Some(server)) = (entry, found.context_window)
                && let Some(warning) = context_warning(entry, server)
            {
                warnings.push(warning);
            }
        }
    }
    let services = services.rebuild(loaded)?;
    Ok(Discovered {
        services,
        added,
        warnings,
    })
}
