//! Rate limit for the accept loop's error log. When the process runs out of file descriptors,
//! `accept` fails hundreds of times a second until a connection closes; logging each failure
//! would flood the log (and the disk) exactly when the machine is struggling. One line a
//! second at most, carrying how many failures were not logged since the previous line.

use std::time::{Duration, Instant};

#[derive(Debug)]
pub(crate) struct AcceptErrorLog {
    every: Duration,
    last: Option<Instant>,
    suppressed: u64,
}

impl AcceptErrorLog {
    pub fn new(every: Duration) -> Self {
        Self {
            every,
            last: None,
            suppressed: 0,
        }
    }

    /// Records a failure at `now`. `Some(n)`: log it now, `n` failures were not logged since
    /// the previous report; `None`: stay quiet.
    pub fn record(&mut self, now: Instant) -> Option<u64> {
        match self.last {
            Some(last) if now.saturating_duration_since(last) < self.every => {
                self.suppressed += 1;
                None
            }
            _ => {
                self.last = Some(now);
                Some(std::mem::take(&mut self.suppressed))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_logs_once_a_second_with_the_count_of_the_rest() {
        let mut log = AcceptErrorLog::new(Duration::from_secs(1));
        let start = Instant::now();
        // 270 failures a second (5 ms back-off under load), for three seconds.
        let mut reports = Vec::new();
        for i in 0..810u64 {
            let now = start + Duration::from_micros(i * 3_700);
            if let Some(suppressed) = log.record(now) {
                reports.push(suppressed);
            }
        }
        assert_eq!(reports.len(), 3, "{reports:?}");
        assert_eq!(reports[0], 0);
        // Each later line counts the ~270 failures of the second before it.
        assert!(
            reports[1..].iter().all(|n| (260..=271).contains(n)),
            "{reports:?}"
        );
    }

    #[test]
    fn a_lone_failure_after_a_quiet_spell_is_logged_at_once() {
        let mut log = AcceptErrorLog::new(Duration::from_secs(1));
        let start = Instant::now();
        assert_eq!(log.record(start), Some(0));
        assert_eq!(log.record(start + Duration::from_millis(10)), None);
        assert_eq!(log.record(start + Duration::from_secs(5)), Some(1));
    }
}
