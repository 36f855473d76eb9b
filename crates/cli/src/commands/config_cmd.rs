//! `clawgate config validate|show`.

use std::process::ExitCode;

use clap::Subcommand;
use clawgate_config::decode::redact_json;
use clawgate_config::{ValidationReport, load};
use serde_json::json;

use super::{Context, report_load_error};
use crate::output::{print_diagnostics, print_ignored, print_json};

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Check the config and print every problem found (exit 1 when invalid).
    #[command(after_help = "Example:\n  clawgate --config ./clawgate.json config validate")]
    Validate {
        /// Print a JSON report instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Print the config in effect (secrets redacted).
    #[command(after_help = "Example:\n  clawgate config show --resolved")]
    Show {
        /// Show the typed config with defaults applied and the effective providers.
        #[arg(long)]
        resolved: bool,
        /// Print JSON only (no header line).
        #[arg(long)]
        json: bool,
    },
}

pub fn run(ctx: &Context, command: ConfigCommand) -> anyhow::Result<ExitCode> {
    match command {
        ConfigCommand::Validate { json } => validate(ctx, json),
        ConfigCommand::Show { resolved, json } => show(ctx, resolved, json),
    }
}

fn validate(ctx: &Context, as_json: bool) -> anyhow::Result<ExitCode> {
    let result = load(&ctx.opts);
    if as_json {
        let report = ValidationReport::of(&ctx.opts, &result);
        print_json(&serde_json::to_value(&report)?)?;
        return Ok(if report.valid {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        });
    }
    match result {
        Ok(loaded) => {
            print_diagnostics(&loaded.warnings, loaded.location.path.as_deref());
            print_ignored(&loaded.ignored);
            let configured = loaded
                .registry
                .models()
                .iter()
                .filter(|m| m.configured)
                .count();
            let providers = loaded
                .registry
                .providers()
                .iter()
                .filter(|p| p.configured)
                .count();
            match &loaded.location.path {
                Some(p) => println!(
                    "ok: {} is valid ({providers} configured provider{}, {configured} configured model{})",
                    p.display(),
                    if providers == 1 { "" } else { "s" },
                    if configured == 1 { "" } else { "s" },
                ),
                None => println!("ok: no config file found; using built-in defaults"),
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(err) => {
            report_load_error(&err);
            Ok(ExitCode::from(1))
        }
    }
}

fn show(ctx: &Context, resolved: bool, as_json: bool) -> anyhow::Result<ExitCode> {
    let loaded = match ctx.load() {
        Ok(l) => l,
        Err(code) => return Ok(code),
    };
    let value = if resolved {
        let reg = &loaded.registry;
        let selection = reg.selection(None);
        json!({
            "config": loaded.config,
            "providers": reg.providers(),
            "models": reg.models().iter().filter(|m| m.configured).collect::<Vec<_>>(),
            "aliases": reg.aliases().iter().map(|(a, r)| (a.clone(), json!(r.key()))).collect::<serde_json::Map<_, _>>(),
            "selection": selection,
            "ignored": loaded.ignored,
        })
    } else {
        let mut tree = loaded.tree.to_json();
        redact_json(&mut tree);
        tree
    };
    if !as_json {
        match &loaded.location.path {
            Some(p) => println!(
                "// {} ({})",
                p.display(),
                if resolved {
                    "resolved"
                } else {
                    "includes and ${VAR} applied"
                }
            ),
            None => println!("// built-in defaults (no config file)"),
        }
    }
    print_json(&value)?;
    Ok(ExitCode::SUCCESS)
}
