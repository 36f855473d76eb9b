//! One turn: append the user message, then call the model and run the tools it asks for, up to
//! `max_rounds` model calls. Before each call the prompt is estimated (preflight compaction when
//! it would not fit); a `ContextOverflow` from the model compacts and retries (at most
//! `max_overflow_retries` times); after the turn, threshold compaction runs when the context
//! crossed the threshold. Events stream through the delivery filter to the caller's sink.
//!
//! Cost per turn is independent of the transcript's length on disk: the session is in memory,
//! each new entry is one appended line, and only the active context is walked.

use clawgate_wire::collect::EventCollector;
use clawgate_wire::reasoning_tags::ReasoningTagSplitter;
use clawgate_wire::{ContentBlock, Request, Response, Role, ToolChoice, ToolSpec};
use futures::StreamExt;
use serde_json::Value;

use crate::budget::{ContextBudget, ModelInfo, estimate_request_raw};
use crate::compaction::CompactionTrigger;
use crate::context::{TrimLevel, build_messages, trim_head_tail};
use crate::delivery::{Delivered, DeliveryFilter, FilteredAnswer, reasoning_message};
use crate::error::AgentError;
use crate::model_client::{FallbackInfo, ModelCallError};
use crate::notices::fallback_notice;
use crate::runtime::{
    AgentEvent, AgentRuntime, EventSink, ToolCallRecord, TurnInput, TurnOptions, TurnOutcome,
};
use crate::session::{OpenSession, StoredMessage};
use crate::tool_text_recovery::recover_tool_call;
use crate::tools::{ToolContext, ToolOutput};

/// Per-turn bookkeeping and the caller's event sink.
pub(crate) struct TurnState {
    sink: Option<EventSink>,
    pub outcome: TurnOutcome,
    reasoning_on: bool,
    texts: Vec<String>,
    reasonings: Vec<String>,
    streamed_text: bool,
}

impl TurnState {
    pub fn new(options: &TurnOptions, reasoning_on: bool, session_id: String) -> Self {
        TurnState {
            sink: options.on_event.clone(),
            outcome: TurnOutcome {
                session_id,
                ..TurnOutcome::default()
            },
            reasoning_on,
            texts: Vec::new(),
            reasonings: Vec::new(),
            streamed_text: false,
        }
    }

    pub fn emit(&self, event: AgentEvent) {
        if let Some(sink) = &self.sink {
            sink(event);
        }
    }

    pub fn notice(&mut self, text: String) {
        self.emit(AgentEvent::Notice(text.clone()));
        self.outcome.notices.push(text);
    }

    fn compacted(&mut self, trigger: CompactionTrigger, tokens_before: u64) {
        self.outcome.compactions += 1;
        self.emit(AgentEvent::Compacted {
            trigger,
            tokens_before,
        });
    }
}

/// Holds back answer text that may turn out to be a JSON tool call written as text.
#[derive(Debug, Default)]
struct JsonHold {
    active: bool,
    decided: Option<bool>,
    held: String,
}

impl JsonHold {
    fn push(&mut self, text: &str) -> Option<String> {
        if !self.active || self.decided == Some(false) {
            return Some(text.to_string());
        }
        self.held.push_str(text);
        if self.decided.is_none()
            && let Some(c) = self.held.trim_start().chars().next()
        {
            let hold = c == '{' || c == '`';
            self.decided = Some(hold);
            if !hold {
                return Some(std::mem::take(&mut self.held));
            }
        }
        None
    }
}

/// One model answer, collected.
struct ModelAnswer {
    response: Response,
    model_ref: String,
    fallback: Option<FallbackInfo>,
    filtered: FilteredAnswer,
    held_text: String,
    /// Some of this answer's text was streamed already (before the held part).
    streamed_any: bool,
}

enum CallFailure {
    Overflow(Option<u64>),
    Other(AgentError),
}

