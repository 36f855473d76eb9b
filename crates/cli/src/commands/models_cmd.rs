//! `clawgate models list|set|aliases|fallbacks`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Args, Subcommand};
use clawgate_config::{ConfigError, LoadedConfig, parse_ref};
use clawgate_runtime::model_listing::ModelListing;
use serde_json::{Value, json};

use super::Context;
use super::models_discover::{self, ProbeOutcome, unreachable_notes};
use crate::output::{price, print_json, print_table, table, tokens};

#[derive(Debug, Subcommand)]
pub enum ModelsCommand {
    /// List models: configured ones and the primary/fallbacks (--all: the whole registry).
    #[command(
        after_help = "Example:\n  clawgate models list --all --json\n  clawgate models list --probe"
    )]
    List {
        /// Include every catalog row and the implicit local providers.
        #[arg(long)]
        all: bool,
        /// Ask the providers marked for discovery (the local servers) which models they serve
        /// (5 s each) and list those too, with the source `discovered`.
        #[arg(long)]
        probe: bool,
        #[arg(long)]
        json: bool,
    },
    /// Set the primary model (agents.defaults.model.primary).
    #[command(after_help = "Example:\n  clawgate models set lmstudio/qwen3-coder-30b")]
    Set {
        /// A provider/model ref or an alias.
        model: String,
        #[command(flatten)]
        write: WriteArgs,
    },
    /// List, add or remove model aliases (agents.defaults.models[ref].alias).
    #[command(after_help = "Example:\n  clawgate models aliases add fast openai/gpt-5.4-mini")]
    Aliases {
        #[command(subcommand)]
        command: AliasCommand,
    },
    /// List, add, remove or clear fallbacks (agents.defaults.model.fallbacks).
    #[command(after_help = "Example:\n  clawgate models fallbacks add anthropic/claude-sonnet-4-6")]
    Fallbacks {
        #[command(subcommand)]
        command: FallbackCommand,
    },
    /// Make one raw call of a model (no agent, no fallback) and show how it answered.
    #[command(
        after_help = "Example:\n  clawgate models test lmstudio/qwen3-coder-30b -m \"Say hi\" --stream"
    )]
    Test(super::models_test::ModelsTestArgs),
    /// Can the configured chain serve now? Keys, cooldowns, and with --probe reachability,
    /// served models and the context windows servers really run with.
    #[command(
        after_help = "Example:\n  clawgate models status --probe\n  clawgate models status --check --json"
    )]
    Status(super::models_status::ModelsStatusArgs),
}

#[derive(Debug, Args)]
pub struct WriteArgs {
    /// Write to this file instead of the config in effect (needed when that is OpenClaw's,
    /// which clawgate never writes; a new file $includes the config in effect).
    #[arg(long, value_name = "PATH")]
    write_to: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum AliasCommand {
    /// List aliases.
    #[command(after_help = "Example:\n  clawgate models aliases list --json")]
    List {
        #[arg(long)]
        json: bool,
    },
    /// Add (or move) an alias.
    #[command(
        after_help = "Example:\n  clawgate models aliases add local lmstudio/qwen3-coder-30b"
    )]
    Add {
        alias: String,
        model: String,
        #[command(flatten)]
        write: WriteArgs,
    },
    /// Remove an alias.
    #[command(after_help = "Example:\n  clawgate models aliases remove local")]
    Remove {
        alias: String,
        #[command(flatten)]
        write: WriteArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum FallbackCommand {
    /// List fallbacks in order.
    #[command(after_help = "Example:\n  clawgate models fallbacks list")]
    List {
        #[arg(long)]
        json: bool,
    },
    /// Append a fallback.
    #[command(
        after_help = "Example:\n  clawgate models fallbacks add openrouter/moonshotai/kimi-k2"
    )]
    Add {
        model: String,
        #[command(flatten)]
        write: WriteArgs,
    },
    /// Remove a fallback.
    #[command(after_help = "Example:\n  clawgate models fallbacks remove openai/gpt-5.4")]
    Remove {
        model: String,
        #[command(flatten)]
        write: WriteArgs,
    },
    /// Remove every fallback.
    #[command(after_help = "Example:\n  clawgate models fallbacks clear")]
    Clear {
        #[command(flatten)]
        write: WriteArgs,
    },
}

pub fn run(ctx: &Context, command: ModelsCommand) -> anyhow::Result<ExitCode> {
    let loaded = match ctx.load() {
        Ok(l) => l,
        Err(code) => return Ok(code),
    };
    match command {
        ModelsCommand::List { all, probe, json } => {
            if !probe {
                return list(&loaded, all, json, None);
            }
            let outcome = models_discover::probe(&loaded)?;
            list(&outcome.loaded, all, json, Some(&outcome))
        }
        ModelsCommand::Set { model, write } => {
            let Some(reference) = canonical(&loaded, &model) else {
                return Ok(ExitCode::from(1));
            };
            ctx.write(&loaded, write.write_to.as_deref(), |doc| {
                // The string form `model: "p/m"` becomes the object form writers use.
                if doc.get(&MODEL).is_some_and(Value::is_string) {
                    doc.set(&MODEL, json!({ "primary": reference }));
                } else {
                    doc.set(
                        &["agents", "defaults", "model", "primary"],
                        json!(reference),
                    );
                }
            })
            .inspect(|code| announce(*code, &format!("primary model: {reference}")))
        }
        ModelsCommand::Aliases { command } => aliases(ctx, &loaded, command),
        ModelsCommand::Fallbacks { command } => fallbacks(ctx, &loaded, command),
        ModelsCommand::Test(args) => super::models_test::run(&loaded, args),
        ModelsCommand::Status(args) => super::models_status::run(&loaded, args),
    }
}

