//! Discovery in the background: right after start and after each reload, the providers marked
//! for discovery are asked which models they serve (`clawgate_runtime::discovery`), and the
//! services rebuilt with those rows are swapped in, unless a reload swapped other services in
//! meanwhile (that reload runs its own discovery). Serving never waits for it: requests use
//! the services in effect until the swap. Finished rounds are counted, so tests and callers
//! can wait for one.

use std::sync::Arc;

use clawgate_runtime::Services;
use clawgate_runtime::discovery::{DISCOVERY_TIMEOUT, discover, discoverable, with_discovered};

use crate::server::AppState;

/// Starts one round of discovery for the services in effect now.
pub(crate) fn spawn_discovery(state: &Arc<AppState>) {
    let state = state.clone();
    let current = state.services.load_full();
    tokio::spawn(async move {
        discover_and_swap(&state, current).await;
        state.discovery_rounds.send_modify(|rounds| *rounds += 1);
    });
}

async fn discover_and_swap(state: &AppState, current: Arc<Services>) {
    if discoverable(&current).is_empty() {
        return;
    }
    let probes = discover(&current, DISCOVERY_TIMEOUT).await;
    for probe in probes.iter().filter(|p| !p.reachable) {
        let why = probe.error.as_ref().map_or("", |e| e.message.as_str());
        tracing::debug!(provider = %probe.provider, "discovery: not reachable: {why}");
    }
    let discovered = match with_discovered(&current, &probes) {
        Ok(discovered) => discovered,
        Err(error) => {
            tracing::warn!(
                "discovery: could not build services with the discovered models: {error}"
            );
            return;
        }
    };
    for warning in &discovered.warnings {
        tracing::warn!("discovery: {warning}");
    }
    let added = discovered.added;
    let previous = state
        .services
        .compare_and_swap(&current, Arc::new(discovered.services));
    if Arc::ptr_eq(&previous, &current) {
        tracing::info!(added, "discovered models merged");
    } else {
        tracing::debug!("discovery result dropped: the config was reloaded meanwhile");
    }
}
