//! The effective model registry: built-in catalog + implicit local providers + config, merged
//! the way OpenClaw's `models.mode` says.
//!
//! `merge` (default): catalog and implicit providers stay registered; a config provider with a
//! known id overrides field by field, and a config row with a known id overrides only the
//! fields it sets. `replace`: only what the config declares. Each row keeps its layers (base =
//! catalog or discovered, top = config) so discovery can refresh the base later without losing
//! what the user wrote. Refs named anywhere in the config (primary, fallbacks, aliases) get a
//! row even when nothing describes the model yet (defaults apply), so they always resolve.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Serialize, Serializer};

use crate::auth_profiles::SkippedProfile;
use crate::decode::{redact, redact_url};
use crate::env::EnvVars;
use crate::refs::ModelRef;
use crate::schema::{
    ApiKind, ChatTemplateConfig, ClawgateConfig, CostConfig, EngineParams, InputKind, ModelCompat,
    ModelConfig, ModelSelection, ModelsMode, ProviderConfig, ProviderTimeouts,
};
use crate::secret_values::Secrets;

pub const DEFAULT_CONTEXT_WINDOW: u64 = 200_000;
pub const DEFAULT_MAX_TOKENS: u64 = 8_192;
/// OpenClaw's default for discovered local rows whose server reports no window.
pub const DISCOVERED_CONTEXT_WINDOW: u64 = 128_000;
/// Used when the config names no primary and declares no model of its own.
pub const DEFAULT_PRIMARY: &str = "anthropic/claude-opus-4-6";

/// Where a provider or row came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RowSource {
    Config,
    Catalog,
    Implicit,
    Discovered,
}

impl RowSource {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Config => "config",
            Self::Catalog => "catalog",
            Self::Implicit => "implicit",
            Self::Discovered => "discovered",
        }
    }
}

fn redact_keys<S: Serializer>(keys: &[String], s: S) -> Result<S::Ok, S::Error> {
    keys.iter()
        .map(|k| redact(k))
        .collect::<Vec<_>>()
        .serialize(s)
}

fn redact_base_url<S: Serializer>(url: &str, s: S) -> Result<S::Ok, S::Error> {
    redact_url(url).serialize(s)
}

fn redact_headers<S: Serializer>(h: &BTreeMap<String, String>, s: S) -> Result<S::Ok, S::Error> {
    h.iter()
        .map(|(k, v)| (k.clone(), redact(v)))
        .collect::<BTreeMap<_, _>>()
        .serialize(s)
}

/// Debug output goes through the redacting `Serialize` impls, so logging a provider or a
/// row never prints a key or a header value.
macro_rules! debug_via_serialize {
    ($t:ty) => {
        impl std::fmt::Debug for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                let json = serde_json::to_string(self).map_err(|_| std::fmt::Error)?;
                write!(f, "{}{json}", stringify!($t))
            }
        }
    };
}
debug_via_serialize!(ProviderEntry);
debug_via_serialize!(ModelEntry);

/// Where one resolved API key came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "name", rename_all = "camelCase")]
pub enum KeySource {
    /// A literal `apiKey` / `apiKeys` value in the config.
    Config,
    /// A `{source: "env", id}` secret ref in the config; the variable it names.
    SecretRef(String),
    /// A `{source: "file"|"exec", …}` secret ref in the config; its `source:provider:id`.
    Secret(String),
    /// A profile of OpenClaw's auth-profile store (`anthropic:manual`).
    OpenClawProfile(String),
    /// `<PROVIDER>_API_KEY` or `<PROVIDER>_API_KEY_<n>` (used when the config gives no key).
    Env(String),
    /// One item of the `<PROVIDER>_API_KEYS` list.
    EnvList(String),
    /// The provider has no key.
    None,
}

