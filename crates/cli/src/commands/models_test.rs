//! `clawgate models test <ref>`: one raw call of one model (no agent, no fallback), to check
//! that a provider answers and how: answer text, reasoning shown apart, tool calls, usage,
//! time to first token and total time, or the classified failure (kind, status, message) with
//! exit code 1. The ref resolves through the config registry like everywhere else, and the
//! provider is the one `clawgate_runtime::Services` builds for every other command (the
//! in-process engine included, in a build with it).

use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Args;
use clawgate_config::decode::redact_url;
use clawgate_config::{LoadedConfig, ResolvedModel};
use clawgate_providers::{CallContext, FailureKind, ProviderError};
use clawgate_runtime::{Services, ServicesOptions, engine_factory};
use clawgate_wire::{Event, Message, Request, Role, StopReason, ToolChoice, ToolSpec, Usage};
use futures::StreamExt;
use serde_json::{Value, json};

use crate::output::print_json;

/// Output cap when neither `--max-tokens` nor a smaller model `maxTokens` says otherwise.
const DEFAULT_TEST_MAX_TOKENS: u32 = 1024;

#[derive(Debug, Args)]
pub struct ModelsTestArgs {
    /// A provider/model ref or an alias.
    pub model: String,
    /// The user message to send.
    #[arg(
        short = 'm',
        long = "message",
        value_name = "TEXT",
        default_value = "Say hi in one short sentence."
    )]
    pub message: String,
    /// Stream the answer (printed as it arrives).
    #[arg(long)]
    pub stream: bool,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
    /// Offer a tool with this name and force the model to call it.
    #[arg(long, value_name = "NAME")]
    pub tool: Option<String>,
    /// Output token cap (default: the model's maxTokens, at most 1024).
    #[arg(long, value_name = "N")]
    pub max_tokens: Option<u32>,
    /// Route the call with fallbacks and print the attempt record: `--chain` uses the
    /// configured fallbacks, `--chain=a,b` tries <ref> then exactly these refs or aliases.
    /// Failures are remembered in the cooldown store like any other call's.
    #[arg(long, value_name = "REFS", num_args = 0..=1, require_equals = true)]
    pub chain: Option<Option<String>>,
}

/// What one call produced.
#[derive(Debug, Default)]
pub struct CallReport {
    pub text: String,
    pub reasoning: String,
    /// (id, name, arguments JSON text)
    pub tool_calls: Vec<(String, String, String)>,
    pub usage: Option<Usage>,
    pub stop_reason: Option<StopReason>,
    pub ttft: Option<Duration>,
    pub total: Duration,
    pub error: Option<ProviderError>,
    /// The provider could not be built (unsupported api, bad header): no call was made.
    pub setup_error: Option<String>,
}

impl CallReport {
    pub fn failed(&self) -> bool {
        self.error.is_some() || self.setup_error.is_some()
    }

    pub(crate) fn absorb(&mut self, event: &Event, started: Instant) {
        if event.is_content() && self.ttft.is_none() {
            self.ttft = Some(started.elapsed());
        }
        match event {
            Event::TextDelta { text } => self.text.push_str(text),
            Event::ReasoningDelta { text } => self.reasoning.push_str(text),
            Event::ToolCallStart { id, name, .. } => {
                self.tool_calls
                    .push((id.clone(), name.clone(), String::new()));
            }
            Event::ToolCallArgsDelta { index, delta } => {
                let slot = usize::try_from(*index).ok();
                if let Some(call) = slot.and_then(|i| self.tool_calls.get_mut(i)) {
                    call.2.push_str(delta);
                }
            }
            Event::Usage { usage } => self.usage = Some(*usage),
            Event::Finished { stop_reason } => self.stop_reason = Some(*stop_reason),
            Event::Started { .. } | Event::ReasoningSignature { .. } | Event::Notice { .. } => {}
        }
    }
}

