//! [`AgentRuntime`]: the API the CLI and the gateway use. It owns the loaded sessions (kept in
//! memory, one writer each), the token estimator, the tool registry and policy, and runs turns
//! (`turn.rs`), slash commands (`commands.rs`) and session listing/export (`sessions_view.rs`).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use clawgate_wire::{ContentBlock, StopReason, Usage};
use tokio::sync::Mutex as AsyncMutex;

use crate::budget::{ContextBudget, ModelLimits, TokenEstimator};
use crate::clock::{Clock, SystemClock};
use crate::compaction::{CompactionTrigger, Summarizer, choose_cut};
use crate::deadline::Deadline;
use crate::error::AgentError;
use crate::model_client::{FallbackInfo, ModelClient};
use crate::policy::ToolPolicy;
use crate::session::{
    CompactionRecord, FileSessions, OpenSession, SessionBackend, SessionEntry, SessionStore,
    check_session_key, main_session_key, sessions_dir,
};
use crate::settings::{AgentSettings, ModelDirectory};
use crate::tools::{ExecApprover, ToolContext, ToolRegistry, Workspace};

/// What the user said: plain text or canonical content blocks (text + images).
#[derive(Debug, Clone, PartialEq)]
pub enum TurnInput {
    Text(String),
    Blocks(Vec<ContentBlock>),
}

impl From<&str> for TurnInput {
    fn from(s: &str) -> Self {
        TurnInput::Text(s.to_string())
    }
}

impl From<String> for TurnInput {
    fn from(s: String) -> Self {
        TurnInput::Text(s)
    }
}

/// Live progress of a turn, for streaming surfaces (the CLI chat, SSE).
#[derive(Debug, Clone, PartialEq)]
pub enum AgentEvent {
    /// Answer text, already filtered for delivery.
    Text(String),
    /// Reasoning, only when reasoning is on for the turn.
    Reasoning(String),
    ToolCall {
        id: String,
        name: String,
        arguments: String,
    },
    ToolResult {
        id: String,
        name: String,
        is_error: bool,
        /// What the tool returned (as the model sees it, after shortening).
        output: String,
    },
    /// A model call committed (before its text streams): which model answers this part of the
    /// turn, and the attempt record when a fallback answers (sent for every model call, not
    /// de-duplicated like the fallback notice).
    Answered {
        model_ref: String,
        fallback: Option<FallbackInfo>,
    },
    /// One-line operational notice (fallback, tool profile, compaction).
    Notice(String),
    Compacted {
        trigger: CompactionTrigger,
        tokens_before: u64,
    },
}

pub type EventSink = Arc<dyn Fn(AgentEvent) + Send + Sync>;

#[derive(Clone, Default)]
pub struct TurnOptions {
    /// Use this model ref/alias for this turn only.
    pub model_override: Option<String>,
    pub on_event: Option<EventSink>,
    /// Deliver reasoning this turn (overrides the session setting).
    pub reasoning: Option<bool>,
    /// Who answers exec approval questions (the terminal chat's y/n); `None`: nobody can, so
    /// `askFallback` decides (the gateway today).
    pub approver: Option<Arc<dyn ExecApprover>>,
}

