//! The prompt for a *base* model (pretrained only, no chat tuning, no chat template, like the
//! demo gemma-3 270M): a plain-text transcript the model continues, with one worked exchange
//! so it has seen the shape of an answer, and stop sequences that end the answer where the
//! model would start writing the next turn itself. Chat markup (`<start_of_turn>` …) means
//! nothing to such a model; a transcript is what it saw in pretraining.
//!
//! Pure string work, unit-tested without a model.

use crate::templates::{ChatTurn, TurnRole};

/// What the transcript opens with (before any system text).
const PREAMBLE: &str = "A conversation between a user and a helpful assistant. The assistant \
                        answers in plain, complete sentences.";

/// The worked exchange shown before the real conversation.
const EXAMPLE: [(&str, &str); 2] = [
    ("User", "What is the capital of France?"),
    (
        "Assistant",
        "The capital of France is Paris, a city on the river Seine.",
    ),
];

/// Where the model starts writing the next turn, or a new transcript of its own (the demo
/// model, done answering, likes to begin the preamble again): the answer ends there (never
/// emitted).
pub const TRANSCRIPT_STOPS: [&str; 4] = [
    "\nUser:",
    "\nAssistant:",
    "\n\n\n",
    "\nA conversation between",
];

/// Renders the turns and opens the assistant's line. `extra_header` (tool descriptions for a
/// forced call) goes after the system text.
pub fn render_transcript(turns: &[ChatTurn], extra_header: Option<&str>) -> String {
    let mut out = String::from(PREAMBLE);
    for turn in turns.iter().filter(|t| t.role == TurnRole::System) {
        out.push_str("\n\n");
        out.push_str(turn.text.trim());
    }
    if let Some(header) = extra_header {
        out.push_str("\n\n");
        out.push_str(header.trim());
    }
    out.push_str("\n\n");
    for (speaker, text) in EXAMPLE {
        out.push_str(&format!("{speaker}: {text}\n"));
    }
    for turn in turns {
        let speaker = match turn.role {
            TurnRole::System => continue,
            TurnRole::User => "User",
            TurnRole::Assistant => "Assistant",
        };
        // One line per turn: the stops rely on turns starting a line with their speaker.
        let text = turn.text.trim().replace("\n\n", "\n");
        out.push_str(&format!("{speaker}: {text}\n"));
    }
    out.push_str("Assistant:");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transcript_shape() {
        let turns = [
            ChatTurn::new(TurnRole::System, "Be brief."),
            ChatTurn::new(TurnRole::User, "Say hi"),
            ChatTurn::new(TurnRole::Assistant, "Hi."),
            ChatTurn::new(TurnRole::User, "Again\n\nplease"),
        ];
        assert_eq!(
            render_transcript(&turns, None),
            "A conversation between a user and a helpful assistant. The assistant answers in \
             plain, complete sentences.\n\nBe brief.\n\n\
             User: What is the capital of France?\n\
             Assistant: The capital of France is Paris, a city on the river Seine.\n\
             User: Say hi\nAssistant: Hi.\nUser: Again\nplease\nAssistant:"
        );
    }

    #[test]
    fn extra_header_follows_the_system_text() {
        let turns = [ChatTurn::new(TurnRole::User, "x")];
        let text = render_transcript(&turns, Some("Tools: t"));
        assert!(
            text.contains("sentences.\n\nTools: t\n\nUser: What"),
            "{text}"
        );
    }

    #[test]
    fn every_stop_marks_a_new_turn_or_a_run_of_blank_lines() {
        for stop in TRANSCRIPT_STOPS {
            assert!(stop.starts_with('\n'), "{stop:?}");
        }
    }

    #[test]
    fn a_transcript_started_again_ends_the_answer() {
        let restarted = format!("The sea is blue.\n\n{PREAMBLE}");
        let cut = TRANSCRIPT_STOPS
            .iter()
            .filter_map(|stop| restarted.find(stop))
            .min();
        assert_eq!(
            cut.map(|at| restarted[..at].trim()),
            Some("The sea is blue.")
        );
    }
}
