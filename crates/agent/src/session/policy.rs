//! When a session starts over and which rows the index keeps, following OpenClaw's `session`
//! settings: `reset` (a daily boundary at `atHour` local time, default 04:00, and/or an idle
//! window; a stale session is replaced by a fresh one on its next message, like `/new`) and
//! `maintenance` (`pruneAfter`, default 30 days, and `maxEntries`, default 500, `enforce`d by
//! default as in OpenClaw's current source; `warn` only logs).
//!
//! Pure functions over rows and a time, so the rules are tested without files or sleeping.
//! Local time comes from `jiff` (it reads the system zone, `TZ` included, and handles DST);
//! tests inject a fixed zone.

use std::collections::BTreeMap;

use jiff::tz::TimeZone;

use crate::session::SessionEntry;

/// OpenClaw's `DEFAULT_RESET_AT_HOUR`.
pub const DEFAULT_RESET_AT_HOUR: u8 = 4;
/// OpenClaw's `DEFAULT_IDLE_MINUTES`, used when the mode is `idle` without a window.
pub const DEFAULT_IDLE_MINUTES: u64 = 60;
/// OpenClaw's default `pruneAfter` (30 days).
pub const DEFAULT_PRUNE_AFTER_MS: u64 = 30 * 24 * 60 * 60 * 1000;
/// OpenClaw's default `maxEntries`.
pub const DEFAULT_MAX_ENTRIES: usize = 500;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResetMode {
    Daily,
    Idle,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ResetPolicy {
    pub mode: ResetMode,
    /// Local hour (0–23) of the daily boundary.
    pub at_hour: u8,
    /// Sliding idle window; with `Daily`, whichever expires first.
    pub idle_minutes: Option<u64>,
}

impl Default for ResetPolicy {
    fn default() -> Self {
        ResetPolicy {
            mode: ResetMode::Daily,
            at_hour: DEFAULT_RESET_AT_HOUR,
            idle_minutes: None,
        }
    }
}

impl ResetPolicy {
    /// OpenClaw's resolution: an explicit `reset.mode` wins; without a `reset` block, the
    /// legacy top-level `idleMinutes` means idle mode; an idle mode without a window uses
    /// [`DEFAULT_IDLE_MINUTES`].
    pub fn resolve(
        mode: Option<ResetMode>,
        at_hour: Option<u8>,
        idle_minutes: Option<u64>,
        has_reset_block: bool,
        legacy_idle_minutes: Option<u64>,
    ) -> Self {
        let mode = mode.unwrap_or(if !has_reset_block && legacy_idle_minutes.is_some() {
            ResetMode::Idle
        } else {
            ResetMode::Daily
        });
        let idle = idle_minutes.or(legacy_idle_minutes);
        let idle = match (mode, idle) {
            (ResetMode::Idle, None) => Some(DEFAULT_IDLE_MINUTES),
            (_, idle) => idle.map(|m| m.max(1)),
        };
        ResetPolicy {
            mode,
            at_hour: at_hour.unwrap_or(DEFAULT_RESET_AT_HOUR).min(23),
            idle_minutes: idle,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MaintenanceMode {
    Warn,
    Enforce,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MaintenancePolicy {
    pub mode: MaintenanceMode,
    pub prune_after_ms: u64,
    pub max_entries: usize,
}

impl Default for MaintenancePolicy {
    fn default() -> Self {
        MaintenancePolicy {
            mode: MaintenanceMode::Enforce,
            prune_after_ms: DEFAULT_PRUNE_AFTER_MS,
            max_entries: DEFAULT_MAX_ENTRIES,
        }
    }
}

impl MaintenancePolicy {
    /// The row count that triggers a maintenance pass between the periodic ones (OpenClaw's
    /// batching: small caps are strict, larger ones get 10 % slack, at least 25).
    pub fn high_water(&self) -> usize {
        if self.max_entries <= 49 {
            return self.max_entries + 1;
        }
        self.max_entries + (self.max_entries.div_ceil(10)).max(25)
    }
}

/// The `session` settings of one agent.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionPolicy {
    pub reset: ResetPolicy,
    pub maintenance: MaintenancePolicy,
    /// The zone of the daily boundary: the gateway host's own.
    pub time_zone: TimeZone,
}

impl Default for SessionPolicy {
    fn default() -> Self {
        SessionPolicy {
            reset: ResetPolicy::default(),
            maintenance: MaintenancePolicy::default(),
            time_zone: TimeZone::system(),
        }
    }
}

impl SessionPolicy {
    /// The most recent daily boundary at or before `now_ms`, in epoch milliseconds.
    pub fn daily_boundary_ms(&self, now_ms: u64) -> Option<u64> {
        let now = jiff::Timestamp::from_millisecond(now_ms as i64).ok()?;
        let local = now.to_zoned_datetime(self.time_zone.clone());
        let hour = self.reset.at_hour as i8;
        let today = local
            .date()
            .at(hour, 0, 0, 0)
            .to_zoned_datetime(self.time_zone.clone())
            .ok()?;
        let boundary = if today.timestamp() > now {
            local
                .date()
                .yesterday()
                .ok()?
                .at(hour, 0, 0, 0)
                .to_zoned_datetime(self.time_zone.clone())
                .ok()?
        } else {
            today
        };
        u64::try_from(boundary.timestamp().as_millisecond()).ok()
    }

    /// Why `entry` must start over at `now_ms`, or `None` while it is fresh. The daily
    /// boundary counts from when the session started, the idle window from its last turn
    /// (OpenClaw's current rule); rows without those times fall back to `updatedAt`.
    pub fn stale_reason(&self, entry: &SessionEntry, now_ms: u64) -> Option<String> {
        let started = nonzero(entry.session_started_at).unwrap_or(entry.updated_at);
        let last = nonzero(entry.last_interaction_at).unwrap_or(entry.updated_at);
        if let Some(minutes) = self.reset.idle_minutes
            && now_ms > last.saturating_add(minutes.saturating_mul(60_000))
        {
            return Some(format!("idle for more than {minutes} min (session.reset)"));
        }
        if self.reset.mode == ResetMode::Daily
            && let Some(boundary) = self.daily_boundary_ms(now_ms)
            && started < boundary
        {
            return Some(format!(
                "daily reset at {:02}:00 (session.reset)",
                self.reset.at_hour
            ));
        }
        None
    }
}

fn nonzero(ms: u64) -> Option<u64> {
    (ms > 0).then_some(ms)
}

/// The rows a maintenance pass removes at `now_ms`: those not updated within `pruneAfter`,
/// then the least recently updated beyond `maxEntries`. `protected` rows are never chosen
/// (the agent's main session, sessions open right now).
pub fn maintenance_victims(
    map: &BTreeMap<String, SessionEntry>,
    policy: &MaintenancePolicy,
    now_ms: u64,
    protected: &dyn Fn(&str) -> bool,
) -> Vec<String> {
    let cutoff = now_ms.saturating_sub(policy.prune_after_ms);
    let mut victims: Vec<String> = Vec::new();
    let mut kept: Vec<(&String, u64)> = Vec::new();
    for (key, entry) in map {
        if protected(key) {
            continue;
        }
        if entry.updated_at < cutoff {
            victims.push(key.clone());
        } else {
            kept.push((key, entry.updated_at));
        }
    }
    let remaining = map.len() - victims.len();
    if remaining > policy.max_entries {
        kept.sort_by(|a, b| a.1.cmp(&b.1).then(a.0.cmp(b.0)));
        let excess = (remaining - policy.max_entries).min(kept.len());
        victims.extend(kept[..excess].iter().map(|(k, _)| (*k).clone()));
    }
    victims
}