impl std::fmt::Debug for TurnOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TurnOptions")
            .field("model_override", &self.model_override)
            .field("on_event", &self.on_event.is_some())
            .field("reasoning", &self.reasoning)
            .field("approver", &self.approver.is_some())
            .finish()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolCallRecord {
    pub id: String,
    pub name: String,
    pub arguments: String,
    pub is_error: bool,
    /// The call was recovered from JSON text (see `tool_text_recovery`).
    pub recovered: bool,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct TurnOutcome {
    /// What to deliver; `None` when the answer was silent (`NO_REPLY`) or empty.
    pub reply: Option<String>,
    /// The separate reasoning message (`Reasoning:\n…`), only when reasoning is on.
    pub reasoning: Option<String>,
    pub notices: Vec<String>,
    /// Summed over the turn's model calls (summaries excluded).
    pub usage: Usage,
    /// Compactions run during the turn.
    pub compactions: u32,
    pub tool_calls: Vec<ToolCallRecord>,
    /// The model that gave the last answer.
    pub model_ref: Option<String>,
    pub session_id: String,
    pub silent: bool,
    /// The input was a slash command; `reply` is its output.
    pub command: bool,
    /// Why the answer ended: `Length` when the last answer hit the output cap (`Stop` also
    /// when the tool loop hit `tools.maxRounds`).
    pub stop_reason: StopReason,
    /// A pre-compaction memory flush turn ran before this turn.
    pub memory_flushed: bool,
}

impl TurnOutcome {
    pub fn compacted(&self) -> bool {
        self.compactions > 0
    }
}

pub(crate) type SharedSession = Arc<AsyncMutex<OpenSession>>;
/// A session loaded once per key; concurrent first uses wait for the same load.
type SessionSlot = Arc<tokio::sync::OnceCell<SharedSession>>;

pub struct AgentRuntime {
    pub(crate) settings: AgentSettings,
    pub(crate) client: Arc<dyn ModelClient>,
    pub(crate) models: Arc<dyn ModelDirectory>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) tools: ToolRegistry,
    pub(crate) policy: ToolPolicy,
    pub(crate) tool_ctx: ToolContext,
    pub(crate) store: SessionStore,
    pub(crate) backend: Arc<dyn SessionBackend>,
    pub(crate) sessions: Mutex<HashMap<String, SessionSlot>>,
    pub(crate) estimator: Mutex<TokenEstimator>,
    policy_notice_pending: AtomicBool,
}

impl std::fmt::Debug for AgentRuntime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AgentRuntime")
            .field("agent_id", &self.settings.agent_id)
            .field("tools", &self.tools)
            .finish_non_exhaustive()
    }
}

impl AgentRuntime {
    /// A runtime with the built-in tools and the system clock.
    pub fn new(
        settings: AgentSettings,
        client: Arc<dyn ModelClient>,
        models: Arc<dyn ModelDirectory>,
    ) -> Result<Self, AgentError> {
        let workspace = Workspace::new(&settings.workspace)
            .map_err(|e| AgentError::io(&settings.workspace, e))?;
        let primary_is_local = models
            .resolve(&settings.primary_model)
            .is_some_and(|m| m.is_local);
        let policy = ToolPolicy::resolve(&settings.tool_policy, primary_is_local);
        let store = SessionStore::new(
            sessions_dir(&settings.state_dir, &settings.agent_id),
            settings.durable_store,
        );
        let backend: Arc<dyn SessionBackend> = Arc::new(FileSessions::new(
            store.clone(),
            settings.session.maintenance.clone(),
            vec![main_session_key(&settings.agent_id)],
        ));
        let tools = ToolRegistry::builtin(&settings.tools);
        Ok(AgentRuntime {
            tool_ctx: ToolContext::new(workspace, settings.tools.clone()),
            policy_notice_pending: AtomicBool::new(policy.local_default),
            policy,
            store,
            backend,
            settings,
            client,
            models,
            clock: Arc::new(SystemClock),
            tools,
            sessions: Mutex::new(HashMap::new()),
            estimator: Mutex::new(TokenEstimator::default()),
        })
    }

    /// Keeps sessions in `backend` instead of the files under the state dir (a shared store).
    pub fn with_session_backend(mut self, backend: Arc<dyn SessionBackend>) -> Self {
        self.backend = backend;
        self
    }

    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Replace the tool registry (before policy; the policy still filters it).
    pub fn with_tools(mut self, tools: ToolRegistry) -> Self {
        self.tools = tools;
        self
    }

    pub fn settings(&self) -> &AgentSettings {
        &self.settings
    }

    /// `agent:<agentId>:main`.
    pub fn main_key(&self) -> String {
        main_session_key(&self.settings.agent_id)
    }

    pub fn policy(&self) -> &ToolPolicy {
        &self.policy
    }

    /// Names of the tools the model is offered.
    pub fn offered_tools(&self) -> Vec<String> {
        self.tools
            .allowed(&self.policy)
            .iter()
            .map(|t| t.spec().name)
            .collect()
    }

    /// Notices to show once at start (e.g. the narrow tool set of a local agent). Taking them
    /// here keeps them out of the first turn's outcome.
    pub fn take_startup_notices(&self) -> Vec<String> {
        if self.policy_notice_pending.swap(false, Ordering::SeqCst) {
            vec![ToolPolicy::local_default_notice().to_string()]
        } else {
            Vec::new()
        }
    }

