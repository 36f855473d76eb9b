//! Hands resources back when the gateway goes quiet. A burst of requests leaves behind
//! pooled upstream connections (a socket, buffers and a task each, per event loop) and memory
//! with the allocator: each thread's cache of freed blocks, and the pages under them, which
//! only go back to the system when that thread allocates again. An idle gateway does not
//! allocate, so every event loop, on its own thread (pools and caches are per thread), once a
//! quiet spell begins closes its idle upstream connections and then runs the binary's hook
//! (`GatewayOptions::on_idle`), which gives the allocator's memory back. A quiet spell begins
//! at a check in which no request started since the previous one and none is in flight,
//! after work since the last release. Checks are twice a second; an idle gateway stays
//! released and only pays the check. The next call after a quiet spell opens a fresh
//! connection (a loopback connect, tens of microseconds, against a model's answer).

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::metrics::GatewayMetrics;
use crate::server::AppState;

/// What the binary runs on an event loop's thread when the gateway goes quiet.
pub type IdleHook = Arc<dyn Fn() + Send + Sync>;

/// Everything a loop does on its thread when the gateway goes quiet: its idle upstream
/// connections first (their buffers are freed before the binary's hook releases memory),
/// then the binary's hook.
pub(crate) fn on_quiet(state: Arc<AppState>, hook: Option<IdleHook>) -> IdleHook {
    Arc::new(move || {
        state.services.load().http_client().close_idle_connections();
        if let Some(hook) = &hook {
            hook();
        }
    })
}

/// How often a loop looks for a quiet spell.
const CHECK_EVERY: Duration = Duration::from_millis(500);

/// Runs `hook` on this thread at the start of each quiet spell, until `shutdown`.
pub(crate) async fn release_when_idle(
    metrics: Arc<GatewayMetrics>,
    hook: IdleHook,
    shutdown: CancellationToken,
) {
    let mut checks = tokio::time::interval(CHECK_EVERY);
    checks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut seen = metrics.requests_started();
    let mut released = true;
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = checks.tick() => {}
        }
        let started = metrics.requests_started();
        if started != seen {
            seen = started;
            released = false;
        } else if !released && metrics.in_flight().get() == 0 {
            hook();
            released = true;
        }
    }
}
