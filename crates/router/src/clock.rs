//! Wall-clock time, injected. Cooldown deadlines are wall-clock instants (epoch milliseconds)
//! because they are persisted and shared with other processes; tests drive a [`ManualClock`]
//! instead of sleeping. Durations inside one attempt (timeouts, latency) use tokio's clock,
//! which tests pause. The clock is the workspace's one (`clawgate_wire::clock`), re-exported.

use std::time::Duration;

pub use clawgate_wire::clock::{Clock, ManualClock, SystemClock};

/// `12m 5s`-style rendering for messages ("cooling down for 4m 10s"): humantime's format at
/// the precision a reader needs (milliseconds under a second, seconds under an hour, minutes
/// above).
pub fn human_duration(d: Duration) -> String {
    let secs = d.as_secs();
    let shown = match secs {
        0 => Duration::from_millis(d.subsec_millis().into()),
        1..3600 => Duration::from_secs(secs),
        _ => Duration::from_secs(secs - secs % 60),
    };
    humantime::format_duration(shown).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_durations_read_naturally() {
        assert_eq!(human_duration(Duration::from_millis(250)), "250ms");
        assert_eq!(human_duration(Duration::from_secs(45)), "45s");
        assert_eq!(human_duration(Duration::from_secs(300)), "5m");
        assert_eq!(human_duration(Duration::from_secs(250)), "4m 10s");
        assert_eq!(human_duration(Duration::from_secs(5 * 3600)), "5h");
        assert_eq!(human_duration(Duration::from_secs(3600 + 120)), "1h 2m");
        assert_eq!(human_duration(Duration::from_millis(45_500)), "45s");
        assert_eq!(human_duration(Duration::from_secs(3600 + 125)), "1h 2m");
        assert_eq!(human_duration(Duration::ZERO), "0s");
    }
}
