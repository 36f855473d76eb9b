//! The runtime crate's one error enum: what can go wrong turning a config into services and
//! agents. The gateway wraps it in its own error (binding, reloading); the CLI prints it.

use clawgate_agent::AgentError;
use clawgate_config::ConfigError;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum RuntimeError {
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
        "{key} names ${{{var}}}, which is not set: set it, or change {key}, before starting \
         the gateway"
    )]
    MissingToken { key: &'static str, var: String },
    #[error("the gateway's own token: {0}")]
    GatewayToken(String),
    /// The shared state store (`state.*`) cannot be set up or reached.
    #[error("shared state: {0}")]
    State(String),
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
