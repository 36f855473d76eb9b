//! `clawgate agent`: talk to an agent from the terminal. With `-m TEXT`, one turn (the answer
//! streams to stdout, notices to stderr; `--json` prints one object instead); without it, a chat
//! (`agent_chat.rs`). Everything is assembled by `clawgate_runtime::Services` (config →
//! providers → router → agent runtime), the same code the gateway runs, plus the in-process
//! engine when this binary has it.
//!
//! Exit codes: 0 answered, 1 the turn failed (the agent's message on stderr) or nothing to
//! answer with (no model configured: what to configure is printed), 2 usage.

use std::process::ExitCode;
use std::sync::Arc;

use clap::Args;
use clawgate_agent::{AgentRuntime, SessionStore, TurnOptions, TurnOutcome};
use clawgate_config::LoadedConfig;
use clawgate_runtime::{Services, ServicesOptions, agent_ids, default_agent, engine_factory};

use super::Context;
use super::agent_output::{LivePrinter, error_json, outcome_json};
use crate::output::print_json;

#[derive(Debug, Args)]
pub struct AgentArgs {
    /// The message for one turn. Without it: an interactive chat (or, when stdin is not a
    /// terminal, one turn per line read from stdin).
    #[arg(short, long, value_name = "TEXT")]
    pub message: Option<String>,
    /// The agent (agents.list[].id; default: the default agent).
    #[arg(long, value_name = "ID")]
    pub agent: Option<String>,
    /// Session key (default `agent:<id>:main`); a bare name N means `agent:<id>:N`.
    #[arg(long, value_name = "KEY")]
    pub session: Option<String>,
    /// Use this model ref or alias (for this run only; the session's /model stays).
    #[arg(long, value_name = "REF")]
    pub model: Option<String>,
    /// Print one JSON object per turn (reply, notices, usage, model, ...) instead of text.
    #[arg(long)]
    pub json: bool,
    /// Show the model's reasoning (on stderr; in --json as `reasoning`).
    #[arg(long)]
    pub reasoning: bool,
}

/// An agent ready to run turns on one session.
pub struct AgentSession {
    /// Kept alive for the runtime's router and providers.
    pub services: Services,
    pub runtime: Arc<AgentRuntime>,
    pub agent: String,
    pub key: String,
}

impl AgentSession {
    /// A fallback model gave the last answer of this session (the session row remembers the
    /// fallback the user was told about until the primary answers again).
    pub fn answered_by_fallback(&self) -> bool {
        let store = SessionStore::for_agent(&self.runtime.settings().state_dir, &self.agent);
        matches!(store.get(&self.key), Ok(Some(row)) if row.fallback_notice_model.is_some())
    }

    /// A note when the model about to be used has no provider (e.g. a `llama-cpp` model in a
    /// build without the engine): the turn may still fall back, but the user sees why not.
    pub fn provider_problem(&self, model: Option<&str>) -> Option<String> {
        let wanted = model.unwrap_or(&self.runtime.settings().primary_model);
        let route = self.services.resolve_model(wanted).ok()?;
        self.services
            .provider_problems()
            .iter()
            .find(|p| p.provider == route.candidate.provider)
            .map(|p| format!("note: model {}: {}", route.reference, p.message))
    }
}

/// `agent:<id>:<name>` for a bare name; full keys as given.
pub fn session_key(agent: &str, given: Option<&str>) -> String {
    match given.map(str::trim).filter(|k| !k.is_empty()) {
        Some(key) if key.starts_with("agent:") => key.to_string(),
        Some(name) => format!("agent:{agent}:{name}"),
        None => clawgate_agent::main_session_key(agent),
    }
}

/// True when the agent would run on the built-in hosted default with no key for it, i.e.
/// nothing is configured that could answer.
pub fn nothing_to_answer_with(loaded: &LoadedConfig, agent: &str) -> bool {
    let selection = loaded.registry.selection(Some(agent));
    if !selection.primary_is_default || !selection.fallbacks.is_empty() {
        return false;
    }
    match loaded.registry.resolve(&selection.primary) {
        Ok(resolved) => !resolved.provider.is_local && resolved.provider.api_keys.is_empty(),
        Err(_) => true,
    }
}