impl AgentRuntime {
    /// Run one user turn (or a slash command) on the session `key`.
    pub async fn run_turn(
        &self,
        key: &str,
        input: impl Into<TurnInput>,
        options: TurnOptions,
    ) -> Result<TurnOutcome, AgentError> {
        let input = input.into();
        if let TurnInput::Text(text) = &input
            && let Some(command) = crate::commands::SlashCommand::parse(text)
        {
            return self.run_command(key, command).await;
        }
        let shared = self.session(key).await?;
        let mut session = shared.lock().await;
        let reset_notice = self.freshen(&mut session).await?;
        let (info, budget) = self.model_for(options.model_override.as_deref(), &session.entry)?;
        let reasoning_on = options
            .reasoning
            .unwrap_or_else(|| session.entry.reasoning_on(self.settings.reasoning_default));
        let mut state = TurnState::new(&options, reasoning_on, session.entry.session_id.clone());
        for notice in self.take_startup_notices() {
            state.notice(notice);
        }
        if let Some(notice) = reset_notice {
            state.notice(notice);
        }
        if !session.load_warnings.is_empty() {
            let n = session.load_warnings.len();
            state.notice(format!(
                "transcript: {n} unreadable line(s) skipped on load (a torn write after a crash?)"
            ));
            session.load_warnings.clear();
        }
        let content = match input {
            TurnInput::Text(text) => vec![ContentBlock::Text { text }],
            TurnInput::Blocks(blocks) => blocks,
        };
        session
            .append_message(stored(Role::User, content), self.clock.as_ref())
            .await?;

        let offered = self.tools.allowed(&self.policy);
        let specs: Vec<ToolSpec> = offered.iter().map(|t| t.spec()).collect();
        let tool_ctx = ToolContext {
            session_key: key.to_string(),
            main_session: key == self.main_key(),
            approver: options.approver.clone(),
            ..self.tool_ctx.clone()
        };
        let mut rounds = 0u32;
        let last_usage = loop {
            rounds += 1;
            let answer = self
                .answer_with_recovery(&mut session, &info, &budget, &specs, &mut state)
                .await?;
            let mut content = answer.response.content.clone();
            unique_call_ids(&mut content);
            let mut recovered = false;
            let has_calls = content
                .iter()
                .any(|b| matches!(b, ContentBlock::ToolCall { .. }));
            if !has_calls {
                let text = answer.filtered.text.clone().unwrap_or_default();
                if let Some(call) = recover_tool_call(&text, &specs) {
                    content.retain(|b| matches!(b, ContentBlock::Reasoning { .. }));
                    content.push(ContentBlock::ToolCall {
                        id: format!("call_recovered_{}", crate::session::new_entry_id()),
                        name: call.name,
                        arguments: call.arguments,
                    });
                    recovered = true;
                }
            }
            self.finish_answer(&mut session, &mut state, &answer, recovered);
            let usage = answer.response.usage;
            session
                .append_message(
                    StoredMessage {
                        role: Role::Assistant,
                        content: content.clone(),
                        usage: Some(answer.response.usage),
                        model: Some(answer.model_ref.clone()),
                        stop_reason: Some(answer.response.stop_reason),
                    },
                    self.clock.as_ref(),
                )
                .await?;
            let calls: Vec<(String, String, String)> = content
                .iter()
                .filter_map(|b| match b {
                    ContentBlock::ToolCall {
                        id,
                        name,
                        arguments,
                    } => Some((id.clone(), name.clone(), arguments.clone())),
                    _ => None,
                })
                .collect();
            if calls.is_empty() {
                break usage;
            }
            let mut results = Vec::with_capacity(calls.len());
            for (id, name, arguments) in calls {
                state.emit(AgentEvent::ToolCall {
                    id: id.clone(),
                    name: name.clone(),
                    arguments: arguments.clone(),
                });
                let mut output = self.run_tool(&offered, &name, &arguments, &tool_ctx).await;
                // One result may use at most half the prompt budget (≈ 2 chars per budget
                // token): a 256 KiB file must not push a 16K model's whole history out.
                let cap = (budget.prompt_budget as usize).saturating_mul(2).max(2_000);
                if let Some(short) = trim_head_tail(&output.content, cap) {
                    output.content = format!(
                        "{short}\n[tool output shortened to fit the model's context window]"
                    );
                }
                // Wrapped or sanitised: no tool result reaches a template unchecked.
                let for_model = output.for_model();
                state.emit(AgentEvent::ToolResult {
                    id: id.clone(),
                    name: name.clone(),
                    is_error: output.is_error,
                    output: output.content.clone(),
                });
                state.outcome.tool_calls.push(ToolCallRecord {
                    id: id.clone(),
                    name: name.clone(),
                    arguments,
                    is_error: output.is_error,
                    recovered,
                });
                results.push(ContentBlock::ToolResult {
                    call_id: id,
                    name: Some(name),
                    content: for_model,
                    is_error: output.is_error,
                });
            }
            session
                .append_message(stored(Role::Tool, results), self.clock.as_ref())
                .await?;
            if rounds >= self.settings.tools.max_rounds {
                state.notice(format!(
                    "tool loop stopped after {rounds} rounds (tools.maxRounds)"
                ));
                break usage;
            }
        };

        // Threshold maintenance: the answer is in the context now.
        let context_tokens = match (last_usage.input_tokens, last_usage.output_tokens) {
            (Some(i), o) => i + o.unwrap_or(0),
            (None, _) => {
                let request =
                    self.build_request(&session, &info, &budget, &specs, TrimLevel::Normal);
                self.lock_estimator()
                    .calibrated(&info.model_ref, estimate_request_raw(&request))
            }
        };
        session.entry.context_tokens = Some(context_tokens);
        if self.settings.compaction.enabled && context_tokens > budget.threshold {
            let keep = budget.keep_recent;
            if let Some(before) = self
                .compact(
                    &mut session,
                    &info,
                    &budget,
                    CompactionTrigger::Threshold,
                    None,
                    keep,
                )
                .await?
            {
                state.compacted(CompactionTrigger::Threshold, before);
            }
        }
        let now = self.clock.now_ms();
        session.entry.updated_at = now;
        session.entry.last_interaction_at = now;
        // The transcript is durable before the answer goes out; the row's bumps are queued
        // (a crash may lose them, never the session or a transcript line).
        session.transcript.sync().await?;
        self.backend.touch(key, session.entry.clone());

        let mut outcome = state.outcome;
        if !state.texts.is_empty() {
            outcome.reply = Some(state.texts.join("\n\n"));
            outcome.silent = false;
        }
        if !state.reasonings.is_empty() {
            outcome.reasoning = Some(reasoning_message(&state.reasonings.join("\n\n")));
        }
        Ok(outcome)
    }

