//! `clawgate models status [--probe] [--json] [--check]`: can the configured chain serve right
//! now? Per provider: base URL, api, whether a key is present (redacted, with where it came
//! from), and its cooldown state from the state dir's cooldown store; with `--probe`, whether
//! it answers its model list and how fast, whether each configured model is served, and the
//! context window the server really runs with when it differs from the config (the most
//! common local-model misconfiguration), and what the providers learned about their servers
//! (a Responses server without `/responses`, bridged to chat; models called without tools;
//! models whose inline reasoning is held). `--check` turns "the primary cannot serve" into exit
//! code 1, for scripts and health checks.
//!
//! Providers, router and cooldown store come from `clawgate_runtime::Services`, the one
//! config → providers → router assembly, so this command sees exactly what the gateway uses.
//! Rendering (table and JSON) is in `models_status_render.rs`.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use clawgate_config::{KeySource, LoadedConfig, ModelEntry, ProviderEntry, api_key_env_var};
use clawgate_providers::{DiscoveredModel, LearnedBehaviour, Secret};
use clawgate_router::{CandidateRef, ProbeResult, probe_all, provider_status};
use clawgate_runtime::{Services, ServicesOptions};

use super::models_status_render::{print_human, status_json};
use crate::output::print_json;

/// Providers probed at once.
const PROBE_CONCURRENCY: usize = 8;

#[derive(Debug, Args)]
pub struct ModelsStatusArgs {
    /// Ask each provider for its model list: reachability, latency, served models, context.
    #[arg(long)]
    pub probe: bool,
    /// Time allowed for each probe, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 5_000)]
    pub probe_timeout: u64,
    /// Every provider of the registry, not only the configured ones and those in the chain.
    #[arg(long)]
    pub all: bool,
    /// Exit 1 when the primary model cannot serve (no key, cooling down, unreachable).
    #[arg(long)]
    pub check: bool,
    #[arg(long)]
    pub json: bool,
}

/// Where a provider sits in the default chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Primary,
    Fallback,
    Other,
}

impl Role {
    pub fn name(self) -> Option<&'static str> {
        match self {
            Role::Primary => Some("primary"),
            Role::Fallback => Some("fallback"),
            Role::Other => None,
        }
    }
}

/// The state of a provider's API key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyState {
    /// A real key (shown redacted).
    Present,
    /// A placeholder a local server accepts (`lmstudio`, `sk-local`, ...).
    Placeholder,
    /// No key, and the provider is local: none needed.
    NotNeeded,
    /// No key for a hosted provider, or a secret ref naming an unset variable.
    Missing,
}

impl KeyState {
    pub fn name(self) -> &'static str {
        match self {
            KeyState::Present => "present",
            KeyState::Placeholder => "placeholder",
            KeyState::NotNeeded => "none",
            KeyState::Missing => "missing",
        }
    }
}

#[derive(Debug, Clone)]
pub struct KeyInfo {
    pub state: KeyState,
    /// `sk-a…f3` for a real key.
    pub redacted: Option<String>,
    /// `env ANTHROPIC_API_KEY`, `config`, or for a missing key what to set.
    pub source: Option<String>,
    pub count: usize,
    /// Every key in rotation order: redacted (or `placeholder`) and where it came from.
    pub keys: Vec<(String, String)>,
}

/// A provider's cooldown, when it is blocked now.
#[derive(Debug, Clone)]
pub struct CooldownInfo {
    pub until: u64,
    pub remaining: Duration,
    pub reason: String,
    pub disabled: bool,
    pub error_count: u32,
}

#[derive(Debug)]
pub struct ProviderRow {
    pub entry: ProviderEntry,
    pub role: Role,
    pub key: KeyInfo,
    /// Why no provider object exists (unsupported api, bad header, ...).
    pub problem: Option<String>,
    pub cooldown: Option<CooldownInfo>,
    pub probe: Option<ProbeResult>,
    /// What the provider learned about its server (after a probe, or in a running process).
    pub learned: LearnedBehaviour,
}

#[derive(Debug)]
pub struct ModelRow {
    pub model: ModelEntry,
    pub role: Role,
    /// With `--probe` and a reachable provider: whether its listing names the model.
    pub served: Option<bool>,
    pub loaded: Option<bool>,
    /// The context the server reports, when it reports one.
    pub server_context: Option<u64>,
}

