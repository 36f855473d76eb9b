//! Wall-clock time, injected. Cooldown deadlines are wall-clock instants (epoch milliseconds)
//! because they are persisted and shared with other processes; tests drive a [`ManualClock`]
//! instead of sleeping. Durations inside one attempt (timeouts, latency) use tokio's clock,
//! which tests pause. The clock is the workspace's one (`clawgate_wire::clock`), re-exported.

use std::time::Duration;

pub use clawgate_wire::clock::{Clock, ManualClock, SystemClock};

/// `12m 5s`-style rendering for messages ("cooling down for 4m 10s").
pub fn human_duration(d: Duration) -> String {
    let secs = d.as_secs();
    if secs == 0 {
        return format!("{}ms", d.as_millis());
    }
    let (h, m, s) = (secs / 3600, (secs % 3600) / 60, secs % 60);
    match (h, m, s) {
        (0, 0, s) => format!("{s}s"),
        (0, m, 0) => format!("{m}m"),
        (0, m, s) => format!("{m}m {s}s"),
        (h, 0, _) => format!("{h}h"),
        (h, m, _) => format!("{h}h {m}m"),
    }
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
    }
}
