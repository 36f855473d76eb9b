//! Slash commands handled by the runtime itself (not sent to the model): `/new` (`/reset`),
//! `/compact [focus]`, `/model [ref|default]`, `/status`, `/reasoning [on|off]`, `/help`.
//! Anything else starting with `/` is ordinary user text.

use crate::compaction::CompactionTrigger;
use crate::deadline::Deadline;
use crate::error::AgentError;
use crate::runtime::{AgentRuntime, TurnOutcome};
use crate::session::OpenSession;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SlashCommand {
    New,
    Compact(Option<String>),
    Model(Option<String>),
    Status,
    Reasoning(Option<bool>),
    Help,
}

impl SlashCommand {
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        let rest = text.strip_prefix('/')?;
        let (word, arg) = match rest.split_once(char::is_whitespace) {
            Some((w, a)) => (w, a.trim()),
            None => (rest, ""),
        };
        let arg = (!arg.is_empty()).then(|| arg.to_string());
        Some(match word.to_ascii_lowercase().as_str() {
            "new" | "reset" => SlashCommand::New,
            "compact" => SlashCommand::Compact(arg),
            "model" => SlashCommand::Model(arg),
            "status" => SlashCommand::Status,
            "help" => SlashCommand::Help,
            "reasoning" => match arg.as_deref().map(str::to_ascii_lowercase).as_deref() {
                None => SlashCommand::Reasoning(None),
                Some("on") | Some("stream") => SlashCommand::Reasoning(Some(true)),
                Some("off") => SlashCommand::Reasoning(Some(false)),
                Some(_) => return None,
            },
            _ => return None,
        })
    }
}

const HELP: &str = "/new — start a fresh session (the old transcript is kept)\n\
/compact [focus] — summarise older history now\n\
/model [ref|default] — show or set this session's model\n\
/reasoning on|off — deliver the model's reasoning separately\n\
/status — session, model, context and tools";

impl AgentRuntime {
    pub(crate) async fn run_command(
        &self,
        key: &str,
        command: SlashCommand,
    ) -> Result<TurnOutcome, AgentError> {
        let shared = self.session(key).await?;
        let mut session = shared.lock().await;
        let reset_notice = match command {
            SlashCommand::New => None,
            _ => self.freshen(&mut session).await?,
        };
        let reply = match command {
            SlashCommand::Help => HELP.to_string(),
            SlashCommand::New => self.new_session(&mut session).await?,
            SlashCommand::Compact(focus) => {
                let (info, budget) = self.model_for(None, &session.entry)?;
                let trigger = CompactionTrigger::Manual;
                let keep = budget.keep_recent;
                let deadline = Deadline::start(self.clock.as_ref(), self.settings.run_timeout);
                match self
                    .compact(
                        &mut session,
                        &info,
                        &budget,
                        trigger,
                        focus.as_deref(),
                        keep,
                        &deadline,
                    )
                    .await?
                {
                    Some(before) => {
                        let after = self
                            .lock_estimator()
                            .calibrated(&info.model_ref, session.context.raw_tokens());
                        format!(
                            "Compacted: context ~{before} → ~{after} tokens (compaction #{}).",
                            session.entry.compaction_count
                        )
                    }
                    None => "Nothing to compact yet.".to_string(),
                }
            }
            SlashCommand::Model(None) => {
                let (info, budget) = self.model_for(None, &session.entry)?;
                let source = if session.entry.model_override.is_some() {
                    "session override"
                } else {
                    "primary"
                };
                let mut text = format!(
                    "Model: {} ({source}); context window {} tokens.",
                    info.model_ref, budget.window
                );
                if let Some(models) = self.models.selectable() {
                    text.push_str(&format!("\nAllowed models: {}.", models.join(", ")));
                }
                text
            }
            SlashCommand::Model(Some(name)) => {
                if name.eq_ignore_ascii_case("default") || name.eq_ignore_ascii_case("reset") {
                    session.entry.model_override = None;
                    session.entry.model_override_source = None;
                    format!(
                        "Model reset to the primary, {}.",
                        self.settings.primary_model
                    )
                } else {
                    match self.model_for(Some(&name), &session.entry) {
                        Ok((info, budget)) => {
                            session.entry.model_override = Some(info.model_ref.clone());
                            session.entry.model_override_source = Some("user".into());
                            format!(
                                "Model set to {} for this session (context window {} tokens).",
                                info.model_ref, budget.window
                            )
                        }
                        Err(e) => format!("Model not changed: {e}"),
                    }
                }
            }
            SlashCommand::Reasoning(None) => {
                let on = session.entry.reasoning_on(self.settings.reasoning_default);
                format!("Reasoning delivery is {}.", if on { "on" } else { "off" })
            }
            SlashCommand::Reasoning(Some(on)) => {
                session.entry.reasoning_level = Some(if on { "on" } else { "off" }.into());
                format!("Reasoning delivery {}.", if on { "on" } else { "off" })
            }
            SlashCommand::Status => self.status_text(&session)?,
        };
        session.entry.updated_at = self.clock.now_ms();
        // A command's change (a `/model` choice, …) is durable before the reply.
        self.backend.upsert(key, session.entry.clone()).await?;
        Ok(TurnOutcome {
            notices: reset_notice.into_iter().collect(),
            reply: Some(reply),
            command: true,
            session_id: session.entry.session_id.clone(),
            ..TurnOutcome::default()
        })
    }

    async fn new_session(&self, session: &mut OpenSession) -> Result<String, AgentError> {
        // Relative to the state dir: a reply never shows where the state lives.
        let old_file = session.transcript.name();
        self.rotate(session).await?;
        Ok(format!(
            "New session {} started. The previous transcript is kept in {old_file}.",
            session.entry.session_id
        ))
    }

    fn status_text(&self, session: &OpenSession) -> Result<String, AgentError> {
        let (info, budget) = self.model_for(None, &session.entry)?;
        let estimate = self
            .lock_estimator()
            .calibrated(&info.model_ref, session.context.raw_tokens());
        let reported = session
            .entry
            .context_tokens
            .map_or_else(|| "unknown".to_string(), |t| t.to_string());
        let source = if session.entry.model_override.is_some() {
            "session override"
        } else {
            "primary"
        };
        let fallback = session.entry.fallback_notice_model.as_deref().map_or_else(
            || "none".to_string(),
            |m| format!("{m} answering for the primary"),
        );
        let tools = self.offered_tools();
        Ok(format!(
            "Session: {} (id {})\n\
             Model: {} ({source})\n\
             Fallback: {fallback}\n\
             Context: ~{estimate} tokens in context (last reported {reported}); window {}, \
             prompt budget {}, reserve {}\n\
             Messages: {} in the transcript, {} in context; compactions: {}\n\
             Reasoning: {}\n\
             Tools: {}",
            session.key,
            session.entry.session_id,
            info.model_ref,
            budget.window,
            budget.prompt_budget,
            budget.reserve,
            session.message_count,
            session.context.items.len(),
            session.entry.compaction_count,
            if session.entry.reasoning_on(self.settings.reasoning_default) {
                "on"
            } else {
                "off"
            },
            if tools.is_empty() {
                "none".to_string()
            } else {
                tools.join(", ")
            }
        ))
    }
}