    /// Bookkeeping after one answer: notices, usage, delivered text.
    fn finish_answer(
        &self,
        session: &mut OpenSession,
        state: &mut TurnState,
        answer: &ModelAnswer,
        recovered: bool,
    ) {
        if let Some(n) = fallback_notice(
            &mut session.entry.fallback_notice_model,
            &answer.model_ref,
            answer.fallback.as_ref(),
        ) {
            state.notice(n);
        }
        let usage = answer.response.usage;
        let total = &mut state.outcome.usage;
        add(&mut total.input_tokens, usage.input_tokens);
        add(&mut total.output_tokens, usage.output_tokens);
        add(&mut total.cache_read_tokens, usage.cache_read_tokens);
        add(&mut total.cache_write_tokens, usage.cache_write_tokens);
        let entry = &mut session.entry;
        entry.input_tokens += usage.input_tokens.unwrap_or(0);
        entry.output_tokens += usage.output_tokens.unwrap_or(0);
        entry.total_tokens += usage.input_tokens.unwrap_or(0) + usage.output_tokens.unwrap_or(0);
        state.outcome.model_ref = Some(answer.model_ref.clone());
        if !recovered && !answer.held_text.is_empty() {
            if state.streamed_text && !answer.streamed_any {
                state.emit(AgentEvent::Text("\n\n".into()));
            }
            state.streamed_text = true;
            state.emit(AgentEvent::Text(answer.held_text.clone()));
        }
        if let Some(r) = &answer.filtered.reasoning {
            state.reasonings.push(r.clone());
        }
        if recovered {
            return;
        }
        match &answer.filtered.text {
            Some(t) => state.texts.push(t.clone()),
            None if answer.filtered.silent && state.texts.is_empty() => state.outcome.silent = true,
            None => {}
        }
    }