fn print_setup_guide(loaded: &LoadedConfig) {
    let state = &loaded.location.state_dir;
    let config = match &loaded.location.path {
        Some(path) => format!("the config in effect is {}", path.display()),
        None => format!(
            "no config file found; clawgate reads {}",
            state.join("clawgate.json").display()
        ),
    };
    eprintln!(
        "error: no model is configured, so there is nothing to answer with\n({config}).\n\
         \n\
         Point clawgate at a model server, for example in {file}:\n\
         \n\
         \x20 LM Studio (port 1234):  {{ agents: {{ defaults: {{ model: {{ primary: \"lmstudio/<model id>\" }} }} }} }}\n\
         \x20 Ollama (port 11434):    {{ agents: {{ defaults: {{ model: {{ primary: \"ollama/qwen3:8b\" }} }} }} }}\n\
         \x20 vLLM (port 8000):       {{ agents: {{ defaults: {{ model: {{ primary: \"vllm/<served model name>\" }} }} }} }}\n\
         \x20 hosted:                 export ANTHROPIC_API_KEY=… (then anthropic/claude-opus-4-6 is the default),\n\
         \x20                         or primary \"openai/gpt-5.4\" with OPENAI_API_KEY\n\
         \n\
         or set it with `clawgate models set lmstudio/<model id>`, or pass --model REF for one run.\n\
         To try clawgate with no server at all, run ./scripts/quickstart: it fetches a small demo\n\
         model to {models} that runs inside clawgate (build with --features embedded).\n\
         See docs/configuration.md for providers, fallbacks and aliases.",
        file = state.join("clawgate.json").display(),
        models = clawgate_config::catalog::demo_model_path(state).display(),
    );
}

/// Loads the config and builds the agent; `Err` carries the exit code after printing why.
pub fn open_session(ctx: &Context, args: &AgentArgs) -> Result<AgentSession, ExitCode> {
    let loaded = ctx.load()?;
    let agent = args
        .agent
        .clone()
        .unwrap_or_else(|| default_agent(&loaded.config));
    if !agent_ids(&loaded.config).contains(&agent) {
        eprintln!(
            "error: unknown agent \"{agent}\" (configured: {})",
            agent_ids(&loaded.config).join(", ")
        );
        return Err(ExitCode::from(1));
    }
    if args.model.is_none() && nothing_to_answer_with(&loaded, &agent) {
        print_setup_guide(&loaded);
        return Err(ExitCode::from(1));
    }
    let options = ServicesOptions {
        engine: engine_factory(!args.json),
        ..ServicesOptions::default()
    };
    let services = Services::build(loaded, options).map_err(|e| {
        eprintln!("error: {e}");
        ExitCode::from(1)
    })?;
    let runtime = services.agent(Some(&agent)).map_err(|e| {
        eprintln!("error: {e}");
        ExitCode::from(1)
    })?;
    let key = session_key(&agent, args.session.as_deref());
    Ok(AgentSession {
        services,
        runtime,
        agent,
        key,
    })
}

pub fn run(ctx: &Context, args: AgentArgs) -> anyhow::Result<ExitCode> {
    let session = match open_session(ctx, &args) {
        Ok(session) => session,
        Err(code) => return Ok(code),
    };
    let tokio = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    match args.message.clone() {
        Some(message) => Ok(tokio.block_on(one_turn(&session, &args, message))),
        None => super::agent_chat::run(&tokio, &session, &args),
    }
}

/// Options for one turn; events go to `printer` unless the output is JSON. `ask` lets exec
/// approval questions be answered on the terminal (the interactive chat only).
pub fn turn_options(
    printer: Option<&LivePrinter>,
    model: Option<&str>,
    reasoning: bool,
    ask: bool,
) -> TurnOptions {
    TurnOptions {
        model_override: model.map(str::to_string),
        on_event: printer.map(LivePrinter::sink),
        reasoning: reasoning.then_some(true),
        approver: ask.then(|| {
            Arc::new(super::exec_prompt::TerminalApprover) as Arc<dyn clawgate_agent::ExecApprover>
        }),
    }
}

