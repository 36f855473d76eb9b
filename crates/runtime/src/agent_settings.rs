//! Config → the agent crate's plain settings. The agent crate parses no config and the config
//! crate knows nothing of agents, so the mapping from `agents.defaults` / `agents.list[i]` /
//! `tools` onto [`AgentSettings`], and the [`ModelDirectory`] over the model registry, live
//! here beside the rest of the service assembly (the CLI's `clawgate agent` reuses them).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use clawgate_agent::session::{
    MaintenanceMode, MaintenancePolicy, ResetMode, ResetPolicy, SessionPolicy,
};
use clawgate_agent::{
    AgentSettings, CompactionMode, CompactionSettings, IdentifierPolicy, ImageModelSettings,
    MemoryFlushSettings, ModelDirectory, ModelLimits, QualityGuard, ToolLayerConfig,
    ToolPolicyConfig, ToolProfile,
};
use clawgate_config::schema::{CompactionConfig, SessionConfig, ToolsConfig};
use clawgate_config::{ClawgateConfig, Registry, RowSource};

/// The agent id used when the config lists no agents (OpenClaw's default).
pub const MAIN_AGENT: &str = "main";

/// Agent ids the config defines: `agents.list[].id`, or `main` when the list is empty.
pub fn agent_ids(config: &ClawgateConfig) -> Vec<String> {
    if config.agents.list.is_empty() {
        return vec![MAIN_AGENT.to_string()];
    }
    config.agents.list.iter().map(|a| a.id.clone()).collect()
}

/// The default agent: the one marked `default`, else the first listed, else `main`.
pub fn default_agent(config: &ClawgateConfig) -> String {
    let list = &config.agents.list;
    list.iter()
        .find(|a| a.default)
        .or(list.first())
        .map_or_else(|| MAIN_AGENT.to_string(), |a| a.id.clone())
}

fn expand_home(path: &str, home: Option<&Path>) -> PathBuf {
    match (path.strip_prefix("~/"), home) {
        (Some(rest), Some(home)) => home.join(rest),
        _ => PathBuf::from(path),
    }
}

fn tool_layer(tools: &ToolsConfig) -> ToolLayerConfig {
    ToolLayerConfig {
        profile: tools.profile.and_then(|p| ToolProfile::parse(p.as_str())),
        allow: tools.allow.clone(),
        also_allow: tools.also_allow.clone(),
        deny: tools.deny.clone(),
    }
}

/// `agents.defaults.compaction` → the agent's compaction settings.
fn compaction_settings(c: &CompactionConfig) -> CompactionSettings {
    use clawgate_config::schema::{CompactionMode as Mode, IdentifierPolicy as Policy};
    CompactionSettings {
        enabled: c.enabled,
        model: c.model.clone(),
        mode: match c.mode {
            Mode::Default => CompactionMode::Default,
            Mode::Safeguard => CompactionMode::Safeguard,
        },
        timeout: Duration::from_secs(c.timeout_seconds),
        identifiers: match c.identifier_policy {
            Policy::Strict => IdentifierPolicy::Strict,
            Policy::Off => IdentifierPolicy::Off,
            // The loader refuses `custom` without its text.
            Policy::Custom => c
                .identifier_instructions
                .clone()
                .map_or(IdentifierPolicy::Strict, IdentifierPolicy::Custom),
        },
        quality_guard: QualityGuard {
            enabled: c.quality_guard.enabled,
            max_retries: c.quality_guard.max_retries,
        },
        memory_flush: MemoryFlushSettings {
            enabled: c.memory_flush.enabled,
            soft_threshold_tokens: c.memory_flush.soft_threshold_tokens,
            prompt: c.memory_flush.prompt.clone(),
            system_prompt: c.memory_flush.system_prompt.clone(),
        },
        ..CompactionSettings::default()
    }
}

/// Settings for `agent_id` (which must be one of [`agent_ids`]). The workspace is the agent's
/// own `workspace`, else `agents.defaults.workspace`, else `<state>/workspace` for the default
/// agent and `<state>/workspace-<id>` for the others.
pub fn agent_settings(
    config: &ClawgateConfig,
    registry: &Registry,
    state_dir: &Path,
    home: Option<&Path>,
    agent_id: &str,
) -> AgentSettings {
    let defaults = &config.agents.defaults;
    let own = config.agents.list.iter().find(|a| a.id == agent_id);
    let selection = registry.selection(Some(agent_id));
    let workspace = own
        .and_then(|a| a.workspace.as_deref())
        .or(defaults.workspace.as_deref())
        .map(|w| expand_home(w, home))
        .unwrap_or_else(|| {
            if agent_id == default_agent(config) {
                state_dir.join("workspace")
            } else {
                state_dir.join(format!("workspace-{agent_id}"))
            }
        });
    let mut settings = AgentSettings::new(agent_id, state_dir, workspace, selection.primary);
    settings.budget.context_tokens_cap = defaults.context_tokens;
    settings.budget.min_context_window = defaults.min_context_window;
    settings.budget.reserve_tokens = defaults.compaction.reserve_tokens;
    settings.budget.reserve_tokens_floor = defaults.compaction.reserve_tokens_floor;
    settings.budget.keep_recent_tokens = defaults.compaction.keep_recent_tokens;
    settings.compaction = compaction_settings(&defaults.compaction);
    settings.run_timeout = Some(Duration::from_secs(defaults.timeout_seconds));
    settings.image_model = registry.image_selection().map(|image| ImageModelSettings {
        primary: image.primary,
        fallbacks: image.fallbacks,
    });
    settings.session = session_policy(&config.session);
    let own_tools = own.and_then(|a| a.tools.as_ref());
    settings.tool_policy = ToolPolicyConfig {
        global: tool_layer(&config.tools),
        agent: own_tools.map(tool_layer).unwrap_or_default(),
    };
    crate::agent_tool_settings::apply(&mut settings, config, agent_id, state_dir, home);
    // The agent's own value, else the global one, else the built-in default.
    if let Some(rounds) = own_tools
        .and_then(|t| t.max_rounds)
        .or(config.tools.max_rounds)
    {
        settings.tools.max_rounds = rounds;
    }
    settings
}

