//! NDJSON framing: never panics; lines do not depend on where the body is cut; every line
//! written by `write_line` is one line that parses back unchanged.
#![no_main]

use clawgate_wire::ndjson::{NdjsonParser, write_line};
use libfuzzer_sys::fuzz_target;

fn parse(pieces: &[&[u8]]) -> Vec<clawgate_wire::Frame> {
    let mut parser = NdjsonParser::new();
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
        let written = write_line(&frame);
        assert_eq!(written.matches('\n').count(), 1);
        let again = parse(&[written.as_bytes()]);
        assert!(again.len() <= 1);
        // A fresh parser takes a leading U+FEFF as the body's BOM.
        let expected = frame.data.strip_prefix('\u{FEFF}').unwrap_or(&frame.data);
        if !frame.data.contains('\r') && !expected.trim().is_empty() {
            assert_eq!(again[0].data, expected);
        }
    }
});
