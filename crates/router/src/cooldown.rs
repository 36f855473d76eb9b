//! The cooldown store (spec §3.4): per provider, and per API key where a provider has
//! several, how often it failed recently and until when it should not be used. Lives in
//! memory behind a mutex (the hot path only reads it); every change is persisted to
//! `<state>/cooldowns.json` by [`crate::cooldown_file`] so cooldowns survive restarts and are
//! shared by several clawgate processes on one state dir. The write (file lock, fsyncs) runs
//! on the store's writer thread ([`crate::cooldown_writer`]), not on the caller's: recording
//! a failure on the request path only updates memory. [`CooldownStore::flush`] waits for the
//! disk. A success on an entry that is already clean changes nothing and writes nothing. A
//! store without a state dir may instead hand its changes to a [`CooldownSink`] (a shared
//! database) and take other processes' changes through [`CooldownStore::apply_remote`].

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::time::Duration;

use clawgate_providers::FailureKind;
use serde::{Deserialize, Serialize};

use crate::cooldown_file;
use crate::cooldown_sink::CooldownSink;
use crate::cooldown_writer::{CooldownWriter, Shared};
use crate::decision::Penalty;

/// How long failures keep a provider or key out of rotation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CooldownSchedule {
    /// Cooldown after the 1st, 2nd, ... failure in the window; the last step repeats.
    pub steps: Vec<Duration>,
    /// Billing failures disable for `base × 2^(n−1)`, capped at `billing_max`.
    pub billing_base: Duration,
    /// Per-provider billing bases (OpenClaw's `billingBackoffHoursByProvider`).
    #[serde(default)]
    pub billing_base_by_provider: BTreeMap<String, Duration>,
    pub billing_max: Duration,
    /// Permanent auth failures (revoked key) disable for `base × 2^(n−1)`, capped.
    pub auth_permanent_base: Duration,
    pub auth_permanent_max: Duration,
    /// A failure more than this long after the previous one starts counting from zero.
    pub failure_window: Duration,
}

impl Default for CooldownSchedule {
    /// OpenClaw's baseline: 1 min, 5 min, 25 min, 1 h; billing 5 h doubling to 24 h.
    fn default() -> Self {
        Self {
            steps: vec![
                Duration::from_secs(60),
                Duration::from_secs(5 * 60),
                Duration::from_secs(25 * 60),
                Duration::from_secs(60 * 60),
            ],
            billing_base: Duration::from_secs(5 * 3600),
            billing_base_by_provider: BTreeMap::new(),
            billing_max: Duration::from_secs(24 * 3600),
            auth_permanent_base: Duration::from_secs(10 * 60),
            auth_permanent_max: Duration::from_secs(60 * 60),
            failure_window: Duration::from_secs(24 * 3600),
        }
    }
}

impl CooldownSchedule {
    /// Cooldown after the `error_count`-th failure (1-based).
    pub fn cooldown_for(&self, error_count: u32) -> Duration {
        let index = (error_count.max(1) - 1) as usize;
        self.steps
            .get(index)
            .or(self.steps.last())
            .copied()
            .unwrap_or(Duration::from_secs(60))
    }

    /// How long `provider`'s `n`-th failure of a disabling kind disables (1-based).
    pub fn disable_for(&self, provider: &str, kind_name: &str, n: u32) -> Duration {
        let (base, max) = match kind_name {
            "billing" => (
                self.billing_base_by_provider
                    .get(provider)
                    .copied()
                    .unwrap_or(self.billing_base),
                self.billing_max,
            ),
            _ => (self.auth_permanent_base, self.auth_permanent_max),
        };
        let base = base.max(Duration::from_secs(60));
        let factor = 1u32 << (n.max(1) - 1).min(10);
        base.saturating_mul(factor).min(max)
    }
}

/// Which entry a failure lands on: the whole provider, or one of its API keys.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CooldownKey {
    pub provider: String,
    pub key_index: Option<usize>,
}

impl CooldownKey {
    pub fn provider(provider: &str) -> Self {
        Self {
            provider: provider.to_string(),
            key_index: None,
        }
    }

    pub fn api_key(provider: &str, key_index: usize) -> Self {
        Self {
            provider: provider.to_string(),
            key_index: Some(key_index),
        }
    }