/// The request `models test` sends.
pub fn build_request(resolved: &ResolvedModel, args: &ModelsTestArgs) -> Request {
    let model_cap = u32::try_from(resolved.model.max_tokens).unwrap_or(u32::MAX);
    let mut request = Request {
        model: resolved.model.id.clone(),
        messages: vec![Message::text(Role::User, args.message.clone())],
        max_tokens: Some(
            args.max_tokens
                .unwrap_or_else(|| model_cap.min(DEFAULT_TEST_MAX_TOKENS)),
        ),
        stream: args.stream,
        ..Request::default()
    };
    if let Some(name) = &args.tool {
        request.tools = vec![ToolSpec {
            name: name.clone(),
            description: Some(format!("Test tool `{name}`: call it with a short input.")),
            parameters: json!({"type":"object","properties":{"input":{"type":"string"}},"required":["input"]}),
        }];
        request.tool_choice = ToolChoice::Tool(name.clone());
    }
    request
}

/// Make the call with the provider `services` built for the row; `on_event` sees each event as
/// it arrives (live printing). The attempt runs under the provider's timeouts, as routed calls do.
pub async fn call_model(
    services: &Services,
    resolved: &ResolvedModel,
    args: &ModelsTestArgs,
    mut on_event: impl FnMut(&Event),
) -> CallReport {
    let started = Instant::now();
    let mut report = CallReport::default();
    let provider = match services.provider_for(resolved) {
        Ok(p) => p,
        Err(message) => {
            report.setup_error = Some(message);
            report.total = started.elapsed();
            return report;
        }
    };
    let timeouts = services.timeouts_for(&resolved.provider.id);
    let context = CallContext {
        key_index: 0,
        connect_timeout: Some(timeouts.connect),
        header_timeout: Some(timeouts.first_event),
    };
    let request = build_request(resolved, args);
    let attempt = async {
        let mut stream = provider.stream(request, context).await?;
        while let Some(item) = stream.next().await {
            let event = item?;
            report.absorb(&event, started);
            on_event(&event);
        }
        Ok::<(), ProviderError>(())
    };
    let limit = timeouts.total;
    let outcome = match tokio::time::timeout(limit, attempt).await {
        Ok(result) => result,
        Err(_) => Err(ProviderError::new(
            FailureKind::Timeout,
            format!("no complete answer within {} s", limit.as_secs()),
        )),
    };
    report.error = outcome.err();
    report.total = started.elapsed();
    report
}

/// The `--json` object.
pub fn report_json(resolved: &ResolvedModel, report: &CallReport) -> Value {
    let error = match (&report.error, &report.setup_error) {
        (Some(e), _) => {
            let mut v = serde_json::to_value(e.kind).unwrap_or_else(|_| json!({}));
            if let Some(obj) = v.as_object_mut() {
                obj.insert("status".into(), json!(e.status));
                obj.insert("message".into(), json!(e.message));
            }
            Some(v)
        }
        (None, Some(message)) => Some(json!({"kind": "setup", "message": message})),
        (None, None) => None,
    };
    let calls: Vec<Value> = report
        .tool_calls
        .iter()
        .map(|(id, name, args)| json!({"id": id, "name": name, "arguments": args}))
        .collect();
    json!({
        "ref": resolved.reference.key(),
        "provider": resolved.provider.id,
        "api": resolved.model.api.as_str(),
        "baseUrl": redact_url(&resolved.provider.base_url),
        "ok": !report.failed(),
        "text": report.text,
        "reasoning": report.reasoning,
        "toolCalls": calls,
        "usage": report.usage,
        "stopReason": report.stop_reason,
        "ttftMs": report.ttft.map(|d| d.as_millis() as u64),
        "totalMs": report.total.as_millis() as u64,
        "error": error,
    })
}

/// Live printer for `--stream`: answer on stdout, reasoning dim and labelled.
struct LivePrinter {
    dim: bool,
    section: Option<bool>, // Some(true) = in reasoning, Some(false) = in answer
}

