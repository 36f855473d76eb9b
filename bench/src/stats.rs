//! Latency samples → percentiles. Nearest-rank percentiles on a sorted copy: with at most a
//! few tens of thousands of samples per figure, sorting is exact and instant, so a histogram
//! crate (which trades exactness for bounded memory) would buy nothing here.

use std::time::Duration;

use serde::Serialize;

/// The summary of one series of samples, in microseconds (what the tables print).
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Summary {
    pub count: usize,
    pub p50_us: f64,
    pub p99_us: f64,
    pub mean_us: f64,
    pub min_us: f64,
    pub max_us: f64,
}

fn micros(d: Duration) -> f64 {
    // Exact for whole microseconds (as_secs_f64() * 1e6 is not: 999 µs became 999.0000000000001).
    d.as_nanos() as f64 / 1e3
}

/// Nearest-rank percentile `q` (0..=1) of sorted samples.
fn percentile(sorted: &[Duration], q: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    // Nearest rank. `q` comes from decimal percentages (99.9 / 100 = 0.9990000000000001), so a
    // product that is a whole number up to float error must not round up to the next rank.
    let exact = q * sorted.len() as f64;
    let rank = if (exact - exact.round()).abs() < 1e-9 {
        exact.round()
    } else {
        exact.ceil()
    } as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

impl Summary {
    pub fn of(samples: &[Duration]) -> Self {
        let mut sorted = samples.to_vec();
        sorted.sort_unstable();
        let total: Duration = sorted.iter().sum();
        let mean = if sorted.is_empty() {
            Duration::ZERO
        } else {
            total / sorted.len() as u32
        };
        Self {
            count: sorted.len(),
            p50_us: micros(percentile(&sorted, 0.50)),
            p99_us: micros(percentile(&sorted, 0.99)),
            mean_us: micros(mean),
            min_us: micros(sorted.first().copied().unwrap_or_default()),
            max_us: micros(sorted.last().copied().unwrap_or_default()),
        }
    }

    /// `self` minus `baseline`, percentile by percentile (what "added latency" means here).
    pub fn minus(&self, baseline: &Summary) -> Delta {
        Delta {
            p50_us: self.p50_us - baseline.p50_us,
            p99_us: self.p99_us - baseline.p99_us,
        }
    }

    /// Every value less `offset` (cut-over time minus the configured timeout).
    pub fn shifted(&self, offset: Duration) -> Summary {
        let o = micros(offset);
        Summary {
            p50_us: self.p50_us - o,
            p99_us: self.p99_us - o,
            mean_us: self.mean_us - o,
            min_us: self.min_us - o,
            max_us: self.max_us - o,
            ..*self
        }
    }
}

/// Points of the distribution for plots: (percentile, µs) at 0, 1, …, 99, 99.9 and 100.
pub fn distribution(samples: &[Duration]) -> Vec<(f64, f64)> {
    let mut sorted = samples.to_vec();
    sorted.sort_unstable();
    let mut qs: Vec<f64> = (0..100).map(f64::from).collect();
    qs.extend([99.9, 100.0]);
    qs.into_iter()
        .map(|q| (q, micros(percentile(&sorted, q / 100.0))))
        .collect()
}

/// The median of some durations (start-up runs).
pub fn median(samples: &[Duration]) -> Duration {
    let mut sorted = samples.to_vec();
    sorted.sort_unstable();
    percentile(&sorted, 0.5)
}

/// A difference of two summaries.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Delta {
    pub p50_us: f64,
    pub p99_us: f64,
}

/// `123 µs`, `4.56 ms`: microseconds below 10 ms, milliseconds above.
pub fn show_us(us: f64) -> String {
    if us.abs() < 0.5 {
        "0 µs".to_string()
    } else if us.abs() < 10_000.0 {
        format!("{us:.0} µs")
    } else {
        format!("{:.2} ms", us / 1_000.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let samples: Vec<Duration> = (1..=100).map(Duration::from_micros).collect();
        let s = Summary::of(&samples);
        assert_eq!(s.p50_us, 50.0);
        assert_eq!(s.p99_us, 99.0);
        assert_eq!(s.min_us, 1.0);
        assert_eq!(s.max_us, 100.0);
        assert_eq!(s.count, 100);
    }

    #[test]
    fn distribution_ends_at_min_and_max() {
        let samples: Vec<Duration> = (1..=1000).rev().map(Duration::from_micros).collect();
        let d = distribution(&samples);
        assert_eq!(d.first(), Some(&(0.0, 1.0)));
        assert_eq!(d.last(), Some(&(100.0, 1000.0)));
        assert!(d.contains(&(99.9, 999.0)));
        assert_eq!(median(&samples[..3]), Duration::from_micros(999));
    }

    #[test]
    fn one_sample_is_every_percentile() {
        let s = Summary::of(&[Duration::from_micros(7)]);
        assert_eq!((s.p50_us, s.p99_us), (7.0, 7.0));
    }
}
