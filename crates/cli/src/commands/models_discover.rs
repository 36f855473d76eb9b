//! `clawgate models list --probe`: discovery in the foreground. The same step the gateway runs
//! in the background at start and reload (`clawgate_runtime::discovery`): ask the providers
//! marked for discovery which models they serve, merge the rows into the registry, and say
//! which providers did not answer and which configured windows the servers do not run with.

use clawgate_config::LoadedConfig;
use clawgate_router::ProbeResult;
use clawgate_runtime::discovery::{DISCOVERY_TIMEOUT, discover, with_discovered};
use clawgate_runtime::{Services, ServicesOptions};

/// What a probe found: the config with the discovered rows merged in, each provider's answer,
/// and the warnings to show.
pub struct ProbeOutcome {
    pub loaded: LoadedConfig,
    pub probes: Vec<ProbeResult>,
    pub warnings: Vec<String>,
}

/// Runs discovery on `loaded` (blocking this thread up to `DISCOVERY_TIMEOUT`).
pub fn probe(loaded: &LoadedConfig) -> anyhow::Result<ProbeOutcome> {
    let services = Services::build(loaded.clone(), ServicesOptions::default())?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let probes = runtime.block_on(discover(&services, DISCOVERY_TIMEOUT));
    let discovered = with_discovered(&services, &probes)?;
    Ok(ProbeOutcome {
        loaded: discovered.services.loaded().clone(),
        probes,
        warnings: discovered.warnings,
    })
}

/// One line per provider that did not answer: `lmstudio (http://…): connection refused`.
pub fn unreachable_notes(outcome: &ProbeOutcome) -> Vec<String> {
    outcome
        .probes
        .iter()
        .filter(|p| !p.reachable)
        .map(|p| {
            let base = outcome
                .loaded
                .registry
                .provider(&p.provider)
                .map_or("", |e| e.base_url.as_str());
            let why = p.error.as_ref().map_or("no answer", |e| e.message.as_str());
            format!("{} ({base}) did not list its models: {why}", p.provider)
        })
        .collect()
}
