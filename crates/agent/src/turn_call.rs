//! One model answer inside a turn: the request built from the session's context, preflight
//! compaction when the estimate says it would not fit, compact-and-retry on a context overflow
//! (at most `max_overflow_retries` times), and the answer streamed through the delivery filter
//! to the caller's sink while it is collected. The model call and its stream are raced against
//! the turn's run timeout.

use std::collections::HashSet;

use clawgate_wire::collect::EventCollector;
use clawgate_wire::{Event, Request, Response, ToolChoice, ToolSpec};
use futures::StreamExt;

use crate::budget::{ContextBudget, ModelLimits};
use crate::compaction::CompactionTrigger;
use crate::context::{TrimLevel, build_messages};
use crate::deadline::Deadline;
use crate::delivery::{Delivered, DeliveryFilter, FilteredAnswer};
use crate::error::AgentError;
use crate::model_client::{FallbackInfo, ModelCallError};
use crate::runtime::{AgentEvent, AgentRuntime};
use crate::session::OpenSession;
use crate::turn::TurnState;
use clawgate_wire::token_estimate::request_tokens as estimate_request_raw;

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
pub(crate) struct ModelAnswer {
    pub response: Response,
    pub model_ref: String,
    pub fallback: Option<FallbackInfo>,
    pub filtered: FilteredAnswer,
    pub held_text: String,
    /// Some of this answer's text was streamed already (before the held part).
    pub streamed_any: bool,
}

enum CallFailure {
    Overflow(Option<u64>),
    Other(AgentError),
}

impl AgentRuntime {
    /// The request for the session's context; `extra_system` is appended to the agent's system
    /// prompt (the memory flush turn's addendum).
    pub(crate) fn build_request(
        &self,
        session: &OpenSession,
        info: &ModelLimits,
        budget: &ContextBudget,
        specs: &[ToolSpec],
        trim: TrimLevel,
        extra_system: Option<&str>,
    ) -> Request {
        let system = match (self.settings.system_prompt.as_deref(), extra_system) {
            (Some(base), Some(extra)) => Some(format!("{base}\n\n{extra}")),
            (base, extra) => base.or(extra).map(str::to_string),
        };
        Request {
            model: info.model_ref.clone(),
            system,
            messages: build_messages(&session.context, trim, budget.prompt_budget),
            tools: specs.to_vec(),
            tool_choice: ToolChoice::Auto,
            max_tokens: Some(budget.output_cap),
            stream: true,
            ..Request::default()
        }
    }

    /// One model answer with preflight and overflow compaction around it.
    pub(crate) async fn answer_with_recovery(
        &self,
        session: &mut OpenSession,
        info: &ModelLimits,
        budget: &ContextBudget,
        specs: &[ToolSpec],
        deadline: &Deadline,
        state: &mut TurnState,
    ) -> Result<ModelAnswer, AgentError> {
        let max = self.settings.compaction.max_overflow_retries;
        let (mut preflight, mut overflow) = (0u32, 0u32);
        let mut trim = TrimLevel::Normal;
        loop {
            let extra = state.extra_system.clone();
            let request = self.build_request(session, info, budget, specs, trim, extra.as_deref());
            let raw = estimate_request_raw(&request);
            let estimate = self.lock_estimator().calibrated(&info.model_ref, raw);
            if estimate > budget.prompt_budget && preflight < max {
                preflight += 1;
                let keep = budget.keep_recent >> (preflight - 1);
                let trigger = CompactionTrigger::Preflight;
                if let Some(before) = self
                    .compact(session, info, budget, trigger, None, keep, deadline)
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
            match self
                .stream_answer(
                    request,
                    !specs.is_empty(),
                    deadline,
                    state,
                    &mut session.notices_told,
                )
                .await
            {
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
                        .compact(session, info, budget, trigger, None, keep, deadline)
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

    /// Call the model, streaming filtered events to the sink while collecting the answer. A
    /// model notice not in `notices_told` (the open session's) is shown as it arrives, before
    /// the answer text it is about.
    async fn stream_answer(
        &self,
        request: Request,
        tools_offered: bool,
        deadline: &Deadline,
        state: &mut TurnState,
        notices_told: &mut HashSet<String>,
    ) -> Result<ModelAnswer, CallFailure> {
        let fail = |e: ModelCallError| match e {
            ModelCallError::ContextOverflow { requested, .. } => CallFailure::Overflow(requested),
            ModelCallError::Aborted => CallFailure::Other(AgentError::Aborted),
            other => CallFailure::Other(AgentError::Model(other)),
        };
        let timed_out = || {
            CallFailure::Other(AgentError::TurnTimeout {
                seconds: deadline.seconds(),
            })
        };
        let mut reply = deadline
            .run(self.client.call(request))
            .await
            .map_err(|_| timed_out())?
            .map_err(fail)?;
        state.emit(AgentEvent::Answered {
            model_ref: reply.model_ref.clone(),
            fallback: reply.fallback.clone(),
        });
        let mut collector = EventCollector::new();
        // The filter splits reasoning out of the text once; the collector keeps its split events.
        let mut filter = DeliveryFilter::new(state.reasoning_on);
        let mut hold = JsonHold {
            active: tools_offered,
            ..JsonHold::default()
        };
        let mut first_text = true;
        while let Some(item) = deadline
            .run(reply.events.next())
            .await
            .map_err(|_| timed_out())?
        {
            let event = item.map_err(fail)?;
            if let Event::Notice { text } = event {
                if notices_told.insert(text.clone()) {
                    state.notice(text);
                }
                continue;
            }
            let (split, delivered) = filter.push_split(&event);
            for e in &split {
                collector.push(e);
            }
            deliver(state, delivered, &mut hold, &mut first_text);
        }
        let (split, tail) = filter.finish_split();
        for e in &split {
            collector.push(e);
        }
        deliver(state, tail, &mut hold, &mut first_text);
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
}

fn deliver(
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
