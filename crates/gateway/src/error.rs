//! The gateway crate's one error enum: what can go wrong assembling services, starting the
//! server or reloading its config. Request-time failures are not errors of this kind: they are
//! answered in the client's dialect (see `error_response`).

use std::net::SocketAddr;

use clawgate_agent::AgentError;
use clawgate_config::ConfigError;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum GatewayError {
    #[error("{}", config_message(.0))]
    Config(#[from] ConfigError),
    #[error("unknown agent \"{id}\" (configured: {known})")]
    UnknownAgent { id: String, known: String },
    #[error("agent \"{id}\": {source}")]
    Agent {
        id: String,
        #[source]
        source: AgentError,
    },
    #[error("could not build the upstream HTTP client: {0}")]
    HttpClient(String),
    #[error(
        "refusing to listen on {addr} without an auth token: set gateway.auth.token (or \
         CLAWGATE_GATEWAY_TOKEN), or bind to loopback (--bind loopback)"
    )]
    UnsafeBind { addr: SocketAddr },
    #[error("could not listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{key} names ${{{var}}}, which is not set: set it, or change {key}, before starting \
         the gateway"
    )]
    MissingToken { key: &'static str, var: String },
    #[error("this gateway was started without a config loader, so it cannot reload")]
    NoReloader,
}

/// A config error with its diagnostics spelled out (the enum's own text only counts them).
fn config_message(error: &ConfigError) -> String {
    let diagnostics = error.diagnostics();
    if diagnostics.is_empty() {
        return error.to_string();
    }
    let lines: Vec<String> = diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| d.to_string())
        .collect();
    format!("{error}: {}", lines.join("; "))
}
