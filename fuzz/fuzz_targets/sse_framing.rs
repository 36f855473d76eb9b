//! SSE framing: never panics; the frames do not depend on where the body is cut; a written
//! frame parses back to itself (line breaks normalised to `\n`).
#![no_main]

use clawgate_wire::Frame;
use clawgate_wire::sse::{SseParser, write_frame};
use libfuzzer_sys::fuzz_target;

fn parse(pieces: &[&[u8]]) -> Vec<Frame> {
    let mut parser = SseParser::new();
    let mut frames = Vec::new();
    for piece in pieces {
        frames.extend(parser.push(piece));
    }
    frames.extend(parser.finish());
    frames
}

fuzz_target!(|data: &[u8]| {
    let Some((&cut, body)) = data.split_first() else {
        return;
    };
    let cut = usize::from(cut) % (body.len() + 1);
    let whole = parse(&[body]);
    assert_eq!(parse(&[&body[..cut], &body[cut..]]), whole);
    for frame in whole {
        let normalised = Frame {
            event: frame.event.map(|e| e.replace(['\r', '\n'], "")),
            data: frame.data.replace("\r\n", "\n").replace('\r', "\n"),
        };
        let written = write_frame(&normalised);
        assert_eq!(parse(&[written.as_bytes()]), vec![normalised]);
    }
});
