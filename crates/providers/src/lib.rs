//! clawgate-providers: talking to one upstream. The `Provider` trait, one adapter per `api`
//! dialect built on the pure codecs in `clawgate-wire`, the shared HTTP client, compat flags,
//! model discovery, and the one place upstream failures are classified into a [`FailureKind`].
//!
//! Must not know about: fallbacks, cooldowns, sessions. A provider makes one attempt and says
//! exactly how it went.
//!
//! Entry points: build a [`HttpClient`] once, describe each upstream as a [`ProviderSpec`]
//! (or convert the config registry with [`specs_from_registry`] / [`spec_for_model`]), and call
//! [`build_provider`]. Classification is exposed for callers that see errors of their own:
//! [`classify_http_error`], [`classify_wire_error`], [`classify_transport_error`].

pub mod adapters;
pub mod answer_guard;
pub mod answer_shaping;
pub mod body_events;
pub mod build;
pub mod chat_compat;
pub mod classify;
pub mod classify_table;
pub mod compat;
pub mod discovery;
mod embedding_call;
pub mod endpoint;
pub mod failure;
pub mod from_config;
pub mod html_entity_arguments;
pub mod http_call;
pub mod http_client;
pub mod learned;
pub mod mistral_tool_ids;
mod parsed_url;
pub mod provider;
pub mod request_params;
pub mod secret;
pub mod spec;
pub mod tool_call_ids;
pub mod tool_schema;
pub mod upstream_body;

pub use answer_guard::{OverflowHint, estimate_prompt_tokens};
pub use build::{EngineFactory, ProviderBuildError, build_provider, build_provider_with_engine};
pub use classify::{
    classify_http_error, classify_transport_error, classify_wire_error, parse_overflow_counts,
};
pub use failure::{FailureKind, NetworkCause, ProviderError};
pub use from_config::{spec_for_model, spec_from_config, specs_from_registry};
pub use http_client::HttpClient;
pub use learned::LearnedBehaviour;
pub use provider::{CallContext, DiscoveredModel, EventStream, Provider};
pub use secret::{Secret, redact_secrets};
pub use spec::{
    ApiKind, CompatFlags, MaxTokensField, ModelInfo, ModelParams, ProviderSpec, ThinkingFormat,
    ToolCallArgumentsEncoding, ToolSchemaProfile,
};