/// `session` → the agent's [`SessionPolicy`] (defaults from the agent crate, OpenClaw's).
pub fn session_policy(session: &SessionConfig) -> SessionPolicy {
    let reset = session.reset.as_ref();
    let maintenance = &session.maintenance;
    let defaults = MaintenancePolicy::default();
    SessionPolicy {
        reset: ResetPolicy::resolve(
            reset.and_then(|r| r.mode).map(|m| match m {
                clawgate_config::schema::ResetMode::Daily => ResetMode::Daily,
                clawgate_config::schema::ResetMode::Idle => ResetMode::Idle,
            }),
            reset.and_then(|r| r.at_hour).map(|h| h.min(23) as u8),
            reset.and_then(|r| r.idle_minutes),
            reset.is_some(),
            session.idle_minutes,
        ),
        maintenance: MaintenancePolicy {
            mode: match maintenance.mode {
                Some(clawgate_config::schema::MaintenanceMode::Warn) => MaintenanceMode::Warn,
                Some(clawgate_config::schema::MaintenanceMode::Enforce) => MaintenanceMode::Enforce,
                None => defaults.mode,
            },
            prune_after_ms: maintenance
                .prune_after_ms
                .unwrap_or(defaults.prune_after_ms),
            max_entries: maintenance.max_entries.map_or(defaults.max_entries, |n| {
                usize::try_from(n).unwrap_or(usize::MAX)
            }),
        },
        ..SessionPolicy::default()
    }
}

/// [`ModelDirectory`] over the config's model registry, for one agent (whose model allowlist
/// `/model` and turn overrides are held to).
#[derive(Debug, Clone)]
pub struct RegistryDirectory {
    registry: Arc<Registry>,
    agent: Option<String>,
}

impl RegistryDirectory {
    /// A directory that restricts nothing beyond the defaults' allowlist.
    pub fn new(registry: Arc<Registry>) -> Self {
        Self {
            registry,
            agent: None,
        }
    }

    /// A directory for agent `agent`: its own `modelPolicy.allow`, else the defaults'.
    pub fn for_agent(registry: Arc<Registry>, agent: &str) -> Self {
        Self {
            registry,
            agent: Some(agent.to_string()),
        }
    }
}

impl ModelDirectory for RegistryDirectory {
    fn resolve(&self, name: &str) -> Option<ModelLimits> {
        let resolved = self.registry.resolve(name).ok()?;
        let row = &resolved.model;
        let window = Some(row.effective_context());
        let from_config = row.source == RowSource::Config || row.configured;
        // A pinned auth profile stays on the ref, so the model client routes with that key.
        let model_ref = match &resolved.profile {
            Some(profile) => format!("{}@{profile}", row.reference),
            None => row.reference.clone(),
        };
        Some(ModelLimits {
            model_ref,
            context_window: if from_config { window } else { None },
            discovered_context_window: if from_config { None } else { window },
            max_tokens: u32::try_from(row.max_tokens).ok(),
            is_local: resolved.provider.is_local,
            accepts_images: row.accepts_images(),
        })
    }

    fn check_allowed(&self, name: &str) -> Result<(), String> {
        let Ok(resolved) = self.registry.resolve(name) else {
            return Ok(());
        };
        if let Some(profile) = &resolved.profile
            && resolved.provider.profile_key_index(profile).is_none()
        {
            return Err(format!(
                "No credentials found for profile \"{profile}\" (provider {}).",
                resolved.provider.id
            ));
        }
        if self
            .registry
            .model_allowed(self.agent.as_deref(), &resolved.reference)
        {
            return Ok(());
        }
        Err(format!(
            "Model \"{}\" is not allowed. Use /model to list available models.",
            resolved.reference
        ))
    }

    fn selectable(&self) -> Option<Vec<String>> {
        self.registry.allowed_models(self.agent.as_deref())
    }
}

#[cfg(test)]
#[path = "agent_settings_tests.rs"]
mod tests;
