//! One turn: a due pre-compaction memory flush first (a silent turn of its own), images
//! described for a model that takes none, the user message appended, then the tool loop
//! (`turn_rounds`) with each model answer from `turn_call` (preflight and overflow
//! compaction around it), and threshold compaction once the context crossed the threshold.
//! The whole turn runs under the run timeout (`agents.defaults.timeoutSeconds`). Events stream
//! through the delivery filter to the caller's sink.
//!
//! Cost per turn is independent of the transcript's length on disk: the session is in memory,
//! each new entry is one appended line, and only the active context is walked.

use clawgate_wire::{ContentBlock, Role, StopReason};

use crate::compaction::CompactionTrigger;
use crate::context::TrimLevel;
use crate::deadline::Deadline;
use crate::delivery::reasoning_message;
use crate::error::AgentError;
use crate::runtime::{AgentEvent, AgentRuntime, EventSink, TurnInput, TurnOptions, TurnOutcome};
use crate::session::StoredMessage;
use crate::tools::ToolContext;
use crate::turn_rounds::TurnTools;
use clawgate_wire::token_estimate::request_tokens as estimate_request_raw;

/// Per-turn bookkeeping and the caller's event sink.
pub(crate) struct TurnState {
    sink: Option<EventSink>,
    pub outcome: TurnOutcome,
    pub reasoning_on: bool,
    pub texts: Vec<String>,
    pub reasonings: Vec<String>,
    pub streamed_text: bool,
    /// Appended to the agent's system prompt for this turn's model calls.
    pub extra_system: Option<String>,
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
            extra_system: None,
        }
    }

    /// A state whose events go nowhere (the memory flush turn).
    pub fn silent(session_id: String, extra_system: String) -> Self {
        TurnState {
            extra_system: Some(extra_system),
            ..TurnState::new(&TurnOptions::default(), false, session_id)
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

    pub fn compacted(&mut self, trigger: CompactionTrigger, tokens_before: u64) {
        self.outcome.compactions += 1;
        self.emit(AgentEvent::Compacted {
            trigger,
            tokens_before,
        });
    }
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
        let deadline = Deadline::start(self.clock.as_ref(), self.settings.run_timeout);
        let offered = self.tools.allowed(&self.policy);
        let tools = TurnTools {
            specs: offered.iter().map(|t| t.spec()).collect(),
            offered,
            ctx: ToolContext {
                session_key: key.to_string(),
                main_session: key == self.main_key(),
                approver: options.approver.clone(),
                ..self.tool_ctx.clone()
            },
        };
        self.flush_memory_if_due(&mut session, &info, &budget, &tools, &deadline, &mut state)
            .await?;
        let content = match input {
            TurnInput::Text(text) => vec![ContentBlock::Text { text }],
            TurnInput::Blocks(blocks) => {
                self.describe_images(blocks, &info, &deadline, &mut state)
                    .await?
            }
        };
        session
            .append_message(
                StoredMessage {
                    role: Role::User,
                    content,
                    usage: None,
                    model: None,
                    stop_reason: None,
                },
                self.clock.as_ref(),
            )
            .await?;
        let end = self
            .run_rounds(&mut session, &info, &budget, &tools, &deadline, &mut state)
            .await?;
        state.outcome.stop_reason = match end.stop_reason {
            StopReason::Length => StopReason::Length,
            StopReason::ContentFilter => StopReason::ContentFilter,
            StopReason::Stop | StopReason::ToolUse => StopReason::Stop,
        };

        // Threshold maintenance: the answer is in the context now.
        let context_tokens = match (end.last_usage.input_tokens, end.last_usage.output_tokens) {
            (Some(i), o) => i + o.unwrap_or(0),
            (None, _) => {
                let request = self.build_request(
                    &session,
                    &info,
                    &budget,
                    &tools.specs,
                    TrimLevel::Normal,
                    None,
                );
                self.lock_estimator()
                    .calibrated(&info.model_ref, estimate_request_raw(&request))
            }
        };
        session.entry.context_tokens = Some(context_tokens);
        if self.settings.compaction.enabled && context_tokens > budget.threshold {
            let keep = budget.keep_recent;
            let trigger = CompactionTrigger::Threshold;
            match self
                .compact(&mut session, &info, &budget, trigger, None, keep, &deadline)
                .await
            {
                Ok(Some(before)) => state.compacted(trigger, before),
                Ok(None) => {}
                // The answer is complete: a run timeout during the maintenance after it only
                // postpones the compaction (preflight will do it before the next call).
                Err(AgentError::TurnTimeout { seconds }) => state.notice(format!(
                    "compaction after this turn was cut by the run timeout ({seconds} s); it \
                     runs before the next model call instead"
                )),
                Err(e) => return Err(e),
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
}
