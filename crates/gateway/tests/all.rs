//! Integration tests of the gateway in-process on 127.0.0.1:0, in front of `mock-upstream`
//! (one binary for the crate; modules under `tests/all/`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "all/support.rs"]
mod support;

#[path = "all/agent_settings.rs"]
mod agent_settings;
#[path = "all/agents.rs"]
mod agents;
#[path = "all/approvals.rs"]
mod approvals;
#[path = "all/auth.rs"]
mod auth;
#[path = "all/browser.rs"]
mod browser;
#[path = "all/control_api.rs"]
mod control_api;
#[path = "all/control_page.rs"]
mod control_page;
#[path = "all/cooldown_config.rs"]
mod cooldown_config;
#[path = "all/dialects.rs"]
mod dialects;
#[path = "all/discovery.rs"]
mod discovery;
#[path = "all/embeddings.rs"]
mod embeddings;
#[path = "all/errors.rs"]
mod errors;
#[path = "all/fallback.rs"]
mod fallback;
#[path = "all/hardening.rs"]
mod hardening;
#[path = "all/held_answers.rs"]
mod held_answers;
#[path = "all/idle_release.rs"]
mod idle_release;
#[path = "all/limits.rs"]
mod limits;
#[path = "all/local_quirks.rs"]
mod local_quirks;
#[path = "all/metrics.rs"]
mod metrics;
#[path = "all/models.rs"]
mod models;
#[path = "all/ollama_chat.rs"]
mod ollama_chat;
#[path = "all/ollama_models.rs"]
mod ollama_models;
#[path = "all/openclaw_headers.rs"]
mod openclaw_headers;
#[path = "all/openclaw_profiles.rs"]
mod openclaw_profiles;
#[path = "all/reload.rs"]
mod reload;
#[path = "all/shutdown.rs"]
mod shutdown;
#[path = "all/stream_events.rs"]
mod stream_events;
#[path = "all/streams.rs"]
mod streams;
#[path = "all/tools.rs"]
mod tools;
#[path = "all/trusted_proxy.rs"]
mod trusted_proxy;
