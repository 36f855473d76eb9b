//! Compaction (OpenClaw §4.5, fit for small windows): choose a cut that keeps a recent tail
//! verbatim and never separates a tool call from its result, then summarise everything before
//! the cut together with the previous summary, chunk by chunk when it does not fit the
//! summariser's own window. The summary prompt is `prompts/compaction.md` (`default` mode) or
//! `prompts/compaction-safeguard.md` (`safeguard` mode, whose summaries must also pass the
//! quality guard of `compaction_guard`), followed by the identifier rule of the
//! `identifierPolicy`. Each summary request has its own timeout (`compaction.timeoutSeconds`).
//!
//! The summariser sees the old messages rendered as plain text (not as tool-call structures), so
//! its request never carries tool pairs of its own and works on models without tool support.

use std::time::Duration;

use clawgate_wire::reasoning_tags::split_reasoning_tags;
use clawgate_wire::{ContentBlock, Event, Message, Request, Role, ToolChoice};
use futures::StreamExt;
use serde::{Deserialize, Serialize};

use crate::budget::ContextBudget;
use crate::clock::Clock;
use crate::compaction_guard::{Expectations, audit};
use crate::context::{ContextItem, trim_head_tail};
use crate::deadline::Deadline;
use crate::error::AgentError;
use crate::memory_flush::MemoryFlushSettings;
use crate::model_client::{ModelCallError, ModelClient};
use clawgate_wire::token_estimate::message_tokens as estimate_message_raw;

/// The base summary prompt (`default` mode).
pub const SUMMARY_PROMPT: &str = include_str!("../prompts/compaction.md");
/// The summary prompt of `safeguard` mode (OpenClaw's required sections).
pub const SAFEGUARD_SUMMARY_PROMPT: &str = include_str!("../prompts/compaction-safeguard.md");
const IDENTIFIERS_STRICT: &str = include_str!("../prompts/identifiers-strict.md");
const IDENTIFIERS_OFF: &str = include_str!("../prompts/identifiers-off.md");
const IDENTIFIERS_CUSTOM: &str = include_str!("../prompts/identifiers-custom.md");
const RETRY_NOTE: &str = include_str!("../prompts/compaction-retry.md");

/// `compaction.mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CompactionMode {
    #[default]
    Default,
    /// Required sections, checked by the quality guard.
    Safeguard,
}

/// `compaction.identifierPolicy` (with `identifierInstructions` for `custom`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum IdentifierPolicy {
    /// Identifiers copied exactly (and, in safeguard mode, checked).
    #[default]
    Strict,
    /// Identifiers only where needed, not necessarily verbatim.
    Off,
    /// The operator's own rule text.
    Custom(String),
}

/// `compaction.qualityGuard` (safeguard mode only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QualityGuard {
    pub enabled: bool,
    /// Extra summary attempts after a failed check.
    pub max_retries: u32,
}

