//! The agent crate's one error enum. Messages are written for the person at the keyboard: they
//! say what happened and what to do next, because the CLI and gateway show them as they are.

use std::path::PathBuf;

use thiserror::Error;

use crate::model_client::ModelCallError;

#[derive(Debug, Error)]
pub enum AgentError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "session {key} is already open in another process (lock file {path} is held); \
         close that chat or gateway first"
    )]
    SessionLocked { key: String, path: PathBuf },
    /// A shared store's turn lease on the session stayed with another replica (a turn there
    /// is still running) for as long as this one waited.
    #[error(
        "session {key} is in a turn on another gateway replica ({holder}) and was not free \
         after {waited_secs} s; try again"
    )]
    SessionBusy {
        key: String,
        holder: String,
        waited_secs: u64,
    },
    #[error("{path}: {message}")]
    Corrupt { path: PathBuf, message: String },
    /// A shared session store (PostgreSQL) cannot be reached: the turn is refused before
    /// anything is appended, so nothing is lost.
    #[error(
        "the session store is unreachable ({0}); the turn was not recorded or run; try again \
         when it is back"
    )]
    StoreUnavailable(String),
    #[error("invalid session key: {0}")]
    InvalidSessionKey(String),
    #[error("no session named {0}")]
    UnknownSession(String),
    #[error("unknown model {0} (not in the model registry)")]
    UnknownModel(String),
    /// The agent's model allowlist (or a ref's auth profile) refuses the model; the message
    /// says which and what to do.
    #[error("{0}")]
    ModelNotAllowed(String),
    #[error("Model context window too small ({window} tokens). Minimum is {min}.")]
    ContextWindowTooSmall {
        model: String,
        window: u64,
        min: u64,
    },
    #[error(
        "Context overflow: prompt too large for the model. Try again with less input or a \
         larger-context model (or /compact, /new)."
    )]
    ContextOverflow { model: String },
    #[error("Compaction failed: {0}")]
    Compaction(String),
    #[error("Agent failed before reply: {0}")]
    Model(ModelCallError),
    #[error("aborted")]
    Aborted,
    #[error(
        "Agent turn timed out after {seconds} s (agents.defaults.timeoutSeconds); what the turn \
         did so far is kept in the session"
    )]
    TurnTimeout { seconds: u64 },
}

impl AgentError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        AgentError::Io {
            path: path.into(),
            source,
        }
    }
}