const MODEL: [&str; 3] = ["agents", "defaults", "model"];
const MODELS_MAP: [&str; 3] = ["agents", "defaults", "models"];

fn announce(code: ExitCode, what: &str) {
    if code == ExitCode::SUCCESS {
        println!("{what}");
    }
}

/// `provider/model` for what the user typed: a resolvable ref or alias, or a ref under a known
/// provider that the catalog does not list (accepted with a note). Prints why not otherwise.
fn canonical(loaded: &LoadedConfig, input: &str) -> Option<String> {
    match loaded.registry.resolve(input) {
        Ok(r) => Some(r.reference.key()),
        Err(err) => {
            if let (ConfigError::UnknownModel { .. }, Some(r)) = (&err, parse_ref(input).reference)
                && loaded.registry.provider(&r.provider).is_some()
            {
                eprintln!(
                    "warning: {} has no row for \"{}\"; it will use default metadata (contextWindow 200000, maxTokens 8192)",
                    r.provider, r.model
                );
                let known: Vec<String> = loaded
                    .registry
                    .models_of(&r.provider)
                    .map(|m| m.reference.clone())
                    .collect();
                if let Some(best) =
                    clawgate_config::diagnostic::closest_n(&r.key(), &known, 1).first()
                {
                    eprintln!("  did you mean \"{best}\"?");
                }
                return Some(r.key());
            }
            eprintln!("error: {err}");
            None
        }
    }
}

/// `probe`: what discovery found (`loaded` then has the discovered rows, which are listed).
fn list(
    loaded: &LoadedConfig,
    all: bool,
    as_json: bool,
    probe: Option<&ProbeOutcome>,
) -> anyhow::Result<ExitCode> {
    let listing = ModelListing::build(loaded, all);
    if as_json {
        let mut out = listing.to_json();
        if let Some(probe) = probe {
            out["discovery"] = json!(probe.probes);
            out["warnings"] = json!(probe.warnings);
        }
        print_json(&out)?;
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(probe) = probe {
        for note in unreachable_notes(probe) {
            eprintln!("note: {note}");
        }
        for warning in &probe.warnings {
            eprintln!("warning: {warning}");
        }
    }
    let mut t = table(&[
        "ref",
        "alias",
        "api",
        "context",
        "max out",
        "input",
        "cost in/out",
        "source",
        "role",
    ]);
    for listed in &listing.models {
        let m = &listed.entry;
        let ctx = match m.context_tokens {
            Some(ct) if ct < m.context_window => {
                format!("{} ({} used)", tokens(m.context_window), tokens(ct))
            }
            _ => tokens(m.context_window),
        };
        let api = if m.api.is_supported() {
            m.api.as_str().to_string()
        } else {
            format!("{} (unsupported)", m.api.as_str())
        };
        let source = if m.configured && m.source.as_str() != "config" {
            format!("{}+config", m.source.as_str())
        } else {
            m.source.as_str().to_string()
        };
        t.add_row(vec![
            m.reference.clone(),
            listed.alias.clone().unwrap_or_default(),
            api,
            ctx,
            tokens(m.max_tokens),
            m.input
                .iter()
                .map(|i| i.as_str())
                .collect::<Vec<_>>()
                .join("+"),
            format!("{}/{}", price(m.cost.input), price(m.cost.output)),
            source,
            listed.roles.join(", "),
        ]);
    }
    for p in &listing.providers_without_models {
        t.add_row(vec![
            format!("{}/*", p.id),
            String::new(),
            p.api.as_str().to_string(),
            "-".into(),
            "-".into(),
            "-".into(),
            "-".into(),
            p.source.as_str().to_string(),
            "discovered at runtime".into(),
        ]);
    }
    print_table(&t);
    Ok(ExitCode::SUCCESS)
}

fn aliases(
    ctx: &Context,
    loaded: &LoadedConfig,
    command: AliasCommand,
) -> anyhow::Result<ExitCode> {
    let reg = &loaded.registry;
    match command {
        AliasCommand::List { json } => {
            if json {
                let map: serde_json::Map<String, Value> = reg
                    .aliases()
                    .iter()
                    .map(|(a, r)| (a.clone(), json!(r.key())))
                    .collect();
                print_json(&json!({ "aliases": map }))?;
            } else {
                let mut t = table(&["alias", "ref"]);
                for (a, r) in reg.aliases() {
                    t.add_row(vec![a.clone(), r.key()]);
                }
                print_table(&t);
            }
            Ok(ExitCode::SUCCESS)
        }
        AliasCommand::Add {
            alias,
            model,
            write,
        } => {
            let alias = alias.trim().to_string();
            if alias.is_empty() || alias.contains('/') {
                eprintln!("error: an alias must be non-empty and must not contain \"/\"");
                return Ok(ExitCode::from(1));
            }
            let Some(reference) = canonical(loaded, &model) else {
                return Ok(ExitCode::from(1));
            };
            ctx.write(loaded, write.write_to.as_deref(), |doc| {
                remove_alias_everywhere(doc, &alias);
                doc.set(
                    &[
                        MODELS_MAP[0],
                        MODELS_MAP[1],
                        MODELS_MAP[2],
                        &reference,
                        "alias",
                    ],
                    json!(alias),
                );
            })
            .inspect(|code| announce(*code, &format!("alias {alias} -> {reference}")))
        }
        AliasCommand::Remove { alias, write } => {
            if !reg
                .aliases()
                .iter()
                .any(|(a, _)| a.eq_ignore_ascii_case(&alias))
            {
                eprintln!("error: no alias \"{alias}\"");
                return Ok(ExitCode::from(1));
            }
            let mut removed = false;
            let code = ctx.write(loaded, write.write_to.as_deref(), |doc| {
                removed = remove_alias_everywhere(doc, &alias);
            })?;
            if code == ExitCode::SUCCESS && !removed {
                eprintln!(
                    "error: alias \"{alias}\" is defined in an included file; remove it there"
                );
                return Ok(ExitCode::from(1));
            }
            announce(code, &format!("alias {alias} removed"));
            Ok(code)
        }
    }
}

/// Removes `alias` (case-insensitive) from every entry of the root file's models map.
fn remove_alias_everywhere(doc: &mut clawgate_config::edit::ConfigDocument, alias: &str) -> bool {
    let keys: Vec<String> = doc
        .get(&MODELS_MAP)
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter(|(_, v)| {
                    v.get("alias")
                        .and_then(Value::as_str)
                        .is_some_and(|a| a.eq_ignore_ascii_case(alias))
                })
                .map(|(k, _)| k.clone())
                .collect()
        })
        .unwrap_or_default();
    for k in &keys {
        doc.remove(&[MODELS_MAP[0], MODELS_MAP[1], MODELS_MAP[2], k, "alias"]);
    }
    !keys.is_empty()
}

