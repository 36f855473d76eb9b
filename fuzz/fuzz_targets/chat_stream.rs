//! Chat stream decoding on arbitrary bytes: framing + decoder + collector never panic; a body
//! that decodes cleanly re-encodes (chat encoder) into a body that decodes cleanly again.
#![no_main]

use clawgate_wire::collect::EventCollector;
use clawgate_wire::openai_chat::{Decoder, Encoder};
use clawgate_wire::sse::{SseParser, write_frame};
use clawgate_wire::{Event, StreamDecoder, StreamEncoder, WireError};
use libfuzzer_sys::fuzz_target;

fn decode(body: &[u8]) -> Result<Vec<Event>, WireError> {
    let mut parser = SseParser::new();
    let mut frames = parser.push(body);
    frames.extend(parser.finish());
    let mut decoder = Decoder::new();
    let mut events = Vec::new();
    for frame in &frames {
        events.extend(decoder.feed(frame)?);
    }
    events.extend(decoder.finish()?);
    Ok(events)
}

fuzz_target!(|data: &[u8]| {
    let Ok(events) = decode(data) else {
        return;
    };
    let mut collector = EventCollector::new();
    for event in &events {
        collector.push(event);
    }
    let _ = collector.finish();
    let (id, model) = match events.first() {
        Some(Event::Started { id, model }) => (id.clone(), model.clone()),
        _ => (String::new(), String::new()),
    };
    let mut encoder = Encoder::new(&id, &model);
    let mut body = String::new();
    for event in &events {
        for frame in encoder.encode(event) {
            body.push_str(&write_frame(&frame));
        }
    }
    for frame in encoder.finish() {
        body.push_str(&write_frame(&frame));
    }
    assert!(decode(body.as_bytes()).is_ok(), "re-encoded stream failed to decode");
});
