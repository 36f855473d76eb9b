//! The tool loop of a turn: call the model, run the tools it asks for, append the calls and
//! their results, and call it again, until it answers without a tool call or `tools.maxRounds`
//! model calls asked for tools. Every call gets exactly one result in the transcript, also
//! when the turn's run timeout ends a tool (that result says so, and so do the results of the
//! calls that never ran) — the timeout is reported only once the pairs are whole.

use std::sync::Arc;

use clawgate_wire::{ContentBlock, Role, StopReason, ToolSpec, Usage};
use serde_json::Value;

use crate::budget::{ContextBudget, ModelLimits};
use crate::context::trim_head_tail;
use crate::deadline::Deadline;
use crate::error::AgentError;
use crate::notices::fallback_notice;
use crate::runtime::{AgentEvent, AgentRuntime, ToolCallRecord};
use crate::session::{OpenSession, StoredMessage};
use crate::tool_text_recovery::recover_tool_call;
use crate::tools::{Tool, ToolContext, ToolOutput};
use crate::turn::TurnState;
use crate::turn_call::ModelAnswer;

/// The tools of one turn: what the model is offered and the context they run in (the
/// session, the exec approver).
pub(crate) struct TurnTools {
    pub offered: Vec<Arc<dyn Tool>>,
    pub specs: Vec<ToolSpec>,
    pub ctx: ToolContext,
}

/// How the tool loop ended.
pub(crate) struct RoundsEnd {
    /// Usage of the last model call (what the context holds now).
    pub last_usage: Usage,
    /// Why the last answer stopped.
    pub stop_reason: StopReason,
}

impl AgentRuntime {
    /// Runs the tool loop on `session`, whose last message is the turn's input.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn run_rounds(
        &self,
        session: &mut OpenSession,
        info: &ModelLimits,
        budget: &ContextBudget,
        tools: &TurnTools,
        deadline: &Deadline,
        state: &mut TurnState,
    ) -> Result<RoundsEnd, AgentError> {
        let specs = &tools.specs;
        let mut rounds = 0u32;
        loop {
            rounds += 1;
            let answer = self
                .answer_with_recovery(session, info, budget, specs, deadline, state)
                .await?;
            let mut content = answer.response.content.clone();
            unique_call_ids(&mut content);
            let mut recovered = false;
            let has_calls = content
                .iter()
                .any(|b| matches!(b, ContentBlock::ToolCall { .. }));
            if !has_calls {
                let text = answer.filtered.text.clone().unwrap_or_default();
                if let Some(call) = recover_tool_call(&text, specs) {
                    content.retain(|b| matches!(b, ContentBlock::Reasoning { .. }));
                    content.push(ContentBlock::ToolCall {
                        id: format!("call_recovered_{}", crate::session::new_entry_id()),
                        name: call.name,
                        arguments: call.arguments,
                    });
                    recovered = true;
                }
            }
            self.finish_answer(session, state, &answer, recovered);
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
                return Ok(RoundsEnd {
                    last_usage: usage,
                    stop_reason: answer.response.stop_reason,
                });
            }
            let timed_out = self
                .run_calls(session, budget, tools, calls, recovered, deadline, state)
                .await?;
            if timed_out {
                return Err(AgentError::TurnTimeout {
                    seconds: deadline.seconds(),
                });
            }
            if rounds >= self.settings.tools.max_rounds {
                state.notice(format!(
                    "tool loop stopped after {rounds} rounds (tools.maxRounds)"
                ));
                return Ok(RoundsEnd {
                    last_usage: usage,
                    stop_reason: StopReason::Stop,
                });
            }
        }
    }

    /// Runs one answer's tool calls and appends their results; `true` when the run timeout
    /// ended them (every call still has its result).
    #[allow(clippy::too_many_arguments)]
    async fn run_calls(
        &self,
        session: &mut OpenSession,
        budget: &ContextBudget,
        tools: &TurnTools,
        calls: Vec<(String, String, String)>,
        recovered: bool,
        deadline: &Deadline,
        state: &mut TurnState,
    ) -> Result<bool, AgentError> {
        let mut timed_out = false;
        let mut results = Vec::with_capacity(calls.len());
        for (id, name, arguments) in calls {
            state.emit(AgentEvent::ToolCall {
                id: id.clone(),
                name: name.clone(),
                arguments: arguments.clone(),
            });
            let mut output = if timed_out {
                ToolOutput::error(format!(
                    "[not run: the turn's run timeout ({} s, agents.defaults.timeoutSeconds) \
                     expired first]",
                    deadline.seconds()
                ))
            } else {
                match deadline
                    .run(self.run_tool(&tools.offered, &name, &arguments, &tools.ctx))
                    .await
                {
                    Ok(output) => output,
                    Err(_) => {
                        timed_out = true;
                        ToolOutput::error(format!(
                            "[the turn's run timeout ({} s, agents.defaults.timeoutSeconds) \
                             ended this tool before it finished]",
                            deadline.seconds()
                        ))
                    }
                }
            };
            // One result may use at most half the prompt budget (≈ 2 chars per budget
            // token): a 256 KiB file must not push a 16K model's whole history out.
            let cap = (budget.prompt_budget as usize).saturating_mul(2).max(2_000);
            if let Some(short) = trim_head_tail(&output.content, cap) {
                output.content =
                    format!("{short}\n[tool output shortened to fit the model's context window]");
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
            .append_message(
                StoredMessage {
                    role: Role::Tool,
                    content: results,
                    usage: None,
                    model: None,
                    stop_reason: None,
                },
                self.clock.as_ref(),
            )
            .await?;
        Ok(timed_out)
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
        offered: &[Arc<dyn Tool>],
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
