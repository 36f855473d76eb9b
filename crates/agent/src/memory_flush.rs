//! The pre-compaction memory flush (OpenClaw §4.6, `compaction.memoryFlush`): when a session's
//! context comes within `softThresholdTokens` of the compaction threshold, one silent extra
//! turn asks the model to write durable notes to `memory/<date>.md` in the workspace before
//! the details are summarised away. At most once per compaction cycle (the session row keeps
//! `memoryFlushCompactionCount`), only for agents that can write files, and its answer is
//! never delivered. The prompts are `prompts/memory-flush.md` and `memory-flush-system.md`;
//! `YYYY-MM-DD` in them becomes the date.

use crate::budget::ContextBudget;
use crate::session::SessionEntry;

/// The built-in user prompt of the flush turn.
pub const MEMORY_FLUSH_PROMPT: &str = include_str!("../prompts/memory-flush.md");
/// The built-in system prompt addendum of the flush turn.
pub const MEMORY_FLUSH_SYSTEM_PROMPT: &str = include_str!("../prompts/memory-flush-system.md");

/// The answer that means "nothing to say" (it is never delivered).
const SILENT_TOKEN: &str = "NO_REPLY";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemoryFlushSettings {
    pub enabled: bool,
    /// How far below the compaction threshold the flush runs.
    pub soft_threshold_tokens: u64,
    /// Replaces [`MEMORY_FLUSH_PROMPT`].
    pub prompt: Option<String>,
    /// Replaces [`MEMORY_FLUSH_SYSTEM_PROMPT`].
    pub system_prompt: Option<String>,
}

impl Default for MemoryFlushSettings {
    fn default() -> Self {
        MemoryFlushSettings {
            enabled: true,
            soft_threshold_tokens: 4000,
            prompt: None,
            system_prompt: None,
        }
    }
}

impl MemoryFlushSettings {
    /// Context size from which the flush runs: the compaction threshold minus the soft
    /// threshold (OpenClaw measures from the window minus the reserve floor; clawgate's
    /// threshold already is that point for small windows too).
    pub fn threshold(&self, budget: &ContextBudget) -> u64 {
        budget.threshold.saturating_sub(self.soft_threshold_tokens)
    }

    /// Whether a session whose context holds `context_tokens` flushes before its next turn.
    pub fn due(&self, entry: &SessionEntry, context_tokens: u64, budget: &ContextBudget) -> bool {
        self.enabled
            && context_tokens >= self.threshold(budget)
            && entry.memory_flush_compaction_count != Some(entry.compaction_count)
    }

    /// The flush turn's user prompt for `date` (`YYYY-MM-DD`); a configured prompt without the
    /// silent token gets a line saying how to answer when there is nothing to store.
    pub fn user_prompt(&self, date: &str) -> String {
        with_date(
            self.prompt.as_deref().unwrap_or(MEMORY_FLUSH_PROMPT),
            date,
            true,
        )
    }

    /// The flush turn's system prompt addendum for `date`.
    pub fn system_prompt(&self, date: &str) -> String {
        with_date(
            self.system_prompt
                .as_deref()
                .unwrap_or(MEMORY_FLUSH_SYSTEM_PROMPT),
            date,
            false,
        )
    }
}