/// One provider as the router and adapters see it.
#[derive(Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProviderEntry {
    pub id: String,
    /// Empty only for an in-process `llama-cpp` provider. Serialised (and debug-printed)
    /// with credentials masked (`redact_url`).
    #[serde(serialize_with = "redact_base_url")]
    pub base_url: String,
    pub api: ApiKind,
    /// Resolved keys, in rotation order (config first; env only when config gives none).
    #[serde(serialize_with = "redact_keys")]
    pub api_keys: Vec<String>,
    /// Where each of `api_keys` came from (same order, same length).
    pub key_sources: Vec<KeySource>,
    /// Env variables that secret refs named but that are not set.
    pub missing_secrets: Vec<String>,
    /// OpenClaw auth profiles this provider's order names that give no key, and why
    /// (expired token, wrong type, not in the store, …).
    pub skipped_profiles: Vec<SkippedProfile>,
    pub auth_header: bool,
    #[serde(serialize_with = "redact_headers")]
    pub headers: BTreeMap<String, String>,
    pub timeout_seconds: Option<u64>,
    pub timeouts: ProviderTimeouts,
    pub inject_num_ctx_for_openai_compat: bool,
    pub params: Option<crate::schema::ModelParams>,
    /// llama-cpp: the provider's `params` as engine settings (defaults for its rows).
    pub engine_params: Option<EngineParams>,
    pub model_dir: Option<PathBuf>,
    /// Its models are discovered at run time (`discover`; default: the implicit local ids).
    pub discover: bool,
    /// Loopback or private-network base URL (or in-process).
    pub is_local: bool,
    pub source: RowSource,
    /// Declared in the config's `models.providers`.
    pub configured: bool,
    #[serde(skip)]
    pub(crate) row_defaults: RowDefaults,
}

impl ProviderEntry {
    /// Where the first key (the one used first) came from; `KeySource::None` without a key.
    pub fn key_source(&self) -> KeySource {
        self.key_sources.first().cloned().unwrap_or(KeySource::None)
    }

    /// The position in `api_keys` of the key that OpenClaw auth profile `profile` gave.
    pub fn profile_key_index(&self, profile: &str) -> Option<usize> {
        self.key_sources
            .iter()
            .position(|s| matches!(s, KeySource::OpenClawProfile(id) if id == profile))
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct RowDefaults {
    pub context_window: Option<u64>,
    pub context_tokens: Option<u64>,
    pub max_tokens: Option<u64>,
}

/// USD per million tokens.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelCost {
    pub input: f64,
    pub output: f64,
    pub cache_read: f64,
    pub cache_write: f64,
}

/// One model row with every default applied.
#[derive(Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelEntry {
    #[serde(rename = "ref")]
    pub reference: String,
    pub provider: String,
    pub id: String,
    pub name: String,
    pub api: ApiKind,
    pub reasoning: bool,
    pub input: Vec<InputKind>,
    pub cost: ModelCost,
    pub context_window: u64,
    pub context_tokens: Option<u64>,
    pub max_tokens: u64,
    #[serde(serialize_with = "redact_headers")]
    pub headers: BTreeMap<String, String>,
    pub compat: ModelCompat,
    /// `agents.defaults.models["<this ref>"].params` (the provider's `params` are separate:
    /// [`ProviderEntry::params`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub params: Option<crate::schema::ModelParams>,
    pub path: Option<PathBuf>,
    /// llama-cpp rows: the engine settings (the provider's `params`, overridden key by key by
    /// the row's); `None` for rows served over HTTP.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub engine: Option<EngineParams>,
    pub source: RowSource,
    /// Declared or referenced by the config.
    pub configured: bool,
}

impl ModelEntry {
    pub fn model_ref(&self) -> ModelRef {
        ModelRef {
            provider: self.provider.clone(),
            model: self.id.clone(),
        }
    }

    /// The usable input window: `contextTokens` when it is below the native window.
    pub fn effective_context(&self) -> u64 {
        self.context_tokens
            .map_or(self.context_window, |t| t.min(self.context_window))
    }

    pub fn accepts_images(&self) -> bool {
        self.input.contains(&InputKind::Image)
    }
}

/// The layers one row is computed from.
#[derive(Debug, Clone)]
pub(crate) struct RowLayers {
    pub provider: String,
    pub id: String,
    pub base: Option<(ModelConfig, RowSource)>,
    pub config: Option<ModelConfig>,
    pub referenced: bool,
}

/// Model selection as configured (strings; resolve them with `Registry::resolve`).
#[derive(Debug, Clone, Default)]
pub(crate) struct SelectionConfig {
    pub defaults: Option<ModelSelection>,
    pub image: Option<ModelSelection>,
    pub agents: Vec<(String, Option<ModelSelection>)>,
    /// The model allowlists as written (see `crate::model_policy`).
    pub policy: crate::model_policy::PolicyConfig,
}