impl Default for QualityGuard {
    fn default() -> Self {
        QualityGuard {
            enabled: true,
            max_retries: 1,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompactionSettings {
    /// Threshold compaction after a turn (`compaction.enabled`); overflow, preflight and
    /// manual compaction stay on regardless.
    pub enabled: bool,
    /// Overflow → compact → retry attempts per model call.
    pub max_overflow_retries: u32,
    /// `compaction.model`: summarise with this model instead of the session's.
    pub model: Option<String>,
    pub mode: CompactionMode,
    /// Time one summary request may take (`compaction.timeoutSeconds`).
    pub timeout: Duration,
    pub identifiers: IdentifierPolicy,
    pub quality_guard: QualityGuard,
    /// The pre-compaction memory flush (`compaction.memoryFlush`).
    pub memory_flush: MemoryFlushSettings,
}

impl Default for CompactionSettings {
    fn default() -> Self {
        CompactionSettings {
            enabled: true,
            max_overflow_retries: 3,
            model: None,
            mode: CompactionMode::Default,
            timeout: Duration::from_secs(180),
            identifiers: IdentifierPolicy::Strict,
            quality_guard: QualityGuard::default(),
            memory_flush: MemoryFlushSettings::default(),
        }
    }
}

impl CompactionSettings {
    /// The summariser's system prompt: the mode's prompt, the identifier rule, the focus.
    pub fn summary_system_prompt(&self, focus: Option<&str>) -> String {
        let base = match self.mode {
            CompactionMode::Default => SUMMARY_PROMPT,
            CompactionMode::Safeguard => SAFEGUARD_SUMMARY_PROMPT,
        };
        let rule = match &self.identifiers {
            IdentifierPolicy::Strict => IDENTIFIERS_STRICT.to_string(),
            IdentifierPolicy::Off => IDENTIFIERS_OFF.to_string(),
            IdentifierPolicy::Custom(text) => format!("{IDENTIFIERS_CUSTOM}{}\n", text.trim()),
        };
        let mut system = format!("{base}\n{rule}");
        if let Some(f) = focus.map(str::trim).filter(|f| !f.is_empty()) {
            system.push_str(&format!("\nExtra focus requested by the user: {f}\n"));
        }
        system
    }

    fn guarded(&self) -> bool {
        self.mode == CompactionMode::Safeguard && self.quality_guard.enabled
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CompactionTrigger {
    /// After a turn that crossed the threshold.
    Threshold,
    /// The model said the prompt did not fit.
    Overflow,
    /// Our estimate said the next prompt would not fit.
    Preflight,
    /// `/compact`.
    Manual,
}

impl CompactionTrigger {
    pub fn name(self) -> &'static str {
        match self {
            CompactionTrigger::Threshold => "threshold",
            CompactionTrigger::Overflow => "overflow",
            CompactionTrigger::Preflight => "preflight",
            CompactionTrigger::Manual => "manual",
        }
    }
}

/// Index of the first item kept verbatim, or `None` when there is nothing to summarise.
///
/// Walk back from the newest item while the tail stays within `keep_raw` tokens; the boundary
/// then moves back to the nearest message that is not a tool result (so a call and its result
/// stay together, on the kept side). When that leaves nothing to summarise, it moves forward
/// to the next such boundary instead (the pair goes into the summary).
pub(crate) fn choose_cut(items: &[ContextItem], keep_raw: u64) -> Option<usize> {
    if items.is_empty() {
        return None;
    }
    let mut target = items.len();
    let mut tail = 0u64;
    while target > 0 && tail + items[target - 1].tokens <= keep_raw {
        tail += items[target - 1].tokens;
        target -= 1;
    }
    let safe = |i: usize| i == items.len() || items[i].message.role != Role::Tool;
    let mut cut = target;
    while cut > 0 && !safe(cut) {
        cut -= 1;
    }
    if cut == 0 {
        cut = target.max(1);
        while cut < items.len() && !safe(cut) {
            cut += 1;
        }
    }
    (cut > 0).then_some(cut)
}

/// One message as plain text for the summariser.
pub(crate) fn render_message(msg: &Message) -> String {
    let mut out = String::new();
    for block in &msg.content {
        match (msg.role, block) {
            (Role::User, ContentBlock::Text { text }) => {
                out.push_str("[user]\n");
                out.push_str(text);
            }
            (_, ContentBlock::Text { text }) => {
                out.push_str("[assistant]\n");
                out.push_str(text);
            }
            (_, ContentBlock::Image { .. }) => out.push_str("[image]"),
            (_, ContentBlock::Reasoning { .. }) => continue,
            (
                _,
                ContentBlock::ToolCall {
                    name, arguments, ..
                },
            ) => {
                out.push_str(&format!("[assistant called tool {name}] {arguments}"));
            }
            (
                _,
                ContentBlock::ToolResult {
                    name,
                    content,
                    is_error,
                    ..
                },
            ) => {
                let name = name.as_deref().unwrap_or("tool");
                let status = if *is_error { " (error)" } else { "" };
                out.push_str(&format!("[result of {name}{status}]\n{content}"));
            }
        }
        out.push('\n');
    }
    out
}

#[derive(Debug, Clone)]
pub(crate) struct SummaryOutcome {
    pub summary: String,
    pub chunks: usize,
    pub calls: u32,
}

pub(crate) struct Summarizer<'a> {
    pub client: &'a dyn ModelClient,
    pub model_ref: &'a str,
    pub budget: &'a ContextBudget,
    /// Calibration ratio of the model (reported / estimated tokens).
    pub ratio: f64,
    pub settings: &'a CompactionSettings,
    pub clock: &'a dyn Clock,
    /// The run timeout of the turn the compaction belongs to.
    pub deadline: &'a Deadline,
}

const FAILED_RETRIES: u32 = 2;
const OVERFLOW_RETRIES: u32 = 3;

impl Summarizer<'_> {
    pub async fn summarize(
        &self,
        previous: Option<&str>,
        messages: &[Message],
        focus: Option<&str>,
    ) -> Result<SummaryOutcome, AgentError> {
        let system = self.settings.summary_system_prompt(focus);
        let rendered: Vec<String> = messages.iter().map(render_message).collect();
        let expect = self.settings.guarded().then(|| {
            let mut all = previous.unwrap_or_default().to_string();
            for r in &rendered {
                all.push('\n');
                all.push_str(r);
            }
            let latest_ask = messages
                .iter()
                .rev()
                .find(|m| m.role == Role::User)
                .map(Message::joined_text);
            let strict = self.settings.identifiers == IdentifierPolicy::Strict;
            Expectations::new(&all, latest_ask.as_deref(), strict)
        });
        let mut running = previous.map(str::to_string);
        let mut shrink = 1usize;
        let mut overflow_retries = 0;
        let mut calls = 0u32;
        let mut chunks_done = 0usize;
        let mut next = 0usize;
        while next < rendered.len() {
            let chunk_chars = self.chunk_chars(&system, running.as_deref()) / shrink;
            let (chunk, end) = take_chunk(&rendered, next, chunk_chars.max(400));
            let part_note = if next == 0 && end == rendered.len() {
                String::new()
            } else {
                format!(
                    "These are messages {}–{} of {} to summarise, oldest first.\n",
                    next + 1,
                    end,
                    rendered.len()
                )
            };
            let prompt = summary_input(running.as_deref(), &chunk, &part_note);
            let request = Request {
                model: self.model_ref.to_string(),
                system: Some(system.clone()),
                messages: vec![Message::text(Role::User, prompt.clone())],
                tool_choice: ToolChoice::None,
                max_tokens: Some(self.budget.summary_cap),
                stream: true,
                ..Request::default()
            };
            let mut text = self.ask(&request, &mut calls).await;
            if let (Ok(summary), Some(expect), true) = (&text, &expect, end == rendered.len()) {
                text = self
                    .guard(summary.clone(), expect, &request, &prompt, &mut calls)
                    .await;
            }
            match text {
                Ok(t) => {
                    running = Some(t.trim().to_string());
                    chunks_done += 1;
                    next = end;
                }
                Err(AgentError::ContextOverflow { .. }) if overflow_retries < OVERFLOW_RETRIES => {
                    overflow_retries += 1;
                    shrink *= 2;
                }
                Err(AgentError::ContextOverflow { .. }) => {
                    return Err(AgentError::Compaction(
                        "the summary request does not fit the model's window".into(),
                    ));
                }
                Err(e) => return Err(e),
            }
        }
        let summary =
            running.ok_or_else(|| AgentError::Compaction("nothing to summarise".into()))?;
        Ok(SummaryOutcome {
            summary,
            chunks: chunks_done,
            calls,
        })
    }

    /// One summary request, retried on failures that may pass, under the request's own
    /// timeout and the turn's run timeout.
    async fn ask(&self, request: &Request, calls: &mut u32) -> Result<String, AgentError> {
        let mut failures = 0;
        loop {
            *calls += 1;
            let timer = self.clock.sleep(self.settings.timeout);
            let call = call_for_text(self.client, request.clone());
            let answer = tokio::select! {
                biased;
                answer = self.deadline.run(call) => answer,
                () = timer => {
                    return Err(AgentError::Compaction(format!(
                        "the summary request timed out after {} s (compaction.timeoutSeconds); \
                         the history is kept as it was",
                        self.settings.timeout.as_secs()
                    )));
                }
            };
            let Ok(answer) = answer else {
                return Err(AgentError::TurnTimeout {
                    seconds: self.deadline.seconds(),
                });
            };
            match answer {
                Ok(t) if !t.trim().is_empty() => return Ok(t),
                Ok(_) => {
                    failures += 1;
                    if failures > FAILED_RETRIES {
                        return Err(AgentError::Compaction(
                            "the summariser returned an empty summary".into(),
                        ));
                    }
                }
                Err(ModelCallError::ContextOverflow { .. }) => {
                    return Err(AgentError::ContextOverflow {
                        model: self.model_ref.to_string(),
                    });
                }
                Err(ModelCallError::Aborted) => return Err(AgentError::Aborted),
                Err(ModelCallError::Failed(m)) => {
                    failures += 1;
                    if failures > FAILED_RETRIES {
                        return Err(AgentError::Compaction(format!("summarization failed: {m}")));
                    }
                }
            }
        }
    }

    /// The safeguard check of a finished summary: asks again with the problems named, at
    /// most `maxRetries` times; fails the compaction when no attempt passes.
    async fn guard(
        &self,
        mut summary: String,
        expect: &Expectations,
        request: &Request,
        prompt: &str,
        calls: &mut u32,
    ) -> Result<String, AgentError> {
        let mut retries = 0;
        loop {
            let problems = audit(&summary, expect);
            if problems.is_empty() {
                return Ok(summary);
            }
            tracing::info!(?problems, retries, "summary failed the safeguard check");
            if retries >= self.settings.quality_guard.max_retries {
                return Err(AgentError::Compaction(format!(
                    "the summary did not pass the safeguard quality check ({}); the history is \
                     kept as it was",
                    problems.join("; ")
                )));
            }
            retries += 1;
            let mut retry = request.clone();
            let feedback = format!(
                "{prompt}\n\n{RETRY_NOTE}\n<rejected_summary>\n{}\n</rejected_summary>\n\
                 Problems:\n- {}\n",
                summary.trim(),
                problems.join("\n- ")
            );
            retry.messages = vec![Message::text(Role::User, feedback)];
            summary = self.ask(&retry, calls).await?;
        }
    }

    /// Characters of rendered conversation that fit one summary request next to the prompt
    /// and the running summary.
    fn chunk_chars(&self, system: &str, running: Option<&str>) -> usize {
        let fixed_raw = estimate_message_raw(&Message::text(Role::User, system))
            + running.map_or(0, |r| estimate_message_raw(&Message::text(Role::User, r)))
            + 64;
        let fixed = (fixed_raw as f64 * self.ratio).ceil() as u64;
        let available = self.budget.prompt_budget.saturating_sub(fixed);
        // Back to raw tokens, then chars, with a 10 % margin for the estimate.
        let raw = available as f64 / self.ratio.max(0.25);
        (raw * 4.0 * 0.9) as usize
    }
}

/// Greedy: messages from `start` while they fit `limit` chars; an oversized first message is
/// shortened (head + tail) so progress is always made.
fn take_chunk(rendered: &[String], start: usize, limit: usize) -> (String, usize) {
    let mut out = String::new();
    let mut end = start;
    while end < rendered.len() {
        let msg = &rendered[end];
        let len = msg.chars().count();
        if out.is_empty() && len > limit {
            let short =
                trim_head_tail(msg, limit.saturating_sub(120)).unwrap_or_else(|| msg.clone());
            out.push_str(&short);
            out.push_str("\n[message shortened for the summary]\n");
            end += 1;
            break;
        }
        if out.chars().count() + len > limit {
            break;
        }
        out.push_str(msg);
        end += 1;
    }
    (out, end)
}

fn summary_input(previous: Option<&str>, conversation: &str, part_note: &str) -> String {
    let mut s = String::new();
    if let Some(prev) = previous {
        s.push_str("<previous_summary>\n");
        s.push_str(prev);
        s.push_str("\n</previous_summary>\n\n");
    }
    s.push_str(part_note);
    s.push_str("<conversation>\n");
    s.push_str(conversation);
    s.push_str("</conversation>\n\nWrite the updated summary now.");
    s
}

/// Run a call and return its answer text (reasoning removed).
async fn call_for_text(
    client: &dyn ModelClient,
    request: Request,
) -> Result<String, ModelCallError> {
    let mut reply = client.call(request).await?;
    let mut text = String::new();
    while let Some(event) = reply.events.next().await {
        if let Event::TextDelta { text: t } = event? {
            text.push_str(&t);
        }
    }
    Ok(split_reasoning_tags(&text).1)
}