    async fn run_tool(
        &self,
        offered: &[std::sync::Arc<dyn crate::tools::Tool>],
        name: &str,
        arguments: &str,
        ctx: &ToolContext,
    ) -> ToolOutput {
        let Some(tool) = offered.iter().find(|t| t.spec().name == name) else {
            return ToolOutput::error(format!("tool {name} is not available to this agent"));
        };
        let args = if arguments.trim().is_empty() {
            Value::Object(serde_json::Map::new())
        } else {
            match serde_json::from_str::<Value>(arguments) {
                Ok(v) if v.is_object() => v,
                Ok(_) => return ToolOutput::error("tool arguments must be a JSON object"),
                Err(e) => {
                    return ToolOutput::error(format!("tool arguments are not valid JSON: {e}"));
                }
            }
        };
        tool.run(args, ctx).await
    }

    pub(crate) fn build_request(
        &self,
        session: &OpenSession,
        info: &ModelInfo,
        budget: &ContextBudget,
        specs: &[ToolSpec],
        trim: TrimLevel,
    ) -> Request {
        Request {
            model: info.model_ref.clone(),
            system: self.settings.system_prompt.clone(),
            messages: build_messages(&session.context, trim, budget.prompt_budget),
            tools: specs.to_vec(),
            tool_choice: ToolChoice::Auto,
            max_tokens: Some(budget.output_cap),
            stream: true,
            ..Request::default()
        }
    }

    /// One model answer with preflight and overflow compaction around it.
    async fn answer_with_recovery(
        &self,
        session: &mut OpenSession,
        info: &ModelInfo,
        budget: &ContextBudget,
        specs: &[ToolSpec],
        state: &mut TurnState,
    ) -> Result<ModelAnswer, AgentError> {
        let max = self.settings.compaction.max_overflow_retries;
        let (mut preflight, mut overflow) = (0u32, 0u32);
        let mut trim = TrimLevel::Normal;
        loop {
            let request = self.build_request(session, info, budget, specs, trim);
            let raw = estimate_request_raw(&request);
            let estimate = self.lock_estimator().calibrated(&info.model_ref, raw);
            if estimate > budget.prompt_budget && preflight < max {
                preflight += 1;
                let keep = budget.keep_recent >> (preflight - 1);
                let trigger = CompactionTrigger::Preflight;
                if let Some(before) = self
                    .compact(session, info, budget, trigger, None, keep)
                    .await?
                {
                    state.compacted(trigger, before);
                    continue;
                }
                if trim == TrimLevel::Normal {
                    trim = TrimLevel::Aggressive;
                    continue;
                }
            }
            match self.stream_answer(request, !specs.is_empty(), state).await {
                Ok(answer) => {
                    if let Some(input) = answer.response.usage.input_tokens {
                        self.lock_estimator().observe(&answer.model_ref, raw, input);
                    }
                    return Ok(answer);
                }
                Err(CallFailure::Overflow(requested)) if overflow < max => {
                    overflow += 1;
                    tracing::info!(model = %info.model_ref, attempt = overflow, "context overflow: compacting (attempt {overflow}/{max})");
                    let seen = requested
                        .unwrap_or(budget.prompt_budget + 1)
                        .max(estimate + 1);
                    self.lock_estimator().observe(&info.model_ref, raw, seen);
                    let keep = budget.keep_recent >> (overflow - 1);
                    let trigger = CompactionTrigger::Overflow;
                    match self
                        .compact(session, info, budget, trigger, None, keep)
                        .await?
                    {
                        Some(before) => state.compacted(trigger, before),
                        None => trim = TrimLevel::Aggressive,
                    }
                }
                Err(CallFailure::Overflow(_)) => {
                    return Err(AgentError::ContextOverflow {
                        model: info.model_ref.clone(),
                    });
                }
                Err(CallFailure::Other(e)) => return Err(e),
            }
        }
    }

