//! The JSON shape of a [`StatusReport`], stable for scripts and the Control UI: camelCase
//! keys, `null` for "not known", times in epoch ms (and RFC 3339 UTC alongside).

use std::time::{Duration, UNIX_EPOCH};

use clawgate_config::decode::redact_url;
use serde_json::{Value, json};

use crate::model_status::{CooldownInfo, KeyInfo, ModelRow, ProviderRow, StatusReport};

/// `2026-01-02T03:04:05Z`.
pub fn utc(epoch_ms: u64) -> String {
    humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_millis(epoch_ms)).to_string()
}

fn key_json(key: &KeyInfo) -> Value {
    json!({
        "state": key.state.name(),
        "redacted": key.redacted,
        "source": key.source,
        "count": key.count,
        "keys": key.keys.iter().map(|(shown, source)| json!({
            "redacted": shown,
            "source": source,
        })).collect::<Vec<_>>(),
    })
}

fn cooldown_json(cooldown: &Option<CooldownInfo>) -> Value {
    match cooldown {
        None => Value::Null,
        Some(c) => json!({
            "until": c.until,
            "untilUtc": utc(c.until),
            "remainingMs": c.remaining.as_millis() as u64,
            "reason": c.reason,
            "disabled": c.disabled,
            "errorCount": c.error_count,
        }),
    }
}

fn probe_json(row: &ProviderRow) -> Value {
    match &row.probe {
        None => Value::Null,
        Some(p) => json!({
            "reachable": p.reachable,
            "latencyMs": p.latency.as_millis() as u64,
            "models": p.models.iter().map(|m| m.id.as_str()).collect::<Vec<_>>(),
            "error": p.error.as_ref().map(|e| json!({
                "kind": e.kind.name(),
                "message": e.message,
                "status": e.status,
            })),
        }),
    }
}

fn provider_json(row: &ProviderRow) -> Value {
    json!({
        "id": row.entry.id,
        "role": row.role.name(),
        "api": row.entry.api.as_str(),
        "baseUrl": redact_url(&row.entry.base_url),
        "local": row.entry.is_local,
        "configured": row.entry.configured,
        "problem": row.problem,
        "key": key_json(&row.key),
        "cooldown": cooldown_json(&row.cooldown),
        "probe": probe_json(row),
        "learned": if row.learned.is_empty() {
            Value::Null
        } else {
            serde_json::to_value(&row.learned).unwrap_or(Value::Null)
        },
    })
}

fn model_json(row: &ModelRow) -> Value {
    json!({
        "ref": row.model.reference,
        "role": row.role.name(),
        "contextWindow": row.model.context_window,
        "served": row.served,
        "loaded": row.loaded,
        "serverContextWindow": row.server_context,
    })
}

/// The `--json` object.
pub fn status_json(report: &StatusReport) -> Value {
    json!({
        "primary": report.primary.to_string(),
        "fallbacks": report.fallbacks.iter().map(|f| f.to_string()).collect::<Vec<_>>(),
        "cooldownFile": report.cooldown_file,
        "cooldownWarning": report.cooldown_warning,
        "probed": report.probed,
        "providers": report.providers.iter().map(provider_json).collect::<Vec<_>>(),
        "models": report.models.iter().map(model_json).collect::<Vec<_>>(),
        "warnings": report.warnings,
        "check": {
            "ok": report.check_problems.is_empty(),
            "problems": report.check_problems,
        },
    })
}
