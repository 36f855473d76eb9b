//! clawgate-runtime: the assembly. One loaded config becomes [`Services`]: one provider per
//! registry provider (the providers crate's builder, or the in-process engine with the
//! `embedded` feature) on one shared HTTP client, the cooldown store and the router, the
//! precomputed model route table, the gateway token, and the agent runtimes with their settings
//! mapped from the config. Nothing else builds providers: the gateway serves these services and
//! the CLI (`agent`, `models status`, `models test`) uses the very same ones.
//!
//! Must not know about: HTTP servers, the CLI. It owns the config → agent/router mapping so
//! the agent and router crates can stay free of config types.

#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

#[cfg(test)]
mod agent_defaults_tests;
pub mod agent_settings;
mod agent_tool_settings;
#[cfg(test)]
mod config_fixture;
pub mod cooldown_schedule;
pub mod discovery;
mod embedded_engine;
pub mod error;
pub mod gateway_token;
pub mod model_client;
pub mod model_listing;
pub mod model_status;
pub mod model_status_json;
pub mod provider_timeouts;
pub mod reasoning_stream;
pub mod routes;
pub mod services;
pub mod shared_state;

pub use agent_settings::{MAIN_AGENT, RegistryDirectory, agent_ids, agent_settings, default_agent};
pub use embedded_engine::{engine_factory, restart_with_engine_wait_policy};
pub use error::RuntimeError;
pub use model_client::RouterModelClient;
pub use routes::{FallbackMode, ModelRoute, ModelRoutes};
pub use services::{
    ProviderHook, ProviderProblem, Services, ServicesOptions, privileged_gateway_token,
};
pub use shared_state::{SharedState, StateHealth};
