//! What `clawgate agent` prints while a turn runs and after it: answer text on stdout as it
//! arrives (the agent's delivery filter already left only final text in `AgentEvent::Text`),
//! everything else on stderr (reasoning when asked for, fallback and compaction notices, tool
//! calls), so `clawgate agent -m … > answer.txt` captures exactly the answer. And the `--json`
//! shape of one turn.

use std::io::{IsTerminal, Write};
use std::sync::{Arc, Mutex, MutexGuard};

use clawgate_agent::{AgentEvent, EventSink, TurnOutcome};
use serde_json::{Value, json};

#[derive(Debug, Default)]
struct PrintState {
    /// Some answer text of this turn went to stdout.
    text_streamed: bool,
    /// stdout's last character was not a newline.
    mid_line: bool,
    /// A reasoning block is open on stderr.
    reasoning_open: bool,
}

/// Prints a turn's events as they arrive. Cheap to clone (shared state).
#[derive(Debug, Clone, Default)]
pub struct LivePrinter {
    state: Arc<Mutex<PrintState>>,
}

impl LivePrinter {
    fn lock(&self) -> MutexGuard<'_, PrintState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The sink to pass in `TurnOptions::on_event`.
    pub fn sink(&self) -> EventSink {
        let printer = self.clone();
        Arc::new(move |event| printer.on_event(event))
    }

    pub fn text_streamed(&self) -> bool {
        self.lock().text_streamed
    }

    /// Ends the streamed answer with a newline (when it did not end with one) and closes an
    /// open reasoning block.
    pub fn finish_turn(&self) {
        let mut state = self.lock();
        close_reasoning(&mut state);
        if state.mid_line {
            println!();
            state.mid_line = false;
        }
    }

    /// One stderr line, on a fresh line when the answer is being written to the same terminal.
    pub fn notice(&self, text: &str) {
        let mut state = self.lock();
        close_reasoning(&mut state);
        if state.mid_line && std::io::stdout().is_terminal() {
            println!();
            state.mid_line = false;
        }
        eprintln!("{text}");
    }

    fn on_event(&self, event: AgentEvent) {
        match event {
            AgentEvent::Text(text) => {
                let mut state = self.lock();
                close_reasoning(&mut state);
                if text.is_empty() {
                    return;
                }
                let mut out = std::io::stdout().lock();
                // A closed stdout (`| head`) must not abort the turn: the transcript is still
                // written.
                let _ = out.write_all(text.as_bytes());
                let _ = out.flush();
                state.text_streamed = true;
                state.mid_line = !text.ends_with('\n');
            }
            AgentEvent::Reasoning(text) => {
                let mut state = self.lock();
                if !state.reasoning_open {
                    eprint!("Reasoning: ");
                    state.reasoning_open = true;
                }
                eprint!("{text}");
            }
            AgentEvent::Notice(text) => self.notice(&text),
            AgentEvent::Compacted {
                trigger,
                tokens_before,
            } => self.notice(&format!(
                "↻ context compacted ({}): ~{tokens_before} tokens summarised",
                trigger.name()
            )),
            AgentEvent::ToolCall {
                name, arguments, ..
            } => self.notice(&format!("⚙ {name} {}", shorten(&arguments, 120))),
            AgentEvent::ToolResult {
                name,
                is_error: true,
                ..
            } => self.notice(&format!("⚙ {name} failed")),
            AgentEvent::ToolResult { .. } | AgentEvent::Answered { .. } => {}
        }
    }
}

fn close_reasoning(state: &mut PrintState) {
    if state.reasoning_open {
        eprintln!();
        state.reasoning_open = false;
    }
}

/// The first `max` characters, with `…` when cut; one line.
fn shorten(text: &str, max: usize) -> String {
    let one_line: String = text
        .chars()
        .map(|c| if c == '\n' { ' ' } else { c })
        .collect();
    match one_line.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &one_line[..cut]),
        None => one_line,
    }
}

/// The `--json` object of one turn. `fallback`: a fallback model gave the answer.
pub fn outcome_json(agent: &str, key: &str, outcome: &TurnOutcome, fallback: bool) -> Value {
    let tool_calls: Vec<Value> = outcome
        .tool_calls
        .iter()
        .map(|c| {
            json!({
                "id": c.id,
                "name": c.name,
                "arguments": c.arguments,
                "isError": c.is_error,
                "recovered": c.recovered,
            })
        })
        .collect();
    json!({
        "ok": true,
        "agent": agent,
        "sessionKey": key,
        "sessionId": outcome.session_id,
        "reply": outcome.reply,
        "reasoning": outcome.reasoning,
        "notices": outcome.notices,
        "usage": outcome.usage,
        "modelRef": outcome.model_ref,
        "fallback": fallback,
        "toolCalls": tool_calls,
        "compactions": outcome.compactions,
        "silent": outcome.silent,
        "command": outcome.command,
    })
}

/// The `--json` object of a failed turn.
pub fn error_json(agent: &str, key: &str, message: &str) -> Value {
    json!({ "ok": false, "agent": agent, "sessionKey": key, "error": message })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shorten_cuts_on_characters_and_flattens_lines() {
        assert_eq!(shorten("a\nb", 10), "a b");
        assert_eq!(shorten("ééééé", 3), "ééé…");
    }

    #[test]
    fn outcome_json_has_the_documented_keys() {
        let outcome = TurnOutcome {
            reply: Some("hi".into()),
            session_id: "s1".into(),
            model_ref: Some("local/m".into()),
            notices: vec!["n".into()],
            ..TurnOutcome::default()
        };
        let v = outcome_json("main", "agent:main:main", &outcome, true);
        for key in [
            "reply",
            "reasoning",
            "notices",
            "usage",
            "modelRef",
            "fallback",
            "sessionId",
            "toolCalls",
            "compactions",
        ] {
            assert!(v.get(key).is_some(), "{key} missing in {v}");
        }
        assert_eq!(v["fallback"], true);
        assert_eq!(v["reply"], "hi");
        assert_eq!(v["notices"][0], "n");
    }
}