fn fallbacks(
    ctx: &Context,
    loaded: &LoadedConfig,
    command: FallbackCommand,
) -> anyhow::Result<ExitCode> {
    let reg = &loaded.registry;
    let current = reg.selection(None).fallbacks;
    let (new_list, write, message) = match command {
        FallbackCommand::List { json } => {
            if json {
                let rows: Vec<Value> = current
                    .iter()
                    .map(|f| match reg.resolve(f) {
                        Ok(r) => json!({"ref": f, "resolved": r.reference.key(), "contextWindow": r.model.context_window}),
                        Err(e) => json!({"ref": f, "error": e.to_string()}),
                    })
                    .collect();
                print_json(&json!({ "fallbacks": rows }))?;
            } else {
                for (i, f) in current.iter().enumerate() {
                    println!("{}. {f}", i + 1);
                }
                if current.is_empty() {
                    println!("(no fallbacks)");
                }
            }
            return Ok(ExitCode::SUCCESS);
        }
        FallbackCommand::Add { model, write } => {
            let Some(reference) = canonical(loaded, &model) else {
                return Ok(ExitCode::from(1));
            };
            let mut list = current.clone();
            if list.iter().any(|f| same_model(loaded, f, &reference)) {
                println!("{reference} is already a fallback");
                return Ok(ExitCode::SUCCESS);
            }
            list.push(reference.clone());
            (list, write, format!("fallback added: {reference}"))
        }
        FallbackCommand::Remove { model, write } => {
            let target = canonical(loaded, &model).unwrap_or_else(|| model.clone());
            let mut list = current.clone();
            let before = list.len();
            list.retain(|f| f != &model && !same_model(loaded, f, &target));
            if list.len() == before {
                eprintln!("error: \"{model}\" is not a fallback");
                return Ok(ExitCode::from(1));
            }
            (list, write, format!("fallback removed: {model}"))
        }
        FallbackCommand::Clear { write } => (Vec::new(), write, "fallbacks cleared".to_string()),
    };
    ctx.write(loaded, write.write_to.as_deref(), |doc| {
        match doc.get(&MODEL).and_then(Value::as_str).map(str::to_string) {
            Some(primary) => doc.set(&MODEL, json!({ "primary": primary, "fallbacks": new_list })),
            None => doc.set(
                &["agents", "defaults", "model", "fallbacks"],
                json!(new_list),
            ),
        }
    })
    .context("writing fallbacks")
    .inspect(|code| announce(*code, &message))
}

fn same_model(loaded: &LoadedConfig, a: &str, b: &str) -> bool {
    match (loaded.registry.resolve(a), loaded.registry.resolve(b)) {
        (Ok(x), Ok(y)) => x.reference == y.reference,
        _ => a == b,
    }
}