    /// Parses the file form: `anthropic` or `anthropic#key1`.
    pub fn parse(text: &str) -> Self {
        match split_name(text) {
            (provider, Some(index)) => Self::api_key(provider, index),
            (provider, None) => Self::provider(provider),
        }
    }
}

/// An entry's name as (provider, key index), borrowed: the request path asks whether a
/// provider has entries without building their names.
fn split_name(text: &str) -> (&str, Option<usize>) {
    if let Some((provider, index)) = text.rsplit_once("#key")
        && let Ok(index) = index.parse()
    {
        return (provider, Some(index));
    }
    (text, None)
}

/// Whether any entry of `provider` (its own, or one of its keys') satisfies `test`.
fn any_entry_of(
    entries: &BTreeMap<String, CooldownEntry>,
    provider: &str,
    test: impl Fn(&CooldownEntry) -> bool,
) -> bool {
    // Names sort by their text: a provider's entries sit together after its own name.
    entries
        .range::<str, _>((
            std::ops::Bound::Included(provider),
            std::ops::Bound::Unbounded,
        ))
        .take_while(|(name, _)| name.starts_with(provider))
        .any(|(name, entry)| split_name(name).0 == provider && test(entry))
}

impl fmt::Display for CooldownKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.key_index {
            Some(index) => write!(f, "{}#key{index}", self.provider),
            None => f.write_str(&self.provider),
        }
    }
}

/// Bookkeeping for one provider or key. Times are epoch milliseconds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CooldownEntry {
    #[serde(default)]
    pub error_count: u32,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub failure_counts: BTreeMap<String, u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_failure_at: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_failure_kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cooldown_until: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disabled_until: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disabled_reason: Option<String>,
    /// When this entry last changed; the newer entry wins when processes merge.
    #[serde(default)]
    pub updated_at: u64,
}

impl CooldownEntry {
    /// The later of `cooldown_until` and `disabled_until`.
    pub fn unusable_until(&self) -> Option<u64> {
        self.cooldown_until.max(self.disabled_until)
    }

    /// Why and until when this entry blocks use at `now`; `None` when usable.
    pub fn blocked_at(&self, now: u64) -> Option<Blocked> {
        let until = self.unusable_until().filter(|until| *until > now)?;
        let disabled = self.disabled_until.is_some_and(|d| d > now);
        let reason = match (disabled, &self.disabled_reason, &self.last_failure_kind) {
            (true, Some(reason), _) => reason.clone(),
            (_, _, Some(kind)) => kind.clone(),
            _ => "unknown".to_string(),
        };
        Some(Blocked {
            until,
            since: self.last_failure_at.unwrap_or(now).min(until),
            reason,
            disabled,
        })
    }

    fn is_clean(&self) -> bool {
        self.error_count == 0
            && self.failure_counts.is_empty()
            && self.cooldown_until.is_none()
            && self.disabled_until.is_none()
    }
}

/// A provider or key that may not be used right now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blocked {
    /// Epoch ms when it becomes usable again.
    pub until: u64,
    /// Epoch ms when the cooldown started (the failure that caused it).
    pub since: u64,
    /// Failure kind name (or disabled reason) behind the block.
    pub reason: String,
    /// Disabled (billing, auth_permanent) rather than cooling down.
    pub disabled: bool,
}

/// Whether a provider can be called now, and with which key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Availability {
    /// Usable with this API key (the lowest-numbered usable one).
    Ready { key_index: usize },
    /// Every key (or the provider itself) is blocked; `soonest_key` frees up first.
    Blocked { block: Blocked, soonest_key: usize },
}

/// How often [`CooldownStore::refresh_if_changed`] looks at the file (one `stat`).
const REFRESH_INTERVAL_MS: u64 = 1_000;

/// What the file looked like when this store last read or wrote it.
#[derive(Debug, Default)]
pub(crate) struct FileSeen {
    checked_at: Option<u64>,
    pub stamp: Option<cooldown_file::Stamp>,
}

#[derive(Debug, Default)]
pub(crate) struct State {
    pub entries: BTreeMap<String, CooldownEntry>,
    /// Changed in memory, not yet written.
    pub dirty: BTreeSet<String>,
}

