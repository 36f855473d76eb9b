//! Every dialect's stream decoder on arbitrary bytes (through SSE and NDJSON framing): never
//! panics, and never yields an event after `Finished`.
#![no_main]

use clawgate_wire::ndjson::NdjsonParser;
use clawgate_wire::sse::SseParser;
use clawgate_wire::{Event, Frame, StreamDecoder, anthropic, ollama, openai_chat, openai_responses};
use libfuzzer_sys::fuzz_target;

fn run(decoder: &mut dyn StreamDecoder, frames: &[Frame]) {
    let mut finished = false;
    for frame in frames {
        match decoder.feed(frame) {
            Ok(events) => {
                for event in events {
                    assert!(!finished, "event after Finished: {event:?}");
                    finished |= matches!(event, Event::Finished { .. });
                }
            }
            Err(_) => return,
        }
    }
    if let Ok(events) = decoder.finish() {
        for event in events {
            assert!(!finished, "event after Finished: {event:?}");
            finished |= matches!(event, Event::Finished { .. });
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let mut sse = SseParser::new();
    let mut frames = sse.push(data);
    frames.extend(sse.finish());
    run(&mut openai_chat::Decoder::new(), &frames);
    run(&mut openai_responses::Decoder::new(), &frames);
    run(&mut anthropic::Decoder::new(), &frames);
    let mut ndjson = NdjsonParser::new();
    let mut lines = ndjson.push(data);
    lines.extend(ndjson.finish());
    run(&mut ollama::Decoder::new(), &lines);
});