fn with_date(text: &str, date: &str, hint: bool) -> String {
    let mut out = text.trim().replace("YYYY-MM-DD", date);
    if hint && !out.contains(SILENT_TOKEN) {
        out.push_str(&format!(
            "\n\nIf there is nothing to store, reply with {SILENT_TOKEN}."
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn budget(threshold: u64) -> ContextBudget {
        ContextBudget {
            window: 16_384,
            reserve: 4096,
            output_cap: 4096,
            prompt_budget: 12_288,
            threshold,
            keep_recent: 4915,
            summary_cap: 2048,
        }
    }

    #[test]
    fn due_once_per_compaction_cycle_near_the_threshold() {
        let s = MemoryFlushSettings::default();
        let b = budget(11_060);
        let mut entry = SessionEntry::default();
        assert_eq!(s.threshold(&b), 7_060);
        assert!(!s.due(&entry, 7_059, &b));
        assert!(s.due(&entry, 7_060, &b));
        entry.memory_flush_compaction_count = Some(0);
        assert!(!s.due(&entry, 9_000, &b), "already flushed in this cycle");
        entry.compaction_count = 1;
        assert!(s.due(&entry, 9_000, &b), "a compaction started a new cycle");
        let off = MemoryFlushSettings {
            enabled: false,
            ..MemoryFlushSettings::default()
        };
        assert!(!off.due(&SessionEntry::default(), 100_000, &b));
    }

    #[test]
    fn prompts_get_the_date_and_the_silent_hint() {
        let s = MemoryFlushSettings::default();
        let p = s.user_prompt("2026-03-04");
        assert!(p.contains("memory/2026-03-04.md") && !p.contains("YYYY"));
        assert_eq!(p.matches("NO_REPLY").count(), 1);
        let custom = MemoryFlushSettings {
            prompt: Some("Save notes to notes/YYYY-MM-DD.txt".into()),
            system_prompt: Some("Flush now (YYYY-MM-DD).".into()),
            ..MemoryFlushSettings::default()
        };
        assert_eq!(
            custom.user_prompt("2026-03-04"),
            "Save notes to notes/2026-03-04.txt\n\nIf there is nothing to store, reply with NO_REPLY."
        );
        assert_eq!(
            custom.system_prompt("2026-03-04"),
            "Flush now (2026-03-04)."
        );
    }
}

/// The flush turn itself (a method of the runtime, beside the rules above).
mod run {
    use clawgate_wire::{ContentBlock, Role};

    use crate::budget::{ContextBudget, ModelLimits};
    use crate::deadline::Deadline;
    use crate::error::AgentError;
    use crate::runtime::AgentRuntime;
    use crate::session::{OpenSession, StoredMessage};
    use crate::turn::TurnState;
    use crate::turn_rounds::TurnTools;

    /// `YYYY-MM-DD` in the session policy's time zone (the host's, `TZ` honoured).
    fn local_date(now_ms: u64, zone: &jiff::tz::TimeZone) -> String {
        jiff::Timestamp::from_millisecond(now_ms as i64)
            .map(|t| t.to_zoned_datetime(zone.clone()).date().to_string())
            .unwrap_or_else(|_| "1970-01-01".to_string())
    }

    impl AgentRuntime {
        /// Runs the silent flush turn when it is due and the agent can write files. A flush
        /// that fails is logged and the user's turn goes on; the run timeout and an abort end
        /// the whole turn.
        #[allow(clippy::too_many_arguments)]
        pub(crate) async fn flush_memory_if_due(
            &self,
            session: &mut OpenSession,
            info: &ModelLimits,
            budget: &ContextBudget,
            tools: &TurnTools,
            deadline: &Deadline,
            state: &mut TurnState,
        ) -> Result<(), AgentError> {
            let flush = &self.settings.compaction.memory_flush;
            let writes = tools
                .offered
                .iter()
                .any(|t| matches!(t.spec().name.as_str(), "write" | "edit"));
            if !flush.enabled || !writes {
                return Ok(());
            }
            let context = session.entry.context_tokens.unwrap_or_else(|| {
                self.lock_estimator()
                    .calibrated(&info.model_ref, session.context.raw_tokens())
            });
            if !flush.due(&session.entry, context, budget) {
                return Ok(());
            }
            let date = local_date(self.clock.now_ms(), &self.settings.session.time_zone);
            tracing::info!(session = %session.key, context, "pre-compaction memory flush");
            let mut silent =
                TurnState::silent(session.entry.session_id.clone(), flush.system_prompt(&date));
            session
                .append_message(
                    StoredMessage {
                        role: Role::User,
                        content: vec![ContentBlock::Text {
                            text: flush.user_prompt(&date),
                        }],
                        usage: None,
                        model: None,
                        stop_reason: None,
                    },
                    self.clock.as_ref(),
                )
                .await?;
            let result = self
                .run_rounds(session, info, budget, tools, deadline, &mut silent)
                .await;
            state.outcome.compactions += silent.outcome.compactions;
            match result {
                Ok(_) => {}
                Err(e @ (AgentError::TurnTimeout { .. } | AgentError::Aborted)) => return Err(e),
                Err(e) => tracing::warn!(session = %session.key, "memory flush failed: {e}"),
            }
            session.entry.memory_flush_at = Some(self.clock.now_ms());
            session.entry.memory_flush_compaction_count = Some(session.entry.compaction_count);
            state.outcome.memory_flushed = true;
            Ok(())
        }
    }
}
