//! clawgate-config: loading OpenClaw-compatible JSON5 config (`$include`, `${VAR}`, `.env`),
//! the typed schema, validation diagnostics with JSON path and line/column, the effective model
//! registry (built-in catalog + implicit local providers + config, `merge`/`replace`), model
//! refs and aliases, and comment-preserving edits for the CLI's writing commands.
//!
//! Must not know about: HTTP, async.
//!
//! Entry points: [`load`] (with [`LoadOptions`]) gives a [`LoadedConfig`] holding the typed
//! [`ClawgateConfig`] and the [`Registry`]; `Registry::resolve`, `Registry::chain` and
//! `Registry::merge_discovered` are what the router, agent and gateway use.

#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod auth_profiles;
pub mod auth_store;
pub mod catalog;
pub mod decode;
pub mod diagnostic;
pub mod edit;
pub mod env;
pub mod error;
pub mod exec_approvals;
pub mod include;
pub mod load;
pub mod model_policy;
pub mod provider_keys;
pub mod refs;
pub mod registry;
mod registry_build;
pub mod resolve;
pub mod schema;
mod secret_exec;
mod secret_file;
pub mod secret_values;
pub mod source;
pub mod validation;

pub use diagnostic::{Diagnostic, Location, Severity};
pub use env::{EnvOrigin, EnvVars};
pub use error::ConfigError;
pub use load::{
    ConfigLocation, ConfigSource, LoadOptions, LoadedConfig, load, load_at, locate, openclaw_dirs,
};
pub use provider_keys::KeyMaterial;
pub use refs::{ModelRef, ParsedRef, normalize_provider_id, parse_ref};
pub use registry::{
    KeySource, ModelCost, ModelEntry, ProviderEntry, Registry, RowSource, api_key_env_var,
    is_local_url,
};
pub use resolve::{DiscoveredRow, ModelChain, ResolvedModel, Selection};
pub use schema::{
    ApiKind, ChatTemplateConfig, ClawgateConfig, EngineParams, FlashAttentionConfig, InputKind,
    ModelCompat, StateBackend, StateConfig,
};
pub use secret_values::{Secrets, Unresolved};
pub use validation::{ValidationReport, validate};