    /// Drop a loaded session from memory and release its lock.
    pub async fn close_session(&self, key: &str) {
        let removed = self.lock_sessions().remove(key);
        if let Some(session) = removed.as_ref().and_then(|slot| slot.get()) {
            drop(session.lock().await);
        }
    }

    /// Waits until every queued change to the session index is on disk.
    pub async fn flush_sessions(&self) -> Result<(), AgentError> {
        self.backend.flush().await
    }

    /// What the session index files were written with (bytes, snapshot rewrites).
    pub fn session_index_stats(&self) -> &crate::session::IndexStats {
        self.store.stats()
    }

    /// The session backend (index, transcripts, turn locks).
    pub fn session_backend(&self) -> &Arc<dyn SessionBackend> {
        &self.backend
    }

    pub(crate) fn lock_sessions(&self) -> std::sync::MutexGuard<'_, HashMap<String, SessionSlot>> {
        match self.sessions.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    pub(crate) fn lock_estimator(&self) -> std::sync::MutexGuard<'_, TokenEstimator> {
        match self.estimator.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// The loaded session for `key`, loading (or creating) it on first use.
    pub(crate) async fn session(&self, key: &str) -> Result<SharedSession, AgentError> {
        check_session_key(key)?;
        let slot = self
            .lock_sessions()
            .entry(key.to_string())
            .or_default()
            .clone();
        let loaded = slot.get_or_try_init(|| self.load_session(key)).await;
        match loaded {
            Ok(shared) => Ok(shared.clone()),
            Err(error) => {
                // Do not keep an empty slot for a key that failed to load.
                let mut map = self.lock_sessions();
                if map
                    .get(key)
                    .is_some_and(|s| Arc::ptr_eq(s, &slot) && s.get().is_none())
                {
                    map.remove(key);
                }
                Err(error)
            }
        }
    }

    async fn load_session(&self, key: &str) -> Result<SharedSession, AgentError> {
        let now = self.clock.now_ms();
        let entry = match self.backend.get(key).await? {
            Some(e) => e,
            None => {
                // A new row is durable before its transcript exists: a crash never leaves a
                // transcript the index does not know.
                let entry = self.backend.create(key, new_entry(now, None)).await?;
                self.backend.maintain(now);
                entry
            }
        };
        let open = OpenSession::open(
            self.backend.as_ref(),
            key,
            entry,
            self.tool_ctx.workspace.root(),
            self.clock.as_ref(),
        )
        .await?;
        Ok(Arc::new(AsyncMutex::new(open)))
    }

    /// Starts `session` over when `session.reset` says it has expired (daily boundary or idle
    /// window); returns the notice to show.
    pub(crate) async fn freshen(
        &self,
        session: &mut OpenSession,
    ) -> Result<Option<String>, AgentError> {
        let now = self.clock.now_ms();
        let Some(reason) = self.settings.session.stale_reason(&session.entry, now) else {
            return Ok(None);
        };
        self.rotate(session).await?;
        Ok(Some(format!(
            "Started a new session ({reason}); the previous transcript is kept."
        )))
    }

    /// Replaces `session` by a fresh one under the same key (`/new`, an expired session). The
    /// user's choices carry over; the old transcript stays on disk.
    pub(crate) async fn rotate(&self, session: &mut OpenSession) -> Result<(), AgentError> {
        let now = self.clock.now_ms();
        let entry = new_entry(now, Some(&session.entry));
        self.backend.upsert(&session.key, entry.clone()).await?;
        self.backend.maintain(now);
        let fresh = OpenSession::open(
            self.backend.as_ref(),
            &session.key,
            entry,
            self.tool_ctx.workspace.root(),
            self.clock.as_ref(),
        )
        .await?;
        *session = fresh;
        Ok(())
    }

