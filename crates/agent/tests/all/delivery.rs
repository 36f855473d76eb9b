//! The delivery filter on real leaked-reasoning and scaffolding samples, streamed in every
//! chunking and whole.

use clawgate_agent::{Delivered, DeliveryFilter};
use clawgate_wire::Event;

/// (model, raw answer text, delivered text, reasoning when on)
const SAMPLES: &[(&str, &str, &str, &str)] = &[
    (
        "DeepSeek-R1 on vLLM without a reasoning parser",
        "<think>\nOkay, the user asks for the capital of France. That's Paris.\n</think>\n\nThe capital of France is Paris.",
        "The capital of France is Paris.",
        "Okay, the user asks for the capital of France. That's Paris.",
    ),
    (
        "Qwen3 with thinking disabled (empty block)",
        "<think>\n\n</think>\n\nHello! How can I help you today?",
        "Hello! How can I help you today?",
        "",
    ),
    (
        "GLM-4.5 through Ollama, reasoning inline",
        "<think>The user wants 2+2. Simple arithmetic.</think>2 + 2 = 4.",
        "2 + 2 = 4.",
        "The user wants 2+2. Simple arithmetic.",
    ),
    (
        "MiniMax-M2 interleaved thinking",
        "<think>\nI should greet briefly.\n</think>\n\nHi there.\n<think>Maybe add an offer.</think>\n\nWhat can I do for you?",
        "Hi there.\nWhat can I do for you?",
        "I should greet briefly.\nMaybe add an offer.",
    ),
    (
        "gpt-oss harmony leaked by LM Studio",
        "<|channel|>analysis<|message|>User asks for the capital. Simple.<|end|><|start|>assistant<|channel|>final<|message|>The capital of France is Paris.",
        "The capital of France is Paris.",
        "User asks for the capital. Simple.",
    ),
    (
        "think tags inside a code fence are content",
        "Use this:\n```xml\n<think>not reasoning</think>\n```\nDone.",
        "Use this:\n```xml\n<think>not reasoning</think>\n```\nDone.",
        "",
    ),
    (
        "leaked tool call scaffolding",
        "Sure.<tool_call>{\"name\": \"read\", \"arguments\": {\"path\": \"a\"}}</tool_call> Done.",
        "Sure. Done.",
        "",
    ),
    (
        "leaked function_calls block with a namespace",
        "Checking.\n<fn:function_calls>\n<fn:invoke name=\"ls\">\n</fn:invoke>\n</fn:function_calls>\nAll good.",
        "Checking.\n\nAll good.",
        "",
    ),
    (
        "system reminder and previous response leaks",
        "<system-reminder>Be concise.</system-reminder>Hello.<previous_response>old</previous_response>",
        "Hello.",
        "",
    ),
    (
        "scaffolding explained in inline code stays",
        "Models emit `<tool_call>` tags; this one did not.",
        "Models emit `<tool_call>` tags; this one did not.",
        "",
    ),
    (
        "ChatML end token leaked by llama.cpp",
        "The answer is 42.<|im_end|>",
        "The answer is 42.",
        "",
    ),
];

fn run(text: &str, chunk: usize, reasoning_on: bool) -> (String, String, bool) {
    let mut f = DeliveryFilter::new(reasoning_on);
    let mut out = Vec::new();
    let chars: Vec<char> = text.chars().collect();
    for piece in chars.chunks(chunk.max(1)) {
        out.extend(f.push(&Event::TextDelta {
            text: piece.iter().collect(),
        }));
    }
    out.extend(f.finish());
    let mut delivered = String::new();
    let mut reasoning = String::new();
    for d in out {
        match d {
            Delivered::Text(t) => delivered.push_str(&t),
            Delivered::Reasoning(r) => reasoning.push_str(&r),
        }
    }
    (delivered, reasoning, f.is_silent())
}

#[test]
fn real_samples_deliver_final_text_only() {
    for (name, raw, want, reasoning) in SAMPLES {
        let whole = DeliveryFilter::filter_text(raw, "", false);
        assert_eq!(whole.text.as_deref().unwrap_or(""), *want, "{name}");
        assert_eq!(whole.reasoning, None, "{name}: reasoning off");
        let on = DeliveryFilter::filter_text(raw, "", true);
        assert_eq!(
            on.reasoning.as_deref().unwrap_or(""),
            *reasoning,
            "{name}: reasoning on"
        );
        for chunk in 1..=9 {
            let (text, _, _) = run(raw, chunk, false);
            assert_eq!(text.trim(), *want, "{name}, chunks of {chunk}");
        }
    }
}

#[test]
fn structured_reasoning_is_separate() {
    let a = DeliveryFilter::filter_text("Answer.", "thinking hard", true);
    assert_eq!(a.text.as_deref(), Some("Answer."));
    assert_eq!(a.reasoning.as_deref(), Some("thinking hard"));
    let b = DeliveryFilter::filter_text("Answer.", "thinking hard", false);
    assert_eq!(b.reasoning, None);
}

/// The turn keeps for its transcript the events the filter split (one split per answer): the
/// reasoning as reasoning even when it is not delivered, the answer text as text.
#[test]
fn push_split_returns_the_split_events_with_what_is_delivered() {
    let mut f = DeliveryFilter::new(false);
    let (mut split, mut delivered) = f.push_split(&Event::TextDelta {
        text: "<think>plan</think>Answer.".into(),
    });
    let (tail_split, tail) = f.finish_split();
    split.extend(tail_split);
    delivered.extend(tail);
    let reasoning: String = split
        .iter()
        .filter_map(|e| match e {
            Event::ReasoningDelta { text } => Some(text.as_str()),
            _ => None,
        })
        .collect();
    let text: String = split
        .iter()
        .filter_map(|e| match e {
            Event::TextDelta { text } => Some(text.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(reasoning, "plan");
    assert_eq!(text, "Answer.");
    assert_eq!(delivered, vec![Delivered::Text("Answer.".into())]);
}

#[test]
fn no_reply_is_suppressed_streamed_or_whole() {
    for silent in [
        "NO_REPLY",
        "  no_reply  ",
        "NO_REPLY.",
        "NO_REPLY\nnothing to add",
        "<think>x</think>NO_REPLY",
    ] {
        for chunk in 1..=5 {
            let (text, _, is_silent) = run(silent, chunk, false);
            assert!(is_silent, "{silent:?} chunk {chunk}");
            assert_eq!(text, "", "{silent:?} streamed something");
        }
        assert!(DeliveryFilter::filter_text(silent, "", false).silent);
    }
    for spoken in ["NO_REPLYING is a word", "No reply needed.", "NO", "NOT_NOW"] {
        for chunk in 1..=5 {
            let (text, _, is_silent) = run(spoken, chunk, false);
            assert!(!is_silent, "{spoken:?}");
            assert_eq!(text, spoken);
        }
    }
}