#[derive(Debug)]
pub struct StatusReport {
    pub primary: CandidateRef,
    pub fallbacks: Vec<CandidateRef>,
    pub cooldown_file: String,
    pub cooldown_warning: Option<String>,
    pub probed: bool,
    pub providers: Vec<ProviderRow>,
    pub models: Vec<ModelRow>,
    pub warnings: Vec<String>,
    /// Why the primary cannot serve; empty when it can.
    pub check_problems: Vec<String>,
}

pub fn run(loaded: &LoadedConfig, args: ModelsStatusArgs) -> anyhow::Result<ExitCode> {
    let services = match Services::build(loaded.clone(), ServicesOptions::default()) {
        Ok(services) => services,
        Err(error) => {
            eprintln!("error: {error}");
            return Ok(ExitCode::from(1));
        }
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let report = runtime.block_on(async {
        // With shared state, show every replica's cooldowns, not an empty local view.
        if let Some(shared) = services.shared_state()
            && let Err(error) = shared.catch_up(services.cooldowns()).await
        {
            eprintln!("warning: {error}; cooldowns shown are this process's own");
        }
        collect(&services, &args).await
    });
    if args.json {
        print_json(&status_json(&report))?;
    } else {
        print_human(&report);
    }
    Ok(if args.check && !report.check_problems.is_empty() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Builds the whole report (probing when asked).
pub async fn collect(services: &Services, args: &ModelsStatusArgs) -> StatusReport {
    let loaded = services.loaded();
    let routes = services.routes();
    let primary = routes.primary().clone();
    let fallbacks = routes.fallbacks().to_vec();
    let role_of = |provider: &str| {
        if primary.provider == provider {
            Role::Primary
        } else if fallbacks.iter().any(|f| f.provider == provider) {
            Role::Fallback
        } else {
            Role::Other
        }
    };
    let mut providers: Vec<ProviderRow> = shown_providers(services, &primary, &fallbacks, args.all)
        .into_iter()
        .map(|entry| ProviderRow {
            role: role_of(&entry.id),
            key: key_info(&entry),
            problem: services
                .provider_problems()
                .iter()
                .find(|p| p.provider == entry.id)
                .map(|p| p.message.clone()),
            cooldown: None,
            probe: None,
            learned: LearnedBehaviour::default(),
            entry,
        })
        .collect();
    fill_cooldowns(services, &mut providers);
    if args.probe {
        probe_providers(services, &mut providers, args).await;
    }
    for row in &mut providers {
        if let Some(target) = services.router().providers().get(&row.entry.id) {
            row.learned = target.provider.learned();
        }
    }
    let mut warnings = profile_warnings(&providers);
    let models = model_rows(services, &providers, &primary, &fallbacks, &mut warnings);
    let check_problems = check_primary(&primary, &providers, args.probe);
    let state_dir = &loaded.location.state_dir;
    StatusReport {
        primary,
        fallbacks,
        cooldown_file: clawgate_router::cooldown_file_path(state_dir)
            .display()
            .to_string(),
        cooldown_warning: services.cooldowns().load_warning().map(str::to_string),
        probed: args.probe,
        providers,
        models,
        warnings,
        check_problems,
    }
}

/// The chain's providers first (primary, then fallbacks, in order), then the other configured
/// providers (or, with `all`, every registry provider) in registry order.
fn shown_providers(
    services: &Services,
    primary: &CandidateRef,
    fallbacks: &[CandidateRef],
    all: bool,
) -> Vec<ProviderEntry> {
    let registry = services.registry();
    let mut ids: Vec<String> = Vec::new();
    for candidate in std::iter::once(primary).chain(fallbacks) {
        if !ids.contains(&candidate.provider) {
            ids.push(candidate.provider.clone());
        }
    }
    for entry in registry.providers() {
        if (all || entry.configured) && !ids.contains(&entry.id) {
            ids.push(entry.id.clone());
        }
    }
    ids.iter()
        .filter_map(|id| registry.provider(id).cloned())
        .collect()
}

/// `sk-a…f3`: enough to tell two keys apart, never enough to use one.
pub fn redact_key(key: &str) -> String {
    let chars: Vec<char> = key.chars().collect();
    if chars.len() < 12 {
        return "…".to_string();
    }
    let head: String = chars[..4].iter().collect();
    let tail: String = chars[chars.len() - 2..].iter().collect();
    format!("{head}…{tail}")
}

/// Where a key came from, as the config crate recorded it: `config` for a literal, `env NAME`
/// for an env secret ref or the provider's env variables, `secret exec:vault:openai` for a
/// file or exec ref, `openclaw-profile anthropic:manual` for OpenClaw's auth-profile store.
fn source_text(source: &KeySource) -> String {
    match source {
        KeySource::Config | KeySource::None => "config".to_string(),
        KeySource::SecretRef(name) | KeySource::Env(name) | KeySource::EnvList(name) => {
            format!("env {name}")
        }
        KeySource::Secret(label) => format!("secret {label}"),
        KeySource::OpenClawProfile(id) => format!("openclaw-profile {id}"),
    }
}

fn key_source_text(entry: &ProviderEntry) -> String {
    source_text(&entry.key_source())
}

fn key_lines(entry: &ProviderEntry) -> Vec<(String, String)> {
    entry
        .api_keys
        .iter()
        .zip(&entry.key_sources)
        .map(|(key, source)| {
            let shown = if Secret::new(key.clone()).is_placeholder() {
                "placeholder".to_string()
            } else {
                redact_key(key)
            };
            (shown, source_text(source))
        })
        .collect()
}

pub fn key_info(entry: &ProviderEntry) -> KeyInfo {
    let count = entry.api_keys.len();
    let Some(first) = entry.api_keys.first() else {
        if let Some(unset) = entry.missing_secrets.first() {
            return KeyInfo {
                state: KeyState::Missing,
                redacted: None,
                source: Some(format!("env {unset} is not set")),
                count,
                keys: Vec::new(),
            };
        }
        let state = if entry.is_local {
            KeyState::NotNeeded
        } else {
            KeyState::Missing
        };
        return KeyInfo {
            state,
            redacted: None,
            source: (state == KeyState::Missing)
                .then(|| format!("set {}", api_key_env_var(&entry.id))),
            count,
            keys: Vec::new(),
        };
    };
    if Secret::new(first.clone()).is_placeholder() {
        return KeyInfo {
            state: KeyState::Placeholder,
            redacted: None,
            source: None,
            count,
            keys: key_lines(entry),
        };
    }
    KeyInfo {
        state: KeyState::Present,
        redacted: Some(redact_key(first)),
        source: Some(key_source_text(entry)),
        count,
        keys: key_lines(entry),
    }
}

fn fill_cooldowns(services: &Services, providers: &mut [ProviderRow]) {
    let router = services.router();
    let now = router.clock().now_ms();
    for status in provider_status(router) {
        let Some(row) = providers.iter_mut().find(|r| r.entry.id == status.provider) else {
            continue;
        };
        let (Some(until), Some(reason)) = (status.blocked_until, status.blocked_reason) else {
            continue;
        };
        let entries = status.entries.iter().map(|(_, entry)| entry);
        row.cooldown = Some(CooldownInfo {
            until,
            remaining: Duration::from_millis(until.saturating_sub(now)),
            reason,
            disabled: status
                .entries
                .iter()
                .any(|(_, e)| e.disabled_until.is_some_and(|d| d > now)),
            error_count: entries.map(|e| e.error_count).max().unwrap_or(0),
        });
    }
}

/// OpenClaw auth profiles a shown provider's order names that give it no key (an expired
/// token, a type mismatch, …): the user would expect them to be used.
fn profile_warnings(providers: &[ProviderRow]) -> Vec<String> {
    providers
        .iter()
        .flat_map(|row| {
            row.entry.skipped_profiles.iter().map(move |skip| {
                format!(
                    "{}: auth profile {} is not used: {}",
                    row.entry.id, skip.profile_id, skip.reason
                )
            })
        })
        .collect()
}

/// Probes every shown provider that has a provider object, concurrently, with a spinner on
/// a terminal.
async fn probe_providers(
    services: &Services,
    providers: &mut [ProviderRow],
    args: &ModelsStatusArgs,
) {
    let router = services.router();
    let targets: Vec<_> = providers
        .iter()
        .filter_map(|row| router.providers().get(&row.entry.id))
        .collect();
    let spinner = (std::io::stdout().is_terminal() && !args.json).then(|| {
        let bar = indicatif::ProgressBar::new_spinner();
        bar.set_message(format!("probing {} providers…", targets.len()));
        bar.enable_steady_tick(Duration::from_millis(100));
        bar
    });
    let results = probe_all(
        targets.iter().map(|target| target.provider.as_ref()),
        Duration::from_millis(args.probe_timeout),
        PROBE_CONCURRENCY,
    )
    .await;
    if let Some(bar) = spinner {
        bar.finish_and_clear();
    }
    for result in results {
        if let Some(row) = providers.iter_mut().find(|r| r.entry.id == result.provider) {
            row.probe = Some(result);
        }
    }
}

/// The configured models of the shown providers (chain first), with what the probe found,
/// and the warnings a user should act on.
fn model_rows(
    services: &Services,
    providers: &[ProviderRow],
    primary: &CandidateRef,
    fallbacks: &[CandidateRef],
    warnings: &mut Vec<String>,
) -> Vec<ModelRow> {
    let registry = services.registry();
    let in_chain = |m: &ModelEntry| {
        let candidate = CandidateRef::new(m.provider.clone(), m.id.clone());
        if candidate == *primary {
            Role::Primary
        } else if fallbacks.contains(&candidate) {
            Role::Fallback
        } else {
            Role::Other
        }
    };
    let mut rows: Vec<ModelRow> = providers
        .iter()
        .flat_map(|p| registry.models_of(&p.entry.id))
        .filter(|m| m.configured || in_chain(m) != Role::Other)
        .map(|m| ModelRow {
            role: in_chain(m),
            model: m.clone(),
            served: None,
            loaded: None,
            server_context: None,
        })
        .collect();
    rows.sort_by_key(|row| match row.role {
        Role::Primary => 0,
        Role::Fallback => {
            1 + fallbacks
                .iter()
                .position(|f| f.provider == row.model.provider && f.model == row.model.id)
                .unwrap_or(0)
        }
        Role::Other => usize::MAX,
    });
    for row in &mut rows {
        let probe = providers
            .iter()
            .find(|p| p.entry.id == row.model.provider)
            .and_then(|p| p.probe.as_ref())
            .filter(|probe| probe.reachable);
        if let Some(probe) = probe {
            apply_probe(row, probe, warnings);
        }
    }
    rows
}

fn apply_probe(row: &mut ModelRow, probe: &ProbeResult, warnings: &mut Vec<String>) {
    let reference = &row.model.reference;
    let found: Option<&DiscoveredModel> = probe.models.iter().find(|d| d.id == row.model.id);
    row.served = Some(found.is_some());
    let Some(found) = found else {
        let listed: Vec<&str> = probe.models.iter().take(5).map(|d| d.id.as_str()).collect();
        let more = if probe.models.len() > listed.len() {
            ", …"
        } else {
            ""
        };
        warnings.push(format!(
            "{reference}: not served by {} (it lists: {}{more})",
            row.model.provider,
            if listed.is_empty() {
                "nothing".to_string()
            } else {
                listed.join(", ")
            }
        ));
        return;
    };
    row.loaded = found.loaded;
    row.server_context = found.context_window;
    let configured = row.model.context_window;
    if let Some(server) = found.context_window
        && server < configured
    {
        warnings.push(format!(
            "{reference}: server reports context {server}, config says {configured} — set contextWindow: {server}"
        ));
    }
}

/// Why the primary cannot serve now (empty = it can): its provider could not be built, has
/// no key while hosted, is cooling down, or (with a probe) did not answer.
fn check_primary(primary: &CandidateRef, providers: &[ProviderRow], probed: bool) -> Vec<String> {
    let mut problems = Vec::new();
    let Some(row) = providers.iter().find(|r| r.entry.id == primary.provider) else {
        return vec![format!("provider {} is not configured", primary.provider)];
    };
    if let Some(problem) = &row.problem {
        problems.push(format!("provider {}: {problem}", row.entry.id));
    }
    if row.key.state == KeyState::Missing && !row.entry.is_local {
        let hint = row.key.source.clone().unwrap_or_default();
        problems.push(format!("provider {} has no API key ({hint})", row.entry.id));
    }
    if let Some(cooldown) = &row.cooldown {
        let state = if cooldown.disabled {
            "disabled"
        } else {
            "cooling down"
        };
        problems.push(format!(
            "provider {} is {state} for {} ({})",
            row.entry.id,
            clawgate_router::clock::human_duration(cooldown.remaining),
            cooldown.reason
        ));
    }
    if probed
        && let Some(probe) = &row.probe
        && !probe.reachable
    {
        let why = probe
            .error
            .as_ref()
            .map_or_else(String::new, |e| format!(": {}", e.message));
        problems.push(format!("provider {} is unreachable{why}", row.entry.id));
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_redacted_to_six_characters() {
        assert_eq!(redact_key("sk-ant-api03-abcdefghijklmnopf3"), "sk-a…f3");
        assert_eq!(redact_key("short"), "…");
    }
}
