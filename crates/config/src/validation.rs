//! The verdict on a config file, as `clawgate config validate --json` prints it and the
//! gateway's Control UI shows it: valid or not, which file, how it was found, every diagnostic
//! (warnings of a valid file, errors and warnings of an invalid one) and the OpenClaw keys
//! clawgate ignores. Values in diagnostics are already redacted by the loader.

use std::path::PathBuf;

use serde::Serialize;

use crate::diagnostic::Diagnostic;
use crate::error::ConfigError;
use crate::load::{ConfigSource, LoadOptions, LoadedConfig, load, locate};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ValidationReport {
    pub valid: bool,
    /// The file checked (`None`: no file, built-in defaults).
    pub config: Option<PathBuf>,
    pub source: ConfigSource,
    pub diagnostics: Vec<Diagnostic>,
    pub ignored: Vec<String>,
}

impl ValidationReport {
    /// The report for one load attempt of the file `opts` locate.
    pub fn of(opts: &LoadOptions, result: &Result<LoadedConfig, ConfigError>) -> Self {
        let location = locate(opts);
        let (valid, diagnostics, ignored) = match result {
            Ok(l) => (true, l.warnings.clone(), l.ignored.clone()),
            Err(ConfigError::Invalid {
                diagnostics,
                ignored,
                ..
            }) => (false, diagnostics.clone(), ignored.clone()),
            Err(other) => (
                false,
                vec![Diagnostic::error(other.to_string())],
                Vec::new(),
            ),
        };
        Self {
            valid,
            config: location.path,
            source: location.source,
            diagnostics,
            ignored,
        }
    }
}

/// Loads the config `opts` locate and reports on it (blocking file I/O).
pub fn validate(opts: &LoadOptions) -> ValidationReport {
    ValidationReport::of(opts, &load(opts))
}
