//! `clawgate models test <ref> --chain`: the same test call, but through the router with the
//! configured fallbacks (or `--chain=a,b` for an explicit list after `<ref>`), so a user can
//! watch failover work before putting an agent on it. Prints the answer, then the attempt
//! record: which candidate answered, each failed attempt with its failure kind, message and
//! latency, and which candidates were skipped because they are cooling down. `--json` carries
//! the same record.
//!
//! The router, its providers and the cooldown store come from `clawgate_runtime::Services`
//! (the gateway's own assembly), so the call behaves as an agent's call would, cooldowns
//! included: a failure here is remembered like any other.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use clawgate_config::LoadedConfig;
use clawgate_providers::{FailureKind, ProviderError};
use clawgate_router::{
    AttemptOutcome, AttemptRecord, CancellationToken, CandidateChain, CandidateRef, RouterError,
};
use clawgate_runtime::{FallbackMode, Services, ServicesOptions, engine_factory};
use futures::StreamExt;
use serde_json::{Value, json};

use super::models_test::{CallReport, ModelsTestArgs, build_request};
use crate::output::{print_json, table};

/// The chain `--chain` asks for: the configured one for `<ref>`, or `<ref>` then the listed
/// refs or aliases (no primary appended: exactly what was given).
fn chain_for(services: &Services, args: &ModelsTestArgs) -> Result<CandidateChain, String> {
    let route = services
        .resolve_model(&args.model)
        .map_err(|e| e.to_string())?;
    let list = match args.chain.as_ref().and_then(|c| c.as_deref()) {
        None | Some("") => return Ok(route.chain(FallbackMode::Configured).clone()),
        Some(list) => list,
    };
    let mut refs = vec![route.candidate.clone()];
    for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let fallback = services.resolve_model(item).map_err(|e| e.to_string())?;
        refs.push(fallback.candidate.clone());
    }
    Ok(CandidateChain::from_refs(refs))
}

/// What the routed call produced: the answer (as `models test` collects it) and the record.
#[derive(Debug, Default)]
pub struct ChainReport {
    pub call: CallReport,
    pub chain: Vec<CandidateRef>,
    pub answered_by: Option<CandidateRef>,
    pub fallback: bool,
    pub attempts: Vec<AttemptRecord>,
    /// The router's own error when no candidate committed.
    pub router_error: Option<RouterError>,
}

/// Routes the test request across `chain` and drains the committed stream.
pub async fn call_chain(
    services: &Services,
    chain: CandidateChain,
    args: &ModelsTestArgs,
) -> ChainReport {
    let started = Instant::now();
    let mut report = ChainReport {
        chain: chain.candidates().to_vec(),
        ..ChainReport::default()
    };
    let resolved = match chain
        .head()
        .map(|head| services.registry().resolve(&head.key()))
    {
        Some(Ok(resolved)) => resolved,
        Some(Err(error)) => {
            report.call.setup_error = Some(error.to_string());
            return report;
        }
        None => {
            report.call.setup_error = Some("empty chain".to_string());
            return report;
        }
    };
    let request = build_request(&resolved, args);
    let cancel = CancellationToken::new();
    match services.router().call(request, &chain, &cancel).await {
        Ok(mut stream) => {
            while let Some(item) = stream.next().await {
                match item {
                    Ok(event) => report.call.absorb(&event, started),
                    Err(error) => report.call.error = Some(error),
                }
            }
            let info = stream.into_info();
            report.answered_by = Some(info.answered_by);
            report.fallback = info.fallback;
            report.attempts = info.attempts;
        }
        Err(error) => {
            report.attempts = error.attempts().to_vec();
            report.call.error = Some(router_failure(&error));
            report.router_error = Some(error);
        }
    }
    report.call.total = started.elapsed();
    report
}

fn router_failure(error: &RouterError) -> ProviderError {
    ProviderError::new(
        error.kind().unwrap_or(FailureKind::Unknown),
        error.to_string(),
    )
}

fn ms(duration: Duration) -> u64 {
    duration.as_millis() as u64
}

/// One attempt as `--json` shows it.
pub fn attempt_json(attempt: &AttemptRecord) -> Value {
    let mut value = json!({
        "ref": attempt.candidate.key(),
        "outcome": "ok",
        "keyIndex": attempt.key_index,
        "latencyMs": ms(attempt.latency),
        "retry": attempt.retry,
        "probe": attempt.probe,
        "lastResort": attempt.last_resort,
    });
    let extra = match &attempt.outcome {
        AttemptOutcome::Ok => json!({}),
        AttemptOutcome::Failed {
            kind,
            message,
            status,
        } => {
            json!({"outcome": "failed", "kind": kind.name(), "message": message, "status": status})
        }
        AttemptOutcome::SkippedForCooldown {
            until,
            remaining,
            reason,
            disabled,
        } => json!({
            "outcome": "skipped_for_cooldown", "reason": reason, "cooldownUntil": until,
            "remainingMs": ms(*remaining), "disabled": disabled,
        }),
        AttemptOutcome::SkippedUnknownProvider => json!({"outcome": "skipped_unknown_provider"}),
    };
    if let (Some(target), Value::Object(extra)) = (value.as_object_mut(), extra) {
        target.extend(extra);
    }
    value
}

