//! What one agent is configured with. The config crate's registry maps OpenClaw's
//! `agents.defaults` / `agents.list[i]` / `tools` / `models` onto these plain structs (the
//! agent crate does not parse config files), and implements [`ModelDirectory`] over its model
//! registry so the agent can size the context for any model ref.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use crate::budget::{BudgetSettings, ModelLimits};
use crate::compaction::CompactionSettings;
use crate::image_input::ImageModelSettings;
use crate::policy::ToolPolicyConfig;
use crate::session::SessionPolicy;
use crate::tools::ToolSettings;

#[derive(Debug, Clone)]
pub struct AgentSettings {
    pub agent_id: String,
    /// The state dir (`$CLAWGATE_STATE_DIR`, default `~/.clawgate`); sessions live under
    /// `agents/<agentId>/sessions` in it.
    pub state_dir: PathBuf,
    /// The folder the built-in tools work in.
    pub workspace: PathBuf,
    /// `agents.defaults.model.primary` (or the agent's own), a model ref or alias.
    pub primary_model: String,
    pub system_prompt: Option<String>,
    pub budget: BudgetSettings,
    pub compaction: CompactionSettings,
    pub tools: ToolSettings,
    pub tool_policy: ToolPolicyConfig,
    /// `agents.defaults.reasoningDefault == "on"`.
    pub reasoning_default: bool,
    /// fsync session writes: the transcript once per turn (before the answer), index journal
    /// appends and snapshots.
    pub durable_store: bool,
    /// `session.reset` and `session.maintenance`.
    pub session: SessionPolicy,
    /// The run timeout of one turn (`agents.defaults.timeoutSeconds`); `None` = no limit.
    pub run_timeout: Option<Duration>,
    /// Describes images for a turn model that takes none (`agents.defaults.imageModel`).
    pub image_model: Option<ImageModelSettings>,
}

/// OpenClaw's default run timeout (`agents.defaults.timeoutSeconds`: 600).
pub const DEFAULT_RUN_TIMEOUT: Duration = Duration::from_secs(600);

impl AgentSettings {
    pub fn new(
        agent_id: impl Into<String>,
        state_dir: impl Into<PathBuf>,
        workspace: impl Into<PathBuf>,
        primary_model: impl Into<String>,
    ) -> Self {
        AgentSettings {
            agent_id: agent_id.into(),
            state_dir: state_dir.into(),
            workspace: workspace.into(),
            primary_model: primary_model.into(),
            system_prompt: None,
            budget: BudgetSettings::default(),
            compaction: CompactionSettings::default(),
            tools: ToolSettings::default(),
            tool_policy: ToolPolicyConfig::default(),
            reasoning_default: false,
            durable_store: true,
            session: SessionPolicy::default(),
            run_timeout: Some(DEFAULT_RUN_TIMEOUT),
            image_model: None,
        }
    }
}

/// Model lookup for the agent: resolves a ref or alias to what the budget needs, and says
/// which models the agent may pick (its model allowlist).
pub trait ModelDirectory: Send + Sync {
    /// `None` for a ref the registry does not know.
    fn resolve(&self, model_ref_or_alias: &str) -> Option<ModelLimits>;

    /// `Err(message for the user)` when the agent may not pick this model (a ref or alias the
    /// directory knows). The default allows every model.
    fn check_allowed(&self, _model_ref_or_alias: &str) -> Result<(), String> {
        Ok(())
    }

    /// The models `/model` offers when the agent's choice is restricted; `None` = any model.
    fn selectable(&self) -> Option<Vec<String>> {
        None
    }
}

/// A fixed table (tests, and embedders without a config registry).
#[derive(Debug, Clone, Default)]
pub struct StaticModelDirectory {
    models: HashMap<String, ModelLimits>,
    aliases: HashMap<String, String>,
}

impl StaticModelDirectory {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with_model(mut self, info: ModelLimits) -> Self {
        self.models.insert(info.model_ref.clone(), info);
        self
    }

    pub fn with_alias(mut self, alias: &str, model_ref: &str) -> Self {
        self.aliases
            .insert(alias.to_ascii_lowercase(), model_ref.to_string());
        self
    }
}

impl ModelDirectory for StaticModelDirectory {
    fn resolve(&self, name: &str) -> Option<ModelLimits> {
        let name = name.trim();
        if let Some(info) = self.models.get(name) {
            return Some(info.clone());
        }
        let target = self.aliases.get(&name.to_ascii_lowercase())?;
        self.models.get(target).cloned()
    }
}
