//! clawgate-engine: the in-process llama.cpp provider (`api: "llama-cpp"`). It loads one GGUF
//! model into this process, keeps it warm, and serves canonical requests one at a time as a
//! `clawgate_providers::Provider`, so clawgate can answer with no local server running.
//!
//! The real engine sits behind the cargo feature `llama` (it links llama.cpp through
//! `llama-cpp-2`, which needs cmake and libclang to build). Without the feature the crate
//! still compiles: [`LlamaCppProvider`] then fails every call with a clear "built without the
//! embedded engine" error, so the layers above never need their own `cfg`.
//!
//! Must not know about: anything above providers (router, agent, gateway, CLI).

// Pure and unit-tested in every build; only the real engine calls them.
#[cfg_attr(not(feature = "llama"), allow(dead_code))]
mod answer;
#[cfg_attr(not(feature = "llama"), allow(dead_code))]
pub mod chat_template;
mod error;
pub mod openmp_wait;
#[cfg_attr(not(feature = "llama"), allow(dead_code))]
mod prompt;
#[cfg_attr(not(feature = "llama"), allow(dead_code))]
pub mod prompt_plan;
mod provider;
mod spec;
pub mod templates;
pub mod text_stream;
#[cfg_attr(not(feature = "llama"), allow(dead_code))]
pub mod tool_calls;
#[cfg_attr(not(feature = "llama"), allow(dead_code))]
mod transcript;

#[cfg(feature = "llama")]
mod memory;
#[cfg(feature = "llama")]
mod sampling;
#[cfg(feature = "llama")]
mod session;
#[cfg(feature = "llama")]
mod template_choice;
#[cfg(feature = "llama")]
mod worker;

pub use error::EngineError;
pub use provider::LlamaCppProvider;
pub use spec::{
    ChatTemplateSetting, DEFAULT_MAX_TOKENS, DEFAULT_TEMPERATURE, EngineModelSpec, EngineStats,
    FlashAttention, LoadObserver, ModelInfo, SamplingDefaults, TemplateSource, default_threads,
};

/// The `api` value in config that selects this provider.
pub const API_NAME: &str = "llama-cpp";

/// True when this build links llama.cpp (the `llama` feature is on).
pub const EMBEDDED_ENGINE_AVAILABLE: bool = cfg!(feature = "llama");
