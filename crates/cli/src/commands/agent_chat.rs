//! `clawgate agent` without `-m`: a chat in the terminal. Line editing and history come from
//! `rustyline` (a well-kept readline; history in `<state>/agents/<id>/chat-history`). Slash
//! commands (`/new /compact /model /status /reasoning /help`) are the runtime's own; the chat
//! adds `/exit` (and Ctrl-D). Ctrl-C while a reply is being written drops the turn future,
//! which stops the model call (the HTTP stream or the engine's generation), and the chat goes
//! on; at the prompt Ctrl-C just clears the line.
//!
//! When stdin is not a terminal, each line read from stdin is one turn (scripts, tests): no
//! prompt and no banner, answers on stdout (`--json`: one JSON object per line), exit 1 when
//! any turn failed, 130 when interrupted.
//!
//! In the interactive chat, a command that the exec approvals want confirmed is shown with
//! `run it? [y/N]` (see `exec_prompt`); piped, nobody is asked and `askFallback` decides.

use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;
use std::process::ExitCode;

use clawgate_agent::{AgentError, TurnOutcome};
use rustyline::DefaultEditor;
use rustyline::error::ReadlineError;
use tokio::runtime::Runtime;

use super::agent_cmd::{AgentArgs, AgentSession, show_failure, show_outcome, turn_options};
use super::agent_output::LivePrinter;

const CHAT_HELP: &str = "/exit — leave the chat (or Ctrl-D)\n\
Ctrl-C — stop the reply being written";

/// What the chat does with one input line.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Line {
    Skip,
    Exit,
    /// A turn or a runtime slash command; `help` adds the chat's own lines.
    Turn {
        text: String,
        help: bool,
    },
}

fn classify(line: &str) -> Line {
    let text = line.trim();
    if text.is_empty() {
        return Line::Skip;
    }
    let word = text.split_whitespace().next().unwrap_or("");
    match word.to_ascii_lowercase().as_str() {
        "/exit" | "/quit" => Line::Exit,
        "/help" => Line::Turn {
            text: text.to_string(),
            help: true,
        },
        _ => Line::Turn {
            text: text.to_string(),
            help: false,
        },
    }
}

/// The flags given on the command line, until the user changes the same thing with a slash
/// command (then the session's setting rules).
#[derive(Debug, Clone)]
struct Overrides {
    model: Option<String>,
    reasoning: bool,
    /// Exec approval questions are asked on the terminal (interactive chat; not when stdin
    /// carries the turns).
    ask: bool,
}

impl Overrides {
    fn after(&mut self, text: &str) {
        let lower = text.to_ascii_lowercase();
        if lower.starts_with("/model ") {
            self.model = None;
        }
        if lower.starts_with("/reasoning ") {
            self.reasoning = false;
        }
    }
}

enum TurnEnd {
    Done(Box<Result<TurnOutcome, AgentError>>),
    Interrupted,
}

async fn turn_or_interrupt(
    session: &AgentSession,
    text: &str,
    printer: Option<&LivePrinter>,
    overrides: &Overrides,
) -> TurnEnd {
    let options = turn_options(
        printer,
        overrides.model.as_deref(),
        overrides.reasoning,
        overrides.ask,
    );
    let turn = session.runtime.run_turn(&session.key, text, options);
    tokio::select! {
        result = turn => TurnEnd::Done(Box::new(result)),
        // Dropping `turn` here cancels the model call.
        Ok(()) = tokio::signal::ctrl_c() => TurnEnd::Interrupted,
    }
}

/// Runs one line as a turn and shows it; false when the turn failed.
fn run_line(
    tokio: &Runtime,
    session: &AgentSession,
    args: &AgentArgs,
    text: &str,
    help: bool,
    overrides: &mut Overrides,
) -> anyhow::Result<Option<bool>> {
    let printer = (!args.json).then(LivePrinter::default);
    let end = tokio.block_on(turn_or_interrupt(
        session,
        text,
        printer.as_ref(),
        overrides,
    ));
    let ok = match end {
        TurnEnd::Interrupted => {
            if let Some(printer) = &printer {
                printer.finish_turn();
            }
            eprintln!("[reply stopped]");
            return Ok(None);
        }
        TurnEnd::Done(result) => match *result {
            Ok(outcome) => {
                show_outcome(session, printer.as_ref(), &outcome, true)?;
                if help && printer.is_some() {
                    println!("{CHAT_HELP}");
                }
                true
            }
            Err(error) => {
                show_failure(session, printer.as_ref(), &error.to_string(), true)?;
                false
            }
        },
    };
    overrides.after(text);
    Ok(Some(ok))
}

