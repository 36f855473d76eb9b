//! clawgate-gateway: the HTTP server. Inbound dialects (OpenAI chat completions, OpenAI
//! Responses, Anthropic Messages, Ollama's `/api/chat` and `/api/generate`) decoded into the
//! canonical request, routed through the router (or run as an agent turn), and encoded back
//! in the client's own dialect; Ollama's model list and details; auth, limits, Prometheus
//! metrics, graceful shutdown and config reload.
//!
//! Must not know about: the CLI (it parses no flags and installs no logging).
//!
//! Entry points: [`Gateway::start`] (bind and serve the `clawgate_runtime::Services` one config
//! was assembled into), [`Gateway::reload`],
//! [`Gateway::shutdown`] / [`Gateway::run_until_signal`]. The user-facing description is
//! `docs/gateway.md`. The Control UI (a page at `/`, its assets in `ui/` compiled in, and JSON
//! endpoints under `/clawgate/v1/`) is described in `docs/control-ui.md`.

#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

mod accept_log;
mod agent_turn;
pub mod auth;
mod authorized;
mod body_budget;
mod browser_guard;
mod control_api;
mod control_approvals;
mod control_sessions;
mod control_ui;
pub mod dialect;
mod discovered;
mod embeddings_api;
pub mod error;
pub mod error_response;
mod http_api;
mod http_layer;
mod idle_release;
pub mod metrics;
mod models_api;
mod ollama_answer;
pub mod ollama_api;
mod reload_guard;
pub mod request_log;
mod request_record;
mod routed;
mod server;
mod sse_body;
pub mod target;
pub mod trusted_proxy;

pub use agent_turn::{AGENT_HEADER, SESSION_HEADER};
pub use auth::AuthLimits;
pub use dialect::Dialect;
pub use error::GatewayError;
pub use http_api::REQUEST_ID_HEADER;
pub use idle_release::IdleHook;
pub use metrics::GatewayMetrics;
pub use models_api::model_list;
pub use ollama_api::OLLAMA_API_VERSION;
pub use routed::{FALLBACK_HEADER, FALLBACK_REASON_HEADER, FALLBACKS_REQUEST_HEADER, MODEL_HEADER};
pub use server::{Gateway, GatewayOptions, RequestLimits, ServicesLoader, listen_addr};
pub use sse_body::{EVENT_NAME, EVENTS_HEADER};
pub use target::{Target, parse_target};