impl LivePrinter {
    fn print(&mut self, event: &Event) {
        let (reasoning, text) = match event {
            Event::ReasoningDelta { text } => (true, text),
            Event::TextDelta { text } => (false, text),
            _ => return,
        };
        let mut out = std::io::stdout().lock();
        if self.section != Some(reasoning) {
            if self.section.is_some() {
                let _ = writeln!(out);
            }
            let _ = write!(
                out,
                "{}",
                if reasoning { "reasoning: " } else { "answer: " }
            );
            self.section = Some(reasoning);
        }
        if reasoning && self.dim {
            let _ = write!(out, "\x1b[2m{text}\x1b[0m");
        } else {
            let _ = write!(out, "{text}");
        }
        let _ = out.flush();
    }
}

fn print_human(resolved: &ResolvedModel, args: &ModelsTestArgs, report: &CallReport, dim: bool) {
    if !args.stream {
        if !report.reasoning.is_empty() {
            if dim {
                println!("reasoning: \x1b[2m{}\x1b[0m", report.reasoning.trim());
            } else {
                println!("reasoning: {}", report.reasoning.trim());
            }
        }
        if !report.text.is_empty() {
            println!("answer: {}", report.text.trim());
        }
    } else if !report.text.is_empty() || !report.reasoning.is_empty() {
        println!();
    }
    for (id, name, arguments) in &report.tool_calls {
        println!("tool call: {name}({arguments})  id={id}");
    }
    let mut facts = vec![format!(
        "{} via {}",
        resolved.reference.key(),
        resolved.model.api.as_str()
    )];
    if let Some(stop) = report.stop_reason {
        facts.push(format!("stop: {}", stop_name(stop)));
    }
    if let Some(u) = report.usage {
        let n = |v: Option<u64>| v.map_or_else(|| "?".to_string(), |v| v.to_string());
        facts.push(format!(
            "usage: in {} / out {}",
            n(u.input_tokens),
            n(u.output_tokens)
        ));
    }
    if let Some(ttft) = report.ttft {
        facts.push(format!("ttft {} ms", ttft.as_millis()));
    }
    facts.push(format!("total {} ms", report.total.as_millis()));
    println!("-- {}", facts.join(" · "));
    if let Some(message) = &report.setup_error {
        eprintln!("error: {message}");
    }
    if let Some(e) = &report.error {
        // HTTP failures already say `HTTP <status>` in their message.
        let status = e
            .status
            .filter(|_| !e.message.starts_with("HTTP "))
            .map(|s| format!(", status {s}"))
            .unwrap_or_default();
        eprintln!("error: {}{status}: {}", e.kind, e.message);
    }
}

fn stop_name(stop: StopReason) -> &'static str {
    match stop {
        StopReason::Stop => "stop",
        StopReason::Length => "length",
        StopReason::ToolUse => "tool_use",
        StopReason::ContentFilter => "content_filter",
    }
}

pub fn run(loaded: &LoadedConfig, args: ModelsTestArgs) -> anyhow::Result<ExitCode> {
    if args.chain.is_some() {
        return super::models_test_chain::run(loaded, &args);
    }
    let resolved = match loaded.registry.resolve(&args.model) {
        Ok(r) => r,
        Err(err) => {
            eprintln!("error: {err}");
            return Ok(ExitCode::from(1));
        }
    };
    let options = ServicesOptions {
        engine: engine_factory(!args.json),
        ..ServicesOptions::default()
    };
    let services = match Services::build(loaded.clone(), options) {
        Ok(services) => services,
        Err(error) => {
            eprintln!("error: {error}");
            return Ok(ExitCode::from(1));
        }
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let dim = std::io::stdout().is_terminal();
    let live = args.stream && !args.json;
    let mut printer = LivePrinter { dim, section: None };
    let report = runtime.block_on(call_model(&services, &resolved, &args, |event| {
        if live {
            printer.print(event);
        }
    }));
    if args.json {
        print_json(&report_json(&resolved, &report))?;
    } else {
        print_human(&resolved, &args, &report, dim);
    }
    Ok(if report.failed() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

#[cfg(test)]
#[path = "models_test_tests.rs"]
mod tests;
