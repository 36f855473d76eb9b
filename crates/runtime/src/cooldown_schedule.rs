//! `auth.cooldowns` → the router's [`CooldownSchedule`]: the one place the config's minutes and
//! hours become durations. Keys the config leaves unset keep the router's defaults (OpenClaw's
//! 1 min → 5 min → 25 min → 1 h; billing 5 h doubling to 24 h; revoked keys 10 min doubling
//! to 1 h; a 24 h failure window).

use std::time::Duration;

use clawgate_config::schema::CooldownsConfig;
use clawgate_router::CooldownSchedule;

const MINUTE: f64 = 60.0;
const HOUR: f64 = 3_600.0;

/// `amount × unit` seconds. The config only admits positive numbers up to a year; anything
/// else (a hand-built config) is `None` and keeps the default.
fn span(amount: f64, unit_seconds: f64) -> Option<Duration> {
    Duration::try_from_secs_f64(amount * unit_seconds)
        .ok()
        .filter(|d| !d.is_zero())
}

pub fn cooldown_schedule(config: &CooldownsConfig) -> CooldownSchedule {
    let defaults = CooldownSchedule::default();
    let or = |value: Option<f64>, unit: f64, default: Duration| {
        value.and_then(|v| span(v, unit)).unwrap_or(default)
    };
    let steps: Vec<Duration> = config
        .backoff_minutes
        .iter()
        .flatten()
        .filter_map(|m| span(*m, MINUTE))
        .collect();
    CooldownSchedule {
        steps: if steps.is_empty() {
            defaults.steps
        } else {
            steps
        },
        billing_base: or(config.billing_backoff_hours, HOUR, defaults.billing_base),
        billing_base_by_provider: config
            .billing_backoff_hours_by_provider
            .iter()
            .filter_map(|(provider, hours)| Some((provider.clone(), span(*hours, HOUR)?)))
            .collect(),
        billing_max: or(config.billing_max_hours, HOUR, defaults.billing_max),
        auth_permanent_base: or(
            config.auth_permanent_backoff_minutes,
            MINUTE,
            defaults.auth_permanent_base,
        ),
        auth_permanent_max: or(
            config.auth_permanent_max_minutes,
            MINUTE,
            defaults.auth_permanent_max,
        ),
        failure_window: or(config.failure_window_hours, HOUR, defaults.failure_window),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_configured_is_the_routers_default() {
        assert_eq!(
            cooldown_schedule(&CooldownsConfig::default()),
            CooldownSchedule::default()
        );
    }

    #[test]
    fn every_key_maps_in_its_own_unit() {
        let config = CooldownsConfig {
            backoff_minutes: Some(vec![0.5, 2.0]),
            billing_backoff_hours: Some(3.0),
            billing_backoff_hours_by_provider: [("openai".to_string(), 1.5)].into(),
            billing_max_hours: Some(12.0),
            auth_permanent_backoff_minutes: Some(15.0),
            auth_permanent_max_minutes: Some(90.0),
            failure_window_hours: Some(6.0),
        };
        let s = cooldown_schedule(&config);
        assert_eq!(s.steps, [Duration::from_secs(30), Duration::from_secs(120)]);
        assert_eq!(s.billing_base, Duration::from_secs(3 * 3600));
        assert_eq!(
            s.billing_base_by_provider.get("openai"),
            Some(&Duration::from_secs(5400))
        );
        assert_eq!(s.billing_max, Duration::from_secs(12 * 3600));
        assert_eq!(s.auth_permanent_base, Duration::from_secs(15 * 60));
        assert_eq!(s.auth_permanent_max, Duration::from_secs(90 * 60));
        assert_eq!(s.failure_window, Duration::from_secs(6 * 3600));
    }

    #[test]
    fn values_the_config_would_refuse_keep_the_default() {
        let config = CooldownsConfig {
            backoff_minutes: Some(vec![-1.0, f64::NAN]),
            billing_backoff_hours: Some(f64::INFINITY),
            ..CooldownsConfig::default()
        };
        let s = cooldown_schedule(&config);
        assert_eq!(s.steps, CooldownSchedule::default().steps);
        assert_eq!(s.billing_base, CooldownSchedule::default().billing_base);
    }
}
