//! Command groups (one module each) and what they share: loading the config with diagnostics
//! printed, and the write flow (edit, save, re-validate, roll back on error).

mod agent_chat;
pub mod agent_cmd;
mod agent_output;
pub mod config_cmd;
pub mod dashboard_cmd;
mod exec_prompt;
pub mod gateway_cmd;
pub mod models_cmd;
mod models_discover;
pub mod models_status;
mod models_status_render;
pub mod models_test;
mod models_test_chain;
pub mod sessions_cmd;
pub mod state_cmd;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clawgate_config::edit::{ConfigDocument, SaveOutcome};
use clawgate_config::{ConfigError, LoadOptions, LoadedConfig, load};

use crate::output::{print_diagnostics, print_ignored};

/// Global options turned into loader options once.
pub struct Context {
    pub opts: LoadOptions,
}

impl Context {
    pub fn new(config: Option<PathBuf>, state_dir: Option<PathBuf>) -> Self {
        Self {
            opts: LoadOptions::from_process(config, state_dir),
        }
    }

    /// Loads the config; on failure prints the diagnostics and gives exit code 1.
    pub fn load(&self) -> Result<LoadedConfig, ExitCode> {
        match load(&self.opts) {
            Ok(loaded) => Ok(loaded),
            Err(err) => {
                report_load_error(&err);
                Err(ExitCode::from(1))
            }
        }
    }

    /// Applies `edit` to the file writing commands write, saves it, re-validates the result
    /// and restores the original when the result is invalid.
    pub fn write(
        &self,
        loaded: &LoadedConfig,
        write_to: Option<&Path>,
        edit: impl FnOnce(&mut ConfigDocument),
    ) -> anyhow::Result<ExitCode> {
        let location = &loaded.location;
        let target = match (write_to, &location.write_path) {
            (Some(p), _) => p.to_path_buf(),
            (None, Some(p)) => p.clone(),
            (None, None) => {
                let current = location
                    .path
                    .as_deref()
                    .map_or_else(String::new, |p| p.display().to_string());
                let suggestion = location.state_dir.join("clawgate.json");
                eprintln!(
                    "error: the config in effect is {current}, which clawgate reads as-is and never writes\n  \
                     pass --write-to {} to write a clawgate config that includes it (clawgate reads that file first)",
                    suggestion.display()
                );
                return Ok(ExitCode::from(1));
            }
        };
        let mut doc = ConfigDocument::open(&target)?;
        if !doc.exists()
            && let Some(current) = &location.path
            && current != &target
        {
            let abs = std::fs::canonicalize(current).unwrap_or_else(|_| current.clone());
            doc.set(
                &["$include"],
                serde_json::Value::String(abs.display().to_string()),
            );
            eprintln!("note: {} will include {}", target.display(), abs.display());
        }
        edit(&mut doc);
        let outcome = doc.save()?;
        let check = LoadOptions {
            config_path: Some(target.clone()),
            ..self.opts.clone()
        };
        if let Err(err) = load(&check) {
            doc.restore()?;
            report_load_error(&err);
            eprintln!(
                "error: the change would make the config invalid; {} left unchanged",
                target.display()
            );
            return Ok(ExitCode::from(1));
        }
        match outcome {
            SaveOutcome::Edited => eprintln!("updated {}", target.display()),
            SaveOutcome::Created => eprintln!("created {}", target.display()),
            SaveOutcome::Unchanged => {
                eprintln!("{} already says so; nothing to change", target.display())
            }
            SaveOutcome::Rewritten { backup } => eprintln!(
                "updated {} (rewritten as plain JSON: comments and formatting could not be kept; \
                 the original is saved as {})",
                target.display(),
                backup.display()
            ),
        }
        Ok(ExitCode::SUCCESS)
    }
}

pub fn report_load_error(err: &ConfigError) {
    match err {
        ConfigError::Invalid {
            path,
            diagnostics,
            ignored,
        } => {
            print_diagnostics(diagnostics, path.as_deref());
            print_ignored(ignored);
            let errors = diagnostics.iter().filter(|d| d.is_error()).count();
            let name = path
                .as_deref()
                .map_or_else(|| "config".to_string(), |p| p.display().to_string());
            eprintln!(
                "error: {name} is invalid ({errors} error{})",
                if errors == 1 { "" } else { "s" }
            );
        }
        other => eprintln!("error: {other}"),
    }
}
