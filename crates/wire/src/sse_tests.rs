use super::*;

/// Every way of cutting `input` in two (and byte by byte) yields the same frames.
fn parse_all_splits(input: &[u8]) -> Vec<Frame> {
    let mut whole = SseParser::new();
    let mut expected = whole.push(input);
    expected.extend(whole.finish());
    for cut in 0..=input.len() {
        let mut parser = SseParser::new();
        let mut frames = parser.push(&input[..cut]);
        frames.extend(parser.push(&input[cut..]));
        frames.extend(parser.finish());
        assert_eq!(frames, expected, "split at byte {cut}");
    }
    let mut parser = SseParser::new();
    let mut frames = Vec::new();
    for byte in input {
        frames.extend(parser.push(std::slice::from_ref(byte)));
    }
    frames.extend(parser.finish());
    assert_eq!(frames, expected, "byte by byte");
    expected
}

#[test]
fn fields_comments_and_multiline_data() {
    let input = b": comment\nevent: message_start\ndata: {\"a\":1}\n\ndata: line one\ndata:line two\ndata\n\nid: 7\nretry: 1500\ndata: x\n\n";
    let frames = parse_all_splits(input);
    assert_eq!(
        frames,
        vec![
            Frame::named("message_start", "{\"a\":1}"),
            Frame::data("line one\nline two\n"),
            Frame::data("x"),
        ]
    );
    let mut parser = SseParser::new();
    parser.push(input);
    assert_eq!(parser.last_event_id(), Some("7"));
    assert_eq!(parser.retry_ms(), Some(1500));
}

#[test]
fn crlf_cr_and_lf_line_endings() {
    for input in [
        &b"data: a\r\n\r\ndata: b\r\n\r\n"[..],
        b"data: a\r\rdata: b\r\r",
        b"data: a\n\ndata: b\n\n",
        b"data: a\r\n\ndata: b\n\r\n",
    ] {
        assert_eq!(
            parse_all_splits(input),
            vec![Frame::data("a"), Frame::data("b")],
            "{:?}",
            String::from_utf8_lossy(input)
        );
    }
}

#[test]
fn utf8_split_across_chunks_and_bom() {
    let input = "\u{FEFF}data: héllo 🙂\n\n".as_bytes();
    assert_eq!(parse_all_splits(input), vec![Frame::data("héllo 🙂")]);
}

#[test]
fn event_without_data_is_not_dispatched_and_type_resets() {
    let frames = parse_all_splits(b"event: ping\n\ndata: after\n\n");
    assert_eq!(frames, vec![Frame::data("after")]);
}

#[test]
fn pending_event_is_flushed_at_end_of_body() {
    assert_eq!(
        parse_all_splits(b"data: [DONE]\n"),
        vec![Frame::data("[DONE]")]
    );
    assert_eq!(
        parse_all_splits(b"data: [DONE]"),
        vec![Frame::data("[DONE]")]
    );
}

#[test]
fn write_frame_parses_back() {
    for frame in [
        Frame::data("{\"x\":1}"),
        Frame::named("response.created", "{}"),
        Frame::data("two\nlines"),
        Frame::data(""),
    ] {
        let text = write_frame(&frame);
        assert_eq!(parse_all_splits(text.as_bytes()), vec![frame]);
    }
    assert_eq!(
        write_frame(&Frame::named("error", "{}")),
        "event: error\ndata: {}\n\n"
    );
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    fn frame() -> impl Strategy<Value = Frame> {
        (
            prop::option::of("[a-z_.]{1,12}"),
            "[a-zA-Z0-9 :{}\"é🙂\n]{0,24}",
        )
            .prop_map(|(event, data)| Frame { event, data })
    }

    proptest! {
        #[test]
        fn written_frames_parse_back_under_any_split(
            frames in prop::collection::vec(frame(), 0..6),
            cut in any::<usize>(),
        ) {
            let body: String = frames.iter().map(write_frame).collect();
            let bytes = body.as_bytes();
            let cut = cut % (bytes.len() + 1);
            let mut parser = SseParser::new();
            let mut parsed = parser.push(&bytes[..cut]);
            parsed.extend(parser.push(&bytes[cut..]));
            parsed.extend(parser.finish());
            prop_assert_eq!(parsed, frames);
        }
    }
}