/// The effective registry. Build it with [`crate::load`] or [`Registry::build`].
#[derive(Debug, Clone)]
pub struct Registry {
    pub(crate) mode: ModelsMode,
    pub(crate) providers: Vec<ProviderEntry>,
    pub(crate) rows: Vec<RowLayers>,
    pub(crate) models: Vec<ModelEntry>,
    /// (alias as written, target)
    pub(crate) aliases: Vec<(String, ModelRef)>,
    pub(crate) selection: SelectionConfig,
    /// `embedded/gemma-3-270m` when the demo model is registered: the default primary when
    /// nothing is configured.
    pub(crate) embedded_default: Option<String>,
    /// The loader's environment and resolved secret refs (row headers resolve against them).
    pub(crate) secrets: Secrets,
    /// `agents.defaults.models[ref].params`, by ref.
    pub(crate) model_params: Vec<(ModelRef, crate::schema::ModelParams)>,
}

impl Registry {
    pub fn mode(&self) -> ModelsMode {
        self.mode
    }

    pub fn providers(&self) -> &[ProviderEntry] {
        &self.providers
    }

    pub fn provider(&self, id: &str) -> Option<&ProviderEntry> {
        let id = crate::refs::normalize_provider_id(id);
        self.providers.iter().find(|p| p.id == id)
    }

    /// Every row, providers in registry order, rows in declaration order.
    pub fn models(&self) -> &[ModelEntry] {
        &self.models
    }

    pub fn model(&self, reference: &ModelRef) -> Option<&ModelEntry> {
        self.models
            .iter()
            .find(|m| m.provider == reference.provider && m.id == reference.model)
    }

    pub fn models_of(&self, provider: &str) -> impl Iterator<Item = &ModelEntry> {
        let id = crate::refs::normalize_provider_id(provider);
        self.models.iter().filter(move |m| m.provider == id)
    }

    /// `(alias, target)` pairs as configured.
    pub fn aliases(&self) -> &[(String, ModelRef)] {
        &self.aliases
    }

    /// The alias pointing at `reference`, if any.
    pub fn alias_of(&self, reference: &ModelRef) -> Option<&str> {
        self.aliases
            .iter()
            .find(|(_, r)| r == reference)
            .map(|(a, _)| a.as_str())
    }

    /// Recomputes every row from its layers (after discovery changed a base layer).
    pub(crate) fn recompute(&mut self) {
        let mut models = Vec::with_capacity(self.rows.len());
        for p in &self.providers {
            for layers in self.rows.iter().filter(|r| r.provider == p.id) {
                let mut entry = compute_entry(p, layers, &self.secrets);
                entry.params = self
                    .model_params
                    .iter()
                    .find(|(r, _)| r.provider == entry.provider && r.model == entry.id)
                    .map(|(_, params)| params.clone());
                models.push(entry);
            }
        }
        self.models = models;
    }
}

/// Field-by-field overlay of two rows: `top` wins where it sets a field.
pub(crate) fn overlay_row(base: &ModelConfig, top: &ModelConfig) -> ModelConfig {
    let cost = match (&base.cost, &top.cost) {
        (Some(b), Some(t)) => Some(CostConfig {
            input: t.input.or(b.input),
            output: t.output.or(b.output),
            cache_read: t.cache_read.or(b.cache_read),
            cache_write: t.cache_write.or(b.cache_write),
        }),
        (b, t) => t.clone().or_else(|| b.clone()),
    };
    let headers = match (&base.headers, &top.headers) {
        (Some(b), Some(t)) => {
            let mut h = b.clone();
            h.extend(t.clone());
            Some(h)
        }
        (b, t) => t.clone().or_else(|| b.clone()),
    };
    ModelConfig {
        id: base.id.clone(),
        name: top.name.clone().or_else(|| base.name.clone()),
        api: top.api.or(base.api),
        reasoning: top.reasoning.or(base.reasoning),
        input: top.input.clone().or_else(|| base.input.clone()),
        cost,
        context_window: top.context_window.or(base.context_window),
        context_tokens: top.context_tokens.or(base.context_tokens),
        max_tokens: top.max_tokens.or(base.max_tokens),
        headers,
        compat: top.compat.clone().or_else(|| base.compat.clone()),
        path: top.path.clone().or_else(|| base.path.clone()),
        params: match (&base.params, &top.params) {
            (Some(b), Some(t)) => Some(b.overridden_by(t)),
            (b, t) => t.clone().or_else(|| b.clone()),
        },
        pos: top.pos.clone().or_else(|| base.pos.clone()),
        params_pos: top.params_pos.clone().or_else(|| base.params_pos.clone()),
    }
}

