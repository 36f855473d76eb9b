//! Reasoning-tag splitter: never panics, and the (reasoning, text) runs do not depend on how
//! the text is cut into deltas (two cut points chosen by the fuzzer).
#![no_main]

use clawgate_wire::Event;
use clawgate_wire::reasoning_tags::ReasoningTagSplitter;
use libfuzzer_sys::fuzz_target;

fn runs(chunks: &[&str]) -> Vec<(bool, String)> {
    let mut splitter = ReasoningTagSplitter::new();
    let mut events = Vec::new();
    for chunk in chunks {
        events.extend(splitter.push(&Event::TextDelta {
            text: (*chunk).to_owned(),
        }));
    }
    events.extend(splitter.finish());
    let mut out: Vec<(bool, String)> = Vec::new();
    for event in events {
        let (reasoning, text) = match event {
            Event::TextDelta { text } => (false, text),
            Event::ReasoningDelta { text } => (true, text),
            _ => continue,
        };
        match out.last_mut() {
            Some((r, t)) if *r == reasoning => t.push_str(&text),
            _ => out.push((reasoning, text)),
        }
    }
    out
}

fn boundary(text: &str, mut at: usize) -> usize {
    at %= text.len() + 1;
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 2 {
        return;
    }
    let text = String::from_utf8_lossy(&data[2..]);
    let a = boundary(&text, usize::from(data[0]));
    let b = boundary(&text, usize::from(data[1])).max(a);
    let whole = runs(&[&text]);
    assert_eq!(runs(&[&text[..a], &text[a..b], &text[b..]]), whole);
});