    /// The model a turn uses: turn override → session `/model` override → primary. A turn
    /// override the agent may not pick is an error; a stored override that is no longer
    /// allowed (the allowlist changed) falls back to the primary, as in OpenClaw.
    pub(crate) fn model_for(
        &self,
        turn_override: Option<&str>,
        entry: &SessionEntry,
    ) -> Result<(ModelLimits, ContextBudget), AgentError> {
        if let Some(wanted) = turn_override
            && self.models.resolve(wanted).is_some()
        {
            self.models
                .check_allowed(wanted)
                .map_err(AgentError::ModelNotAllowed)?;
        }
        let stored = entry
            .model_override
            .as_deref()
            .filter(|o| self.models.check_allowed(o).is_ok());
        let wanted = turn_override
            .or(stored)
            .unwrap_or(&self.settings.primary_model);
        let info = match self.models.resolve(wanted) {
            Some(info) => info,
            None if turn_override.is_some() => {
                return Err(AgentError::UnknownModel(wanted.to_string()));
            }
            // A primary or stored override the registry does not list: default window.
            None => ModelLimits {
                model_ref: wanted.to_string(),
                ..ModelLimits::default()
            },
        };
        let budget = ContextBudget::resolve(&info, &self.settings.budget)?;
        Ok((info, budget))
    }

    /// The model a session's next turn uses and the context budget that follows from it (the
    /// window its context meter is measured against).
    pub fn session_model(
        &self,
        entry: &SessionEntry,
    ) -> Result<(ModelLimits, ContextBudget), AgentError> {
        self.model_for(None, entry)
    }

    pub(crate) fn store(&self) -> &SessionStore {
        &self.store
    }

    /// Summarise what lies before the cut; `Some(tokens_before)` when a compaction was written.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn compact(
        &self,
        session: &mut OpenSession,
        info: &ModelLimits,
        budget: &ContextBudget,
        trigger: CompactionTrigger,
        focus: Option<&str>,
        keep: u64,
        deadline: &Deadline,
    ) -> Result<Option<u64>, AgentError> {
        let ratio = self.lock_estimator().ratio(&info.model_ref);
        let keep_raw = (keep as f64 / ratio) as u64;
        let Some(cut) = choose_cut(&session.context.items, keep_raw) else {
            return Ok(None);
        };
        let messages: Vec<_> = session.context.items[..cut]
            .iter()
            .map(|i| i.message.clone())
            .collect();
        let tokens_before = self
            .lock_estimator()
            .calibrated(&info.model_ref, session.context.raw_tokens());
        let (sum_info, sum_budget) = match &self.settings.compaction.model {
            Some(m) => self.model_for(Some(m), &session.entry)?,
            None => (info.clone(), *budget),
        };
        let sum_ratio = self.lock_estimator().ratio(&sum_info.model_ref);
        let summarizer = Summarizer {
            client: self.client.as_ref(),
            model_ref: &sum_info.model_ref,
            budget: &sum_budget,
            ratio: sum_ratio,
            settings: &self.settings.compaction,
            clock: self.clock.as_ref(),
            deadline,
        };
        let previous = session.context.summary.clone();
        let outcome = summarizer
            .summarize(previous.as_deref(), &messages, focus)
            .await?;
        let first_kept = session.context.items.get(cut).map(|i| i.entry_id.clone());
        let record = CompactionRecord {
            summary: outcome.summary,
            first_kept_entry_id: first_kept,
            tokens_before,
            details: Some(serde_json::json!({
                "trigger": trigger.name(),
                "summarizedMessages": cut,
                "chunks": outcome.chunks,
                "summaryCalls": outcome.calls,
                "focus": focus,
            })),
        };
        session
            .append_compaction(record, self.clock.as_ref())
            .await?;
        session.entry.compaction_count += 1;
        tracing::info!(trigger = trigger.name(), tokens_before, cut, "compacted");
        Ok(Some(tokens_before))
    }
}

/// A fresh session row; user choices (model override, reasoning) carry over from `previous`.
pub(crate) fn new_entry(now: u64, previous: Option<&SessionEntry>) -> SessionEntry {
    SessionEntry {
        session_id: uuid::Uuid::new_v4().to_string(),
        session_file: None,
        session_started_at: now,
        last_interaction_at: now,
        updated_at: now,
        model_override: previous.and_then(|p| p.model_override.clone()),
        model_override_source: previous.and_then(|p| p.model_override_source.clone()),
        reasoning_level: previous.and_then(|p| p.reasoning_level.clone()),
        ..SessionEntry::default()
    }
    .with_file()
}

impl SessionEntry {
    pub(crate) fn with_file(mut self) -> Self {
        self.session_file = Some(format!("{}.jsonl", self.session_id));
        self
    }
}