fn history_path(session: &AgentSession) -> PathBuf {
    session
        .runtime
        .settings()
        .state_dir
        .join("agents")
        .join(&session.agent)
        .join("chat-history")
}

fn start_notices(session: &AgentSession, args: &AgentArgs) {
    if let Some(note) = session.provider_problem(args.model.as_deref()) {
        eprintln!("{note}");
    }
    for notice in session.runtime.take_startup_notices() {
        eprintln!("{notice}");
    }
}

pub fn run(tokio: &Runtime, session: &AgentSession, args: &AgentArgs) -> anyhow::Result<ExitCode> {
    let interactive = std::io::stdin().is_terminal();
    let mut overrides = Overrides {
        model: args.model.clone(),
        reasoning: args.reasoning,
        ask: interactive,
    };
    if !interactive {
        return piped(tokio, session, args, &mut overrides);
    }
    let model = overrides
        .model
        .clone()
        .unwrap_or_else(|| session.runtime.settings().primary_model.clone());
    eprintln!(
        "clawgate chat · agent {} · session {} · model {model}\n\
         /help lists the commands; /exit or Ctrl-D leaves; Ctrl-C stops a reply.",
        session.agent, session.key
    );
    start_notices(session, args);
    let mut editor = DefaultEditor::new()?;
    let history = history_path(session);
    if let Some(dir) = history.parent() {
        std::fs::create_dir_all(dir)?;
    }
    // A missing or unreadable history file is not a reason to refuse the chat.
    let _ = editor.load_history(&history);
    loop {
        let line = match editor.readline("› ") {
            Ok(line) => line,
            Err(ReadlineError::Interrupted) => continue,
            Err(ReadlineError::Eof) => break,
            Err(error) => return Err(error.into()),
        };
        match classify(&line) {
            Line::Skip => continue,
            Line::Exit => break,
            Line::Turn { text, help } => {
                let _ = editor.add_history_entry(text.as_str());
                let _ = editor.save_history(&history);
                run_line(tokio, session, args, &text, help, &mut overrides)?;
            }
        }
    }
    let _ = editor.save_history(&history);
    Ok(ExitCode::SUCCESS)
}

fn piped(
    tokio: &Runtime,
    session: &AgentSession,
    args: &AgentArgs,
    overrides: &mut Overrides,
) -> anyhow::Result<ExitCode> {
    if !args.json {
        start_notices(session, args);
    }
    let mut failed = false;
    for line in std::io::stdin().lock().lines() {
        match classify(&line?) {
            Line::Skip => continue,
            Line::Exit => break,
            Line::Turn { text, help } => {
                match run_line(tokio, session, args, &text, help, overrides)? {
                    Some(ok) => failed |= !ok,
                    None => return Ok(ExitCode::from(130)),
                }
            }
        }
    }
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_skipped_turns_or_exit() {
        assert_eq!(classify("   "), Line::Skip);
        assert_eq!(classify("/exit"), Line::Exit);
        assert_eq!(classify(" /QUIT "), Line::Exit);
        assert_eq!(
            classify("/help"),
            Line::Turn {
                text: "/help".into(),
                help: true
            }
        );
        assert_eq!(
            classify(" hello "),
            Line::Turn {
                text: "hello".into(),
                help: false
            }
        );
    }

    #[test]
    fn slash_commands_retire_the_matching_flag() {
        let mut o = Overrides {
            model: Some("m".into()),
            reasoning: true,
            ask: false,
        };
        o.after("/status");
        assert_eq!(o.model.as_deref(), Some("m"));
        o.after("/model other");
        assert_eq!(o.model, None);
        assert!(o.reasoning);
        o.after("/reasoning off");
        assert!(!o.reasoning);
    }
}