/// How a finished turn is shown: text (what was not streamed yet) or the JSON object (on one
/// line when `one_line`: the chat's JSON lines).
pub fn show_outcome(
    session: &AgentSession,
    printer: Option<&LivePrinter>,
    outcome: &TurnOutcome,
    one_line: bool,
) -> anyhow::Result<()> {
    match printer {
        Some(printer) => {
            if !printer.text_streamed()
                && let Some(reply) = &outcome.reply
            {
                println!("{reply}");
            }
            printer.finish_turn();
        }
        None => print_value(
            &outcome_json(
                &session.agent,
                &session.key,
                outcome,
                !outcome.command && session.answered_by_fallback(),
            ),
            one_line,
        )?,
    }
    Ok(())
}

fn print_value(value: &serde_json::Value, one_line: bool) -> anyhow::Result<()> {
    if one_line {
        println!("{}", serde_json::to_string(value)?);
        Ok(())
    } else {
        print_json(value)
    }
}

/// How a failed turn is shown (stderr, and the JSON object with `--json`).
pub fn show_failure(
    session: &AgentSession,
    printer: Option<&LivePrinter>,
    message: &str,
    one_line: bool,
) -> anyhow::Result<()> {
    match printer {
        Some(printer) => {
            printer.finish_turn();
            eprintln!("error: {message}");
        }
        None => {
            print_value(&error_json(&session.agent, &session.key, message), one_line)?;
            eprintln!("error: {message}");
        }
    }
    Ok(())
}

async fn one_turn(session: &AgentSession, args: &AgentArgs, message: String) -> ExitCode {
    let printer = (!args.json).then(LivePrinter::default);
    if printer.is_some()
        && let Some(note) = session.provider_problem(args.model.as_deref())
    {
        eprintln!("{note}");
    }
    // One-shot (`-m`): no one is asked; askFallback decides.
    let options = turn_options(
        printer.as_ref(),
        args.model.as_deref(),
        args.reasoning,
        false,
    );
    let result = session
        .runtime
        .run_turn(&session.key, message, options)
        .await;
    let shown = match &result {
        Ok(outcome) => show_outcome(session, printer.as_ref(), outcome, false),
        Err(error) => show_failure(session, printer.as_ref(), &error.to_string(), false),
    };
    match (result, shown) {
        (Ok(_), Ok(())) => ExitCode::SUCCESS,
        (Ok(_), Err(error)) => {
            eprintln!("error: {error:#}");
            ExitCode::from(1)
        }
        (Err(_), _) => ExitCode::from(1),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use clawgate_config::{EnvVars, LoadOptions};

    fn load(dir: &std::path::Path, config: Option<&str>, env: &[(&str, &str)]) -> LoadedConfig {
        let config_path = config.map(|text| {
            let path = dir.join("clawgate.json");
            std::fs::write(&path, text).unwrap();
            path
        });
        let opts = LoadOptions {
            config_path,
            state_dir: Some(dir.join("state")),
            home: Some(dir.join("home")),
            cwd: dir.to_path_buf(),
            env: EnvVars::from_pairs(env.iter().map(|(k, v)| (k.to_string(), v.to_string()))),
        };
        clawgate_config::load(&opts).unwrap()
    }

    #[test]
    fn nothing_to_answer_with_only_when_the_hosted_default_has_no_key() {
        let dir = tempfile::tempdir().unwrap();
        assert!(nothing_to_answer_with(&load(dir.path(), None, &[]), "main"));
        let with_key = load(dir.path(), None, &[("ANTHROPIC_API_KEY", "sk-ant-test")]);
        assert!(!nothing_to_answer_with(&with_key, "main"));
        let primary = r#"{ agents: { defaults: { model: { primary: "lmstudio/qwen3" } } } }"#;
        assert!(!nothing_to_answer_with(
            &load(dir.path(), Some(primary), &[]),
            "main"
        ));
        let demo = dir.path().join("state/models/gemma-3-270m-q4_k_m.gguf");
        std::fs::create_dir_all(demo.parent().unwrap()).unwrap();
        std::fs::write(&demo, "GGUF").unwrap();
        assert!(
            !nothing_to_answer_with(&load(dir.path(), None, &[]), "main"),
            "the demo model is the default when its file is there"
        );
    }

    #[test]
    fn bare_session_names_get_the_agent_prefix() {
        assert_eq!(session_key("main", None), "agent:main:main");
        assert_eq!(session_key("main", Some("work")), "agent:main:work");
        assert_eq!(session_key("ops", Some("agent:ops:x")), "agent:ops:x");
        assert_eq!(session_key("ops", Some("  ")), "agent:ops:main");
    }
}
