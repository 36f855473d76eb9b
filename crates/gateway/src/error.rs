//! The gateway crate's one error enum: what can go wrong starting the server or reloading its
//! config. Assembling services fails with the runtime's error, wrapped here. Request-time
//! failures are not errors of this kind: they are answered in the client's dialect (see
//! `error_response`).

use std::net::SocketAddr;

use clawgate_config::ConfigError;
use clawgate_runtime::RuntimeError;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum GatewayError {
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
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
    #[error("this gateway was started without a config loader, so it cannot reload")]
    NoReloader,
    #[error(
        "the new config has no gateway token or password, which would turn authentication \
         off: keep gateway.auth.token, or write gateway.auth.mode: \"none\" to turn it off on \
         purpose"
    )]
    ReloadDropsAuth,
    #[error(
        "the new config has no providers under models.providers (the running one has {count}), \
         which would send every call to a built-in default: restore them, or write \
         models: {{ providers: {{}} }} to remove them on purpose"
    )]
    ReloadDropsProviders { count: usize },
    #[error(
        "reload refused: state.* changed (where sessions and cooldowns are shared); the running \
         config is kept; restart the gateway to switch the state store"
    )]
    ReloadChangesState,
}

impl From<ConfigError> for GatewayError {
    fn from(error: ConfigError) -> Self {
        Self::Runtime(RuntimeError::Config(error))
    }
}