/// Field-by-field overlay of two provider entries (rows are merged separately).
pub(crate) fn overlay_provider(base: &ProviderConfig, top: &ProviderConfig) -> ProviderConfig {
    let headers = match (&base.headers, &top.headers) {
        (Some(b), Some(t)) => {
            let mut h = b.clone();
            h.extend(t.clone());
            Some(h)
        }
        (b, t) => t.clone().or_else(|| b.clone()),
    };
    ProviderConfig {
        base_url: top
            .base_url
            .clone()
            .filter(|u| !u.is_empty())
            .or_else(|| base.base_url.clone()),
        api_key: top.api_key.clone().or_else(|| base.api_key.clone()),
        api_keys: top.api_keys.clone().or_else(|| base.api_keys.clone()),
        api: top.api.or(base.api),
        auth_header: top.auth_header.or(base.auth_header),
        headers,
        timeout_seconds: top.timeout_seconds.or(base.timeout_seconds),
        timeouts: top.timeouts.clone().or_else(|| base.timeouts.clone()),
        inject_num_ctx_for_openai_compat: top
            .inject_num_ctx_for_openai_compat
            .or(base.inject_num_ctx_for_openai_compat),
        context_window: top.context_window.or(base.context_window),
        context_tokens: top.context_tokens.or(base.context_tokens),
        max_tokens: top.max_tokens.or(base.max_tokens),
        params: match (&base.params, &top.params) {
            (Some(b), Some(t)) => Some(b.overlaid_by(t)),
            (b, t) => t.clone().or_else(|| b.clone()),
        },
        engine_params: match (&base.engine_params, &top.engine_params) {
            (Some(b), Some(t)) => Some(b.overridden_by(t)),
            (b, t) => t.clone().or_else(|| b.clone()),
        },
        model_dir: top.model_dir.clone().or_else(|| base.model_dir.clone()),
        discover: top.discover.or(base.discover),
        models: None,
        pos: top.pos.clone().or_else(|| base.pos.clone()),
        base_url_given: top.base_url_given || base.base_url_given,
    }
}

/// The env variable a provider's single key is read from: `<PROVIDER>_API_KEY`, the id
/// upper-cased with every other character turned into `_` (`my-box.ai` → `MY_BOX_AI_API_KEY`).
pub fn api_key_env_var(provider: &str) -> String {
    let prefix: String = provider
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    format!("{prefix}_API_KEY")
}

