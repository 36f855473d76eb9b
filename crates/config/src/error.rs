//! The crate's one error enum.

use std::path::PathBuf;

use crate::diagnostic::Diagnostic;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The config has errors; every diagnostic found in one pass (warnings included).
    #[error("invalid config{}: {} error(s)", .path.as_ref().map(|p| format!(" {}", p.display())).unwrap_or_default(), .diagnostics.iter().filter(|d| d.is_error()).count())]
    Invalid {
        path: Option<PathBuf>,
        diagnostics: Vec<Diagnostic>,
        ignored: Vec<String>,
    },
    /// An explicitly named config file (`--config`, `$CLAWGATE_CONFIG`) does not exist.
    #[error("config file {0} does not exist")]
    NotFound(PathBuf),
    #[error("unknown model \"{input}\"{}", suggestion_text(.suggestions))]
    UnknownModel {
        input: String,
        suggestions: Vec<String>,
    },
    #[error("\"{input}\" matches several models: {}", .candidates.join(", "))]
    AmbiguousModel {
        input: String,
        candidates: Vec<String>,
    },
    #[error("unknown provider \"{0}\"")]
    UnknownProvider(String),
    /// OpenClaw's wording and its HTTP status (400): a model outside the agent's allowlist.
    #[error("Model '{model}' is not allowed for agent '{agent}'.")]
    ModelNotAllowed { model: String, agent: String },
    /// A ref's `@profile` names no auth profile that gives its provider a key.
    #[error("No credentials found for profile \"{profile}\" (provider {provider}).")]
    UnknownProfile { profile: String, provider: String },
    /// The built-in catalog failed to decode (a bug in the shipped data file).
    #[error("built-in catalog is invalid: {0}")]
    Catalog(String),
    #[error("cannot edit {path}: {message}")]
    Edit { path: PathBuf, message: String },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

fn suggestion_text(suggestions: &[String]) -> String {
    if suggestions.is_empty() {
        String::new()
    } else {
        format!("; closest known: {}", suggestions.join(", "))
    }
}

impl ConfigError {
    /// The diagnostics of an `Invalid` error (empty otherwise).
    pub fn diagnostics(&self) -> &[Diagnostic] {
        match self {
            Self::Invalid { diagnostics, .. } => diagnostics,
            _ => &[],
        }
    }
}