    /// Call the model, streaming filtered events to the sink while collecting the answer.
    async fn stream_answer(
        &self,
        request: Request,
        tools_offered: bool,
        state: &mut TurnState,
    ) -> Result<ModelAnswer, CallFailure> {
        let fail = |e: ModelCallError| match e {
            ModelCallError::ContextOverflow { requested, .. } => CallFailure::Overflow(requested),
            ModelCallError::Aborted => CallFailure::Other(AgentError::Aborted),
            other => CallFailure::Other(AgentError::Model(other)),
        };
        let mut reply = self.client.call(request).await.map_err(fail)?;
        state.emit(AgentEvent::Answered {
            model_ref: reply.model_ref.clone(),
            fallback: reply.fallback.clone(),
        });
        let mut splitter = ReasoningTagSplitter::new();
        let mut collector = EventCollector::new();
        let mut filter = DeliveryFilter::new(state.reasoning_on);
        let mut hold = JsonHold {
            active: tools_offered,
            ..JsonHold::default()
        };
        let mut first_text = true;
        while let Some(item) = reply.events.next().await {
            let event = item.map_err(fail)?;
            for split in splitter.push(&event) {
                collector.push(&split);
                let delivered = filter.push(&split);
                self.deliver(state, delivered, &mut hold, &mut first_text);
            }
        }
        for split in splitter.finish() {
            collector.push(&split);
            let delivered = filter.push(&split);
            self.deliver(state, delivered, &mut hold, &mut first_text);
        }
        let tail = filter.finish();
        self.deliver(state, tail, &mut hold, &mut first_text);
        let response = collector.finish().map_err(|e| {
            CallFailure::Other(AgentError::Model(ModelCallError::Failed(format!(
                "incomplete answer from {}: {e}",
                reply.model_ref
            ))))
        })?;
        Ok(ModelAnswer {
            response,
            model_ref: reply.model_ref,
            fallback: reply.fallback,
            filtered: filter.answer(),
            held_text: std::mem::take(&mut hold.held),
            streamed_any: !first_text,
        })
    }

    fn deliver(
        &self,
        state: &mut TurnState,
        delivered: Vec<Delivered>,
        hold: &mut JsonHold,
        first_text: &mut bool,
    ) {
        for d in delivered {
            match d {
                Delivered::Reasoning(r) => state.emit(AgentEvent::Reasoning(r)),
                Delivered::Text(t) => {
                    let Some(t) = hold.push(&t) else { continue };
                    if *first_text && state.streamed_text {
                        state.emit(AgentEvent::Text("\n\n".into()));
                    }
                    *first_text = false;
                    state.streamed_text = true;
                    state.emit(AgentEvent::Text(t));
                }
            }
        }
    }
}

fn stored(role: Role, content: Vec<ContentBlock>) -> StoredMessage {
    StoredMessage {
        role,
        content,
        usage: None,
        model: None,
        stop_reason: None,
    }
}

/// Small servers send empty or repeated tool-call ids (one id per chunk, `call_0` for every
/// call); a result must name exactly one call, so such ids are replaced with fresh ones.
fn unique_call_ids(content: &mut [ContentBlock]) {
    let mut seen = std::collections::HashSet::new();
    for block in content {
        if let ContentBlock::ToolCall { id, .. } = block
            && (id.trim().is_empty() || !seen.insert(id.clone()))
        {
            *id = format!("call_{}", crate::session::new_entry_id());
            seen.insert(id.clone());
        }
    }
}

fn add(total: &mut Option<u64>, part: Option<u64>) {
    if let Some(p) = part {
        *total = Some(total.unwrap_or(0) + p);
    }
}
