//! How `models status` prints its report for people: a provider table and (after a probe) a
//! model table, with warnings and the check verdict underneath. The JSON shape is
//! `clawgate_runtime::model_status_json`.

use crate::output::{table, tokens};
use clawgate_config::decode::redact_url;
use clawgate_providers::LearnedBehaviour;
use clawgate_router::clock::human_duration;
use clawgate_runtime::model_status::{CooldownInfo, KeyInfo, KeyState, ProviderRow, StatusReport};
use clawgate_runtime::model_status_json::utc;

fn key_text(key: &KeyInfo) -> String {
    let mut text = match (key.state, &key.redacted) {
        (KeyState::Present, Some(redacted)) => redacted.clone(),
        (state, _) => state.name().to_string(),
    };
    if let Some(source) = &key.source {
        text.push_str(&format!(" ({source})"));
    }
    if key.count > 1 {
        text.push_str(&format!(" +{} more", key.count - 1));
    }
    text
}

fn cooldown_text(cooldown: &Option<CooldownInfo>) -> String {
    let Some(c) = cooldown else {
        return "-".to_string();
    };
    let state = if c.disabled { "disabled" } else { "cooling" };
    let errors = if c.error_count == 1 {
        "1 error".to_string()
    } else {
        format!("{} errors", c.error_count)
    };
    format!(
        "{state} {} ({}, {errors}, until {})",
        human_duration(c.remaining),
        c.reason,
        utc(c.until)
    )
}

fn probe_text(row: &ProviderRow, probed: bool) -> String {
    if !probed {
        return String::new();
    }
    if row.problem.is_some() {
        return "not built".to_string();
    }
    match &row.probe {
        None => "-".to_string(),
        Some(p) if p.reachable => format!("ok {} ms", p.latency.as_millis()),
        Some(p) => match &p.error {
            Some(e) => format!("unreachable: {}", e.kind.name()),
            None => "unreachable".to_string(),
        },
    }
}

fn yes_no(value: Option<bool>) -> &'static str {
    match value {
        Some(true) => "yes",
        Some(false) => "no",
        None => "?",
    }
}

/// One line per key when a provider has several or takes one from OpenClaw's profile store,
/// so each key's source shows (redacted).
fn print_keys(report: &StatusReport) {
    let listed: Vec<&ProviderRow> = report
        .providers
        .iter()
        .filter(|row| {
            row.key.keys.len() > 1
                || row
                    .key
                    .keys
                    .iter()
                    .any(|(_, source)| source.starts_with("openclaw-profile"))
        })
        .collect();
    if listed.is_empty() {
        return;
    }
    println!();
    let mut keys = table(&["provider", "key", "value", "source"]);
    for row in listed {
        for (i, (shown, source)) in row.key.keys.iter().enumerate() {
            keys.add_row(vec![
                row.entry.id.clone(),
                format!("#{i}"),
                shown.clone(),
                source.clone(),
            ]);
        }
    }
    println!("{keys}");
}

pub fn print_human(report: &StatusReport) {
    println!("primary    {}", report.primary);
    let fallbacks: Vec<String> = report.fallbacks.iter().map(|f| f.to_string()).collect();
    println!(
        "fallbacks  {}",
        if fallbacks.is_empty() {
            "(none)".to_string()
        } else {
            fallbacks.join(", ")
        }
    );
    println!("cooldowns  {}", report.cooldown_file);
    println!();
    let mut header = vec!["provider", "role", "api", "base URL", "key", "cooldown"];
    if report.probed {
        header.push("reachable");
    }
    let mut providers = table(&header);
    for row in &report.providers {
        let mut cells = vec![
            row.entry.id.clone(),
            row.role.name().unwrap_or("").to_string(),
            row.entry.api.as_str().to_string(),
            redact_url(&row.entry.base_url),
            key_text(&row.key),
            cooldown_text(&row.cooldown),
        ];
        if report.probed {
            cells.push(probe_text(row, true));
        }
        providers.add_row(cells);
    }
    println!("{providers}");
    print_keys(report);
    if report.probed && !report.models.is_empty() {
        println!();
        let mut models = table(&[
            "model",
            "role",
            "context",
            "served",
            "loaded",
            "server context",
        ]);
        for row in &report.models {
            models.add_row(vec![
                row.model.reference.clone(),
                row.role.name().unwrap_or("").to_string(),
                tokens(row.model.context_window),
                yes_no(row.served).to_string(),
                yes_no(row.loaded).to_string(),
                row.server_context.map_or_else(|| "-".to_string(), tokens),
            ]);
        }
        println!("{models}");
    }
    for row in report.providers.iter().filter(|r| r.problem.is_some()) {
        let problem = row.problem.as_deref().unwrap_or_default();
        println!("note: {}: {problem}", row.entry.id);
    }
    for row in &report.providers {
        for line in learned_lines(&row.learned) {
            println!("note: {}: {line}", row.entry.id);
        }
    }
    if report.probed {
        for row in &report.providers {
            if let Some(error) = row.probe.as_ref().and_then(|p| p.error.as_ref()) {
                println!("note: {}: {}", row.entry.id, error.message);
            }
        }
    }
    if let Some(warning) = &report.cooldown_warning {
        println!("warning: {warning}");
    }
    for warning in &report.warnings {
        println!("warning: {warning}");
    }
    if report.check_problems.is_empty() {
        println!("check: ok, the primary can serve");
    } else {
        println!(
            "check: FAILED, the primary {} cannot serve: {}",
            report.primary,
            report.check_problems.join("; ")
        );
    }
}

/// What a provider learned, one sentence each.
pub fn learned_lines(learned: &LearnedBehaviour) -> Vec<String> {
    let mut lines = Vec::new();
    if learned.responses_via_chat {
        lines.push(
            "the server has no /responses; calls are bridged to /chat/completions".to_string(),
        );
    }
    if !learned.models_without_tools.is_empty() {
        lines.push(format!(
            "called without tools (the server said they are not supported): {}",
            learned.models_without_tools.join(", ")
        ));
    }
    if !learned.models_with_inline_reasoning.is_empty() {
        lines.push(format!(
            "answers held until </think> (reasoning written inline): {}",
            learned.models_with_inline_reasoning.join(", ")
        ));
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn learned_behaviour_reads_as_sentences() {
        assert!(learned_lines(&LearnedBehaviour::default()).is_empty());
        let learned = LearnedBehaviour {
            responses_via_chat: true,
            models_without_tools: vec!["gemma3".into()],
            models_with_inline_reasoning: vec!["minimax-m2".into(), "glm-4.6".into()],
        };
        assert_eq!(
            learned_lines(&learned),
            vec![
                "the server has no /responses; calls are bridged to /chat/completions",
                "called without tools (the server said they are not supported): gemma3",
                "answers held until </think> (reasoning written inline): minimax-m2, glm-4.6",
            ]
        );
    }
}