/// `<PROVIDER>_API_KEYS` (comma/semicolon list), `<PROVIDER>_API_KEY`, `<PROVIDER>_API_KEY_<n>`,
/// de-duplicated (a key keeps the source it was first found under).
pub(crate) fn env_keys(provider: &str, env: &EnvVars) -> Vec<(String, KeySource)> {
    let single = api_key_env_var(provider);
    let list_var = format!("{single}S");
    let mut keys: Vec<(String, KeySource)> = Vec::new();
    if let Some(list) = env.non_empty(&list_var) {
        keys.extend(
            list.split([',', ';'])
                .map(str::trim)
                .filter(|k| !k.is_empty())
                .map(|k| (k.to_string(), KeySource::EnvList(list_var.clone()))),
        );
    }
    if let Some(k) = env.non_empty(&single) {
        keys.push((k.to_string(), KeySource::Env(single.clone())));
    }
    for n in 1..=32 {
        let var = format!("{single}_{n}");
        match env.non_empty(&var) {
            Some(k) => keys.push((k.to_string(), KeySource::Env(var))),
            None => break,
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    keys.retain(|(k, _)| seen.insert(k.clone()));
    keys
}

/// Loopback, private-network, link-local or `localhost`-style hosts (and in-process).
pub fn is_local_url(base_url: &str) -> bool {
    if base_url.is_empty() {
        return true;
    }
    let Ok(url) = url::Url::parse(base_url) else {
        return false;
    };
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback() || ip.is_private() || ip.is_link_local(),
        Some(url::Host::Ipv6(ip)) => {
            ip.is_loopback()
                || (ip.segments()[0] & 0xfe00) == 0xfc00
                || (ip.segments()[0] & 0xffc0) == 0xfe80
        }
        Some(url::Host::Domain(d)) => {
            let d = d.to_ascii_lowercase();
            d == "localhost"
                || d.ends_with(".localhost")
                || d.ends_with(".local")
                || d == "host.docker.internal"
        }
        None => false,
    }
}

pub(crate) fn compute_entry(
    provider: &ProviderEntry,
    layers: &RowLayers,
    secrets: &Secrets,
) -> ModelEntry {
    let empty = ModelConfig::bare(&layers.id);
    let merged = match (&layers.base, &layers.config) {
        (Some((b, _)), Some(c)) => overlay_row(b, c),
        (Some((b, _)), None) => b.clone(),
        (None, Some(c)) => c.clone(),
        (None, None) => empty,
    };
    let source = layers.base.as_ref().map_or(RowSource::Config, |(_, s)| *s);
    let d = provider.row_defaults;
    let window_default = if source == RowSource::Discovered {
        DISCOVERED_CONTEXT_WINDOW
    } else {
        DEFAULT_CONTEXT_WINDOW
    };
    let cost = merged.cost.unwrap_or_default();
    let headers = merged
        .headers
        .unwrap_or_default()
        .iter()
        .filter_map(|(k, v)| secrets.resolve(v).ok().map(|v| (k.clone(), v)))
        .collect();
    let in_dir = |p: PathBuf| match &provider.model_dir {
        Some(dir) if p.is_relative() && !p.starts_with("~") => dir.join(p),
        _ => p,
    };
    let path = merged.path.map(in_dir);
    let api = merged.api.unwrap_or(provider.api);
    let engine = (api == ApiKind::LlamaCpp).then(|| {
        let mut params = provider
            .engine_params
            .clone()
            .unwrap_or_default()
            .overridden_by(&merged.params.clone().unwrap_or_default());
        if let Some(ChatTemplateConfig::File(file)) = &mut params.chat_template {
            *file = in_dir(std::mem::take(file));
        }
        params
    });
    // An engine row's window is the context it allocates, unless the row says otherwise.
    let engine_window = engine.as_ref().and_then(|e| e.context_size).map(u64::from);
    ModelEntry {
        reference: format!("{}/{}", provider.id, layers.id),
        provider: provider.id.clone(),
        id: layers.id.clone(),
        name: merged.name.unwrap_or_else(|| layers.id.clone()),
        api,
        reasoning: merged.reasoning.unwrap_or(false),
        input: merged.input.unwrap_or_else(|| vec![InputKind::Text]),
        cost: ModelCost {
            input: cost.input.unwrap_or(0.0),
            output: cost.output.unwrap_or(0.0),
            cache_read: cost.cache_read.unwrap_or(0.0),
            cache_write: cost.cache_write.unwrap_or(0.0),
        },
        context_window: merged
            .context_window
            .or(engine_window)
            .or(d.context_window)
            .unwrap_or(window_default),
        context_tokens: merged.context_tokens.or(d.context_tokens),
        max_tokens: merged
            .max_tokens
            .or(d.max_tokens)
            .unwrap_or(DEFAULT_MAX_TOKENS),
        headers,
        compat: merged.compat.unwrap_or_default(),
        params: None,
        path,
        engine,
        source,
        configured: layers.config.is_some() || layers.referenced,
    }
}

impl ModelConfig {
    /// A row with only an id.
    pub fn bare(id: &str) -> Self {
        Self {
            id: id.to_string(),
            name: None,
            api: None,
            reasoning: None,
            input: None,
            cost: None,
            context_window: None,
            context_tokens: None,
            max_tokens: None,
            headers: None,
            compat: None,
            path: None,
            params: None,
            pos: None,
            params_pos: None,
        }
    }
}

pub(crate) fn selection_from(config: &ClawgateConfig) -> SelectionConfig {
    SelectionConfig {
        defaults: config.agents.defaults.model.clone(),
        image: config.agents.defaults.image_model.clone(),
        agents: config
            .agents
            .list
            .iter()
            .map(|a| (a.id.clone(), a.model.clone()))
            .collect(),
        policy: crate::model_policy::PolicyConfig::from_config(config),
    }
}
