//! The `session` section: when a session starts over (`reset`, and OpenClaw's older top-level
//! `idleMinutes`) and how the session index is kept from growing without bound
//! (`maintenance`), with OpenClaw's key names. Routing keys that only mean something for chat
//! channels (`dmScope`, `identityLinks`, `resetByType`, `resetByChannel`, `sendPolicy`, …), the
//! store path override and the file-rotation and disk-budget knobs are accepted and listed as
//! ignored.
//!
//! Unset keys stay `None`; the agent crate's `SessionPolicy::default()` holds the defaults
//! (daily reset at 04:00 local time, 60 idle minutes when the mode is `idle`, maintenance
//! `enforce`, `pruneAfter` 30 days, `maxEntries` 500).

use serde::Serialize;

use crate::decode::{Decode, Decoder, ObjectReader, describe, in_range, positive, string_enum};
use crate::diagnostic::JsonPath;
use crate::source::{Node, NodeKind};

/// Longest span `idleMinutes` and `pruneAfter` may set: ten years, far from any overflow.
const MAX_MINUTES: u64 = 10 * 366 * 24 * 60;
const MAX_MS: u64 = MAX_MINUTES * 60_000;

string_enum! {
    /// `session.reset.mode`.
    pub enum ResetMode {
        /// A new session after the daily boundary (`atHour`, gateway host local time).
        Daily = "daily",
        /// A new session after `idleMinutes` without a turn.
        Idle = "idle",
    }
}

string_enum! {
    /// `session.maintenance.mode`.
    pub enum MaintenanceMode {
        /// Log what would be pruned; change nothing.
        Warn = "warn",
        /// Prune stale rows and cap the count, removing their transcripts.
        Enforce = "enforce",
    }
}

/// `session`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionConfig {
    pub reset: Option<SessionResetConfig>,
    /// OpenClaw's older idle-only setting: with no `reset` block it means `mode: "idle"`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub idle_minutes: Option<u64>,
    pub maintenance: SessionMaintenanceConfig,
}

/// `session.reset`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionResetConfig {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode: Option<ResetMode>,
    /// Local hour (0–23) of the daily boundary.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at_hour: Option<u64>,
    /// Sliding idle window; with `daily`, whichever expires first starts a new session.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub idle_minutes: Option<u64>,
}

/// `session.maintenance`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionMaintenanceConfig {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode: Option<MaintenanceMode>,
    /// `pruneAfter` in milliseconds (the file gives `"30d"`, `"12h"`, or a number of days).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prune_after_ms: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_entries: Option<u64>,
}

fn minutes(node: &Node, path: &JsonPath, cx: &mut Decoder) -> Option<u64> {
    in_range(node, path, cx, 1, MAX_MINUTES)
}

/// `pruneAfter`: a duration such as `"30d"`, `"12h"`, `"90m"`, or a number of days (OpenClaw's
/// default unit).
fn prune_after(node: &Node, path: &JsonPath, cx: &mut Decoder) -> Option<u64> {
    let ms = match &node.kind {
        NodeKind::Number { value, .. } if value.is_finite() && *value > 0.0 => {
            Some((value * 86_400_000.0) as u64)
        }
        NodeKind::String(text) => {
            let text = text.trim();
            match text.parse::<f64>() {
                Ok(days) if days.is_finite() && days > 0.0 => Some((days * 86_400_000.0) as u64),
                Ok(_) => None,
                Err(_) => humantime::parse_duration(text)
                    .ok()
                    .map(|d| d.as_millis() as u64),
            }
        }
        _ => None,
    };
    match ms {
        Some(ms) if ms > 0 && ms <= MAX_MS => Some(ms),
        _ => {
            let found = describe(node, path);
            cx.error(
                path,
                &node.pos,
                format!(
                    "expected a duration above zero and at most ten years (\"30d\", \"12h\", \
                     \"90m\", or a number of days), found {found}"
                ),
            );
            None
        }
    }
}

impl Decode for SessionConfig {
    fn decode(node: &Node, path: &JsonPath, cx: &mut Decoder) -> Option<Self> {
        let mut o = ObjectReader::new(node, path, cx)?;
        let s = Self {
            reset: o.field("reset", cx),
            idle_minutes: o.field_with("idleMinutes", cx, minutes),
            maintenance: o.field("maintenance", cx).unwrap_or_default(),
        };
        // Chat-channel routing, the store path and per-type/per-channel overrides: clawgate's
        // sessions come from HTTP headers and the CLI, and live under the state dir.
        o.ignore(
            &[
                "scope",
                "dmScope",
                "identityLinks",
                "resetTriggers",
                "resetByType",
                "resetByChannel",
                "store",
                "typingIntervalSeconds",
                "typingMode",
                "parentForkMaxTokens",
                "mainKey",
                "sendPolicy",
                "agentToAgent",
                "threadBindings",
                "writeLock",
            ],
            cx,
        );
        o.finish(cx);
        Some(s)
    }
}

impl Decode for SessionResetConfig {
    fn decode(node: &Node, path: &JsonPath, cx: &mut Decoder) -> Option<Self> {
        let mut o = ObjectReader::new(node, path, cx)?;
        let r = Self {
            mode: o.field("mode", cx),
            at_hour: o.field_with("atHour", cx, |n, p, cx| in_range(n, p, cx, 0, 23)),
            idle_minutes: o.field_with("idleMinutes", cx, minutes),
        };
        o.finish(cx);
        Some(r)
    }
}

impl Decode for SessionMaintenanceConfig {
    fn decode(node: &Node, path: &JsonPath, cx: &mut Decoder) -> Option<Self> {
        let mut o = ObjectReader::new(node, path, cx)?;
        let m = Self {
            mode: o.field("mode", cx),
            prune_after_ms: o.field_with("pruneAfter", cx, prune_after),
            max_entries: o.field_with("maxEntries", cx, positive),
        };
        // File rotation, archive retention and the disk budget belong to OpenClaw's own
        // storage; `pruneDays` is its deprecated spelling of `pruneAfter`.
        o.ignore(
            &[
                "pruneDays",
                "rotateBytes",
                "resetArchiveRetention",
                "maxDiskBytes",
                "highWaterBytes",
            ],
            cx,
        );
        o.finish(cx);
        Some(m)
    }
}
