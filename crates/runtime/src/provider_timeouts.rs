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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config_fixture::load_config_text;

    /// The provider entries of `config`.
    fn providers(config: &str) -> clawgate_config::Registry {
        load_config_text(config).1.registry
    }

    #[test]
    fn each_key_sets_its_limit_and_the_rest_keep_the_default_of_the_kind() {
        let registry = providers(
            r#"{ models: { mode: "replace", providers: {
                 box: { baseUrl: "http://127.0.0.1:9/v1", timeoutSeconds: 45,
                        timeouts: { connectMs: 700, idleMs: 900 }, models: [{ id: "m" }] },
                 far: { baseUrl: "https://llm.example.com/v1", apiKey: "k", timeoutSeconds: 45,
                        timeouts: { firstEventMs: 1500, totalMs: 2500 }, models: [{ id: "m" }] },
                 plain: { baseUrl: "http://127.0.0.1:8/v1", models: [{ id: "m" }] } } } }"#,
        );
        let ms = Duration::from_millis;
        let local = Timeouts::local();
        let b = provider_timeouts(registry.provider("box").unwrap()).unwrap();
        assert_eq!((b.connect, b.idle), (ms(700), ms(900)));
        assert_eq!(b.first_event, local.first_event);
        assert_eq!(
            b.total,
            Duration::from_secs(45),
            "timeoutSeconds is the total"
        );
        let hosted = Timeouts::hosted();
        let f = provider_timeouts(registry.provider("far").unwrap()).unwrap();
        assert_eq!(
            (f.first_event, f.total),
            (ms(1500), ms(2500)),
            "totalMs wins"
        );
        assert_eq!((f.connect, f.idle), (hosted.connect, hosted.idle));
        assert_eq!(provider_timeouts(registry.provider("plain").unwrap()), None);
    }
}