/// See the module docs. Share it behind an `Arc` (the router does).
#[derive(Debug)]
pub struct CooldownStore {
    /// Replaceable: a config reload keeps the store (and its state) but may change the schedule.
    schedule: RwLock<CooldownSchedule>,
    /// The entries and what the file looked like, shared with the writer.
    shared: Arc<Shared>,
    state_dir: Option<PathBuf>,
    /// `None` for an in-memory store.
    writer: Option<CooldownWriter>,
    load_warning: Option<String>,
    sink: RwLock<Option<Arc<dyn CooldownSink>>>,
}

pub(crate) fn locked<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl CooldownStore {
    /// A store that is never written to disk (tests, `--no-state`).
    pub fn in_memory(schedule: CooldownSchedule) -> Self {
        Self {
            schedule: RwLock::new(schedule),
            shared: Arc::new(Shared::default()),
            state_dir: None,
            writer: None,
            load_warning: None,
            sink: RwLock::new(None),
        }
    }

    /// Loads `<state_dir>/cooldowns.json`. A missing file starts empty; an unreadable or
    /// corrupt one starts empty with a warning (logged, and kept in [`Self::load_warning`]).
    /// The directory is created on the first write, not here.
    pub fn open(state_dir: impl Into<PathBuf>, schedule: CooldownSchedule) -> Self {
        let state_dir = state_dir.into();
        let stamp = cooldown_file::stamp(&state_dir);
        let (entries, load_warning) = match cooldown_file::read(&state_dir) {
            Ok(entries) => (entries, None),
            Err(problem) => {
                let warning = format!("ignoring cooldown state: {problem}");
                tracing::warn!("{warning}");
                (BTreeMap::new(), Some(warning))
            }
        };
        let shared = Arc::new(Shared::new(
            State {
                entries,
                dirty: BTreeSet::new(),
            },
            FileSeen {
                checked_at: None,
                stamp,
            },
        ));
        let writer = CooldownWriter::start(state_dir.clone(), shared.clone());
        Self {
            schedule: RwLock::new(schedule),
            shared,
            state_dir: Some(state_dir),
            writer: Some(writer),
            load_warning,
            sink: RwLock::new(None),
        }
    }

    pub fn schedule(&self) -> CooldownSchedule {
        self.schedule
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// Applies `schedule` to failures recorded from now on (existing cooldowns keep their end).
    pub fn set_schedule(&self, schedule: CooldownSchedule) {
        *self
            .schedule
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = schedule;
    }

    /// The file this store persists to, if any.
    pub fn path(&self) -> Option<PathBuf> {
        self.state_dir.as_deref().map(cooldown_file::data_path)
    }

    /// Why loading started empty, when it did.
    pub fn load_warning(&self) -> Option<&str> {
        self.load_warning.as_deref()
    }

    /// Records a failure and returns the entry's new "unusable until" (epoch ms).
    /// `Penalty::None` records nothing.
    pub fn record_failure(
        &self,
        key: &CooldownKey,
        kind: &FailureKind,
        penalty: Penalty,
        now: u64,
    ) -> Option<u64> {
        if penalty == Penalty::None {
            return None;
        }
        let schedule = self.schedule();
        let until = {
            let mut state = locked(&self.shared.state);
            let name = key.to_string();
            let entry = state.entries.entry(name.clone()).or_default();
            apply_failure(&schedule, &key.provider, entry, kind, penalty, now);
            let until = entry.unusable_until();
            state.dirty.insert(name);
            until
        };
        self.persist();
        until
    }

    /// A successful call through `provider` with `key_index`: clears the key's and the
    /// provider's entries. Writes only when something was not already clean.
    pub fn record_success(&self, provider: &str, key_index: usize, now: u64) {
        let changed = {
            let mut state = locked(&self.shared.state);
            // The common case, a healthy provider: nothing to clear, no names to build.
            if !any_entry_of(&state.entries, provider, |entry| !entry.is_clean()) {
                return;
            }
            let mut changed = false;
            for key in [
                CooldownKey::provider(provider),
                CooldownKey::api_key(provider, key_index),
            ] {
                let name = key.to_string();
                if let Some(entry) = state.entries.get_mut(&name)
                    && !entry.is_clean()
                {
                    *entry = CooldownEntry {
                        updated_at: now,
                        ..CooldownEntry::default()
                    };
                    state.dirty.insert(name);
                    changed = true;
                }
            }
            changed
        };
        if changed {
            self.persist();
        }
    }

    /// Clears every entry of a provider (`models status --reset`, a fixed API key). Returns
    /// once the change is on disk: a command that resets and exits must not lose it.
    pub fn reset(&self, provider: &str, now: u64) {
        {
            let mut state = locked(&self.shared.state);
            let State { entries, dirty } = &mut *state;
            for (name, entry) in entries.iter_mut() {
                if split_name(name).0 == provider {
                    *entry = CooldownEntry {
                        updated_at: now,
                        ..CooldownEntry::default()
                    };
                    dirty.insert(name.clone());
                }
            }
        }
        self.persist();
        self.flush();
    }

    pub fn entry(&self, key: &CooldownKey) -> Option<CooldownEntry> {
        locked(&self.shared.state)
            .entries
            .get(&key.to_string())
            .cloned()
    }

    /// Every entry, keyed by its file form (`provider` or `provider#keyN`).
    pub fn snapshot(&self) -> BTreeMap<String, CooldownEntry> {
        locked(&self.shared.state).entries.clone()
    }

    pub fn blocked(&self, key: &CooldownKey, now: u64) -> Option<Blocked> {
        locked(&self.shared.state)
            .entries
            .get(&key.to_string())
            .and_then(|entry| entry.blocked_at(now))
    }

    /// Whether `provider` (with `key_count` keys) can be called at `now`.
    pub fn availability(&self, provider: &str, key_count: usize, now: u64) -> Availability {
        let state = locked(&self.shared.state);
        // The common case, nothing of this provider's blocking: the first key, no names built.
        if !any_entry_of(&state.entries, provider, |entry| {
            entry.blocked_at(now).is_some()
        }) {
            return Availability::Ready { key_index: 0 };
        }
        let block_of = |key: CooldownKey| {
            state
                .entries
                .get(&key.to_string())
                .and_then(|entry| entry.blocked_at(now))
        };
        let provider_block = block_of(CooldownKey::provider(provider));
        let key_blocks: Vec<Option<Blocked>> = (0..key_count.max(1))
            .map(|index| block_of(CooldownKey::api_key(provider, index)))
            .collect();
        if provider_block.is_none()
            && let Some(key_index) = key_blocks.iter().position(Option::is_none)
        {
            return Availability::Ready { key_index };
        }
        // Blocked: by the provider entry, or by every key. It frees up when the provider
        // entry has expired and the soonest key has.
        let mut soonest_key = 0;
        let mut soonest: Option<&Blocked> = None;
        for (index, block) in key_blocks.iter().enumerate() {
            match (block, soonest) {
                (None, _) => {
                    soonest_key = index;
                    soonest = None;
                    break;
                }
                (Some(block), Some(best)) if block.until >= best.until => {}
                (Some(block), _) => {
                    soonest_key = index;
                    soonest = Some(block);
                }
            }
        }
        let block = match (provider_block, soonest) {
            (Some(p), Some(k)) if k.until > p.until => k.clone(),
            (Some(p), _) => p,
            (None, Some(k)) => k.clone(),
            (None, None) => return Availability::Ready { key_index: 0 },
        };
        Availability::Blocked { block, soonest_key }
    }

    /// The lowest-numbered key of `provider` that is usable at `now` and not in `exclude`.
    pub fn next_key(
        &self,
        provider: &str,
        key_count: usize,
        now: u64,
        exclude: &[usize],
    ) -> Option<usize> {
        (0..key_count.max(1)).find(|index| {
            !exclude.contains(index)
                && self
                    .blocked(&CooldownKey::api_key(provider, *index), now)
                    .is_none()
        })
    }

    /// Picks up cooldowns written by other processes: at most once a second, looks at the
    /// file's modification time and size, and re-reads it when they changed. The router calls
    /// this at the start of each call, so the hot path costs one `stat` per second at most.
    pub fn refresh_if_changed(&self, now: u64) {
        let Some(dir) = &self.state_dir else { return };
        {
            let mut seen = locked(&self.shared.seen);
            if seen
                .checked_at
                .is_some_and(|at| now.saturating_sub(at) < REFRESH_INTERVAL_MS)
            {
                return;
            }
            seen.checked_at = Some(now);
            let stamp = cooldown_file::stamp(dir);
            if stamp == seen.stamp {
                return;
            }
            seen.stamp = stamp;
        }
        self.reload();
    }

    /// Re-reads the file and merges it in (newer entries win): picks up what other
    /// processes wrote since this store last wrote.
    pub fn reload(&self) {
        let Some(dir) = &self.state_dir else { return };
        match cooldown_file::read(dir) {
            Ok(disk) => {
                let mut state = locked(&self.shared.state);
                let dirty = state.dirty.clone();
                cooldown_file::merge_into(&mut state.entries, &disk, |name| !dirty.contains(name));
            }
            Err(problem) => tracing::warn!("could not re-read cooldown state: {problem}"),
        }
    }

    /// Hands every later change to `sink` (a store without a state dir: a shared database).
    pub fn set_sink(&self, sink: Arc<dyn CooldownSink>) {
        *self.sink.write().unwrap_or_else(|p| p.into_inner()) = Some(sink);
    }

    /// Merges entries another process recorded (newer `updatedAt` wins; a tie keeps ours).
    pub fn apply_remote(&self, incoming: &BTreeMap<String, CooldownEntry>) {
        let mut state = locked(&self.shared.state);
        cooldown_file::merge_into(&mut state.entries, incoming, |_| false);
    }

    /// Hands the changed entries to the writer thread (see the module docs), or to the sink
    /// of a store without a state dir (which only queues them).
    fn persist(&self) {
        if let Some(writer) = &self.writer {
            writer.request_write();
            return;
        }
        let changed: Vec<(String, CooldownEntry)> = {
            let mut state = locked(&self.shared.state);
            let dirty = std::mem::take(&mut state.dirty);
            dirty
                .into_iter()
                .filter_map(|name| state.entries.get(&name).map(|e| (name, e.clone())))
                .collect()
        };
        let sink = self.sink.read().unwrap_or_else(|p| p.into_inner()).clone();
        if let Some(sink) = sink {
            sink.changed(changed);
        }
    }

    /// Returns once every change recorded before the call is written to the state dir (or
    /// its write failed and was logged). Nothing to do for an in-memory store.
    pub fn flush(&self) {
        if let Some(writer) = &self.writer {
            writer.flush();
        }
    }
}

/// Updates `entry` for one failure of `provider` (spec §3.4).
fn apply_failure(
    schedule: &CooldownSchedule,
    provider: &str,
    entry: &mut CooldownEntry,
    kind: &FailureKind,
    penalty: Penalty,
    now: u64,
) {
    let window = schedule.failure_window.as_millis() as u64;
    if entry
        .last_failure_at
        .is_some_and(|last| now.saturating_sub(last) > window)
    {
        entry.error_count = 0;
        entry.failure_counts.clear();
    }
    let name = kind.name();
    entry.error_count += 1;
    let count = entry.failure_counts.entry(name.to_string()).or_insert(0);
    *count += 1;
    let kind_count = *count;
    entry.last_failure_at = Some(now);
    entry.last_failure_kind = Some(name.to_string());
    entry.updated_at = now;
    match penalty {
        Penalty::Disable => {
            let span = schedule.disable_for(provider, name, kind_count);
            let until = now + span.as_millis() as u64;
            entry.disabled_until = Some(entry.disabled_until.unwrap_or(0).max(until));
            entry.disabled_reason = Some(name.to_string());
        }
        Penalty::Cooldown => {
            let mut span = schedule.cooldown_for(entry.error_count);
            if let FailureKind::RateLimit {
                retry_after: Some(retry_after),
            } = kind
            {
                span = span.max(*retry_after);
            }
            let until = now + span.as_millis() as u64;
            entry.cooldown_until = Some(entry.cooldown_until.unwrap_or(0).max(until));
        }
        Penalty::None => {}
    }
}

/// The state dir's cooldown file name, for tools that show where state lives.
pub fn cooldown_file_path(state_dir: &Path) -> PathBuf {
    cooldown_file::data_path(state_dir)
}

#[cfg(test)]
#[path = "cooldown_tests.rs"]
mod tests;
