//! A config provider's `timeoutSeconds` / `timeouts.*Ms` → the router's [`Timeouts`]. The
//! router has local and hosted defaults; a provider that sets any limit gets its own set, with
//! the unset limits taken from the default of its kind.

use std::time::Duration;

use clawgate_config::ProviderEntry;
use clawgate_router::Timeouts;

/// The provider's own timeouts, when its config sets any (`timeoutSeconds` caps the total;
/// `timeouts.*Ms` set each limit); unset limits keep the local or hosted default.
pub fn provider_timeouts(entry: &ProviderEntry) -> Option<Timeouts> {
    let t = &entry.timeouts;
    let any = entry.timeout_seconds.is_some()
        || t.connect_ms.is_some()
        || t.first_event_ms.is_some()
        || t.idle_ms.is_some()
        || t.total_ms.is_some();
    if !any {
        return None;
    }
    let base = if entry.is_local {
        Timeouts::local()
    } else {
        Timeouts::hosted()
    };
    let ms = Duration::from_millis;
    let total = t
        .total_ms
        .map(ms)
        .or(entry.timeout_seconds.map(Duration::from_secs))
        .unwrap_or(base.total);
    Some(Timeouts {
        connect: t.connect_ms.map(ms).unwrap_or(base.connect),
        first_event: t.first_event_ms.map(ms).unwrap_or(base.first_event),
        idle: t.idle_ms.map(ms).unwrap_or(base.idle),
        total,
    })
}