/// The `--json` object: the answer, the chain and the attempt record.
pub fn chain_json(report: &ChainReport) -> Value {
    let call = &report.call;
    let error = call
        .error
        .as_ref()
        .map(|e| json!({"kind": e.kind.name(), "status": e.status, "message": e.message}));
    let calls: Vec<Value> = call
        .tool_calls
        .iter()
        .map(|(id, name, args)| json!({"id": id, "name": name, "arguments": args}))
        .collect();
    json!({
        "chain": report.chain.iter().map(CandidateRef::key).collect::<Vec<_>>(),
        "ok": !call.failed(),
        "answeredBy": report.answered_by.as_ref().map(CandidateRef::key),
        "fallback": report.fallback,
        "attempts": report.attempts.iter().map(attempt_json).collect::<Vec<_>>(),
        "text": call.text,
        "reasoning": call.reasoning,
        "toolCalls": calls,
        "usage": call.usage,
        "stopReason": call.stop_reason,
        "ttftMs": call.ttft.map(ms),
        "totalMs": ms(call.total),
        "error": error.or_else(|| call.setup_error.as_ref().map(|m| json!({"kind": "setup", "message": m}))),
    })
}

fn outcome_text(attempt: &AttemptRecord) -> String {
    let retry = if attempt.retry > 0 {
        format!(" (retry {})", attempt.retry)
    } else {
        String::new()
    };
    let how = if attempt.probe {
        " (probe)"
    } else if attempt.last_resort {
        " (last resort)"
    } else {
        ""
    };
    let text = match &attempt.outcome {
        AttemptOutcome::Ok => "ok, answered".to_string(),
        AttemptOutcome::Failed { kind, message, .. } => {
            format!("failed: {} — {message}", kind.name())
        }
        // The router's own wording of a skip (`cooling down for 4m 10s (rate_limit)`).
        AttemptOutcome::SkippedForCooldown { .. } | AttemptOutcome::SkippedUnknownProvider => {
            format!("skipped: {}", attempt.detail())
        }
    };
    format!("{text}{retry}{how}")
}

fn print_human(report: &ChainReport) {
    let call = &report.call;
    if !call.reasoning.is_empty() {
        println!("reasoning: {}", call.reasoning.trim());
    }
    if !call.text.is_empty() {
        println!("answer: {}", call.text.trim());
    }
    for (id, name, arguments) in &call.tool_calls {
        println!("tool call: {name}({arguments})  id={id}");
    }
    let chain: Vec<String> = report.chain.iter().map(CandidateRef::key).collect();
    println!("chain: {}", chain.join(" -> "));
    let mut attempts = table(&["#", "candidate", "outcome", "latency"]);
    for (n, attempt) in report.attempts.iter().enumerate() {
        let latency = if attempt.is_network_attempt() {
            format!("{} ms", attempt.latency.as_millis())
        } else {
            "-".to_string()
        };
        attempts.add_row(vec![
            (n + 1).to_string(),
            attempt.candidate.key(),
            outcome_text(attempt),
            latency,
        ]);
    }
    println!("{attempts}");
    let mut facts = Vec::new();
    if let Some(by) = &report.answered_by {
        let role = if report.fallback { " (fallback)" } else { "" };
        facts.push(format!("answered by {by}{role}"));
    }
    if let Some(ttft) = call.ttft {
        facts.push(format!("ttft {} ms", ttft.as_millis()));
    }
    facts.push(format!("total {} ms", call.total.as_millis()));
    println!("-- {}", facts.join(" · "));
    if let Some(message) = &call.setup_error {
        eprintln!("error: {message}");
    }
    if let Some(error) = &call.error {
        let when = if report.answered_by.is_some() {
            " (after the answer started: no fallback once text was sent)"
        } else {
            ""
        };
        eprintln!("error: {}{when}: {}", error.kind.name(), error.message);
    }
}

pub fn run(loaded: &LoadedConfig, args: &ModelsTestArgs) -> anyhow::Result<ExitCode> {
    let services = match Services::build(
        loaded.clone(),
        ServicesOptions {
            engine: engine_factory(true),
            ..ServicesOptions::default()
        },
    ) {
        Ok(services) => services,
        Err(error) => {
            eprintln!("error: {error}");
            return Ok(ExitCode::from(1));
        }
    };
    let chain = match chain_for(&services, args) {
        Ok(chain) => chain,
        Err(message) => {
            eprintln!("error: {message}");
            return Ok(ExitCode::from(1));
        }
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let report = runtime.block_on(call_chain(&services, chain, args));
    if args.json {
        print_json(&chain_json(&report))?;
    } else {
        print_human(&report);
    }
    Ok(if report.call.failed() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
