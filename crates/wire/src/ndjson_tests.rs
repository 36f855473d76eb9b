use super::*;

fn parse_all_splits(input: &[u8]) -> Vec<Frame> {
    let mut whole = NdjsonParser::new();
    let mut expected = whole.push(input);
    expected.extend(whole.finish());
    for cut in 0..=input.len() {
        for cut2 in cut..=input.len() {
            let mut parser = NdjsonParser::new();
            let mut frames = parser.push(&input[..cut]);
            frames.extend(parser.push(&input[cut..cut2]));
            frames.extend(parser.push(&input[cut2..]));
            frames.extend(parser.finish());
            assert_eq!(frames, expected, "split at {cut}, {cut2}");
        }
    }
    expected
}

#[test]
fn lines_blank_lines_crlf_and_final_line() {
    let frames = parse_all_splits("{\"a\":1}\r\n\n  \n{\"b\":\"é🙂\"}\n{\"c\":3}".as_bytes());
    assert_eq!(
        frames,
        vec![
            Frame::data("{\"a\":1}"),
            Frame::data("{\"b\":\"é🙂\"}"),
            Frame::data("{\"c\":3}"),
        ]
    );
}

#[test]
fn bom_is_ignored() {
    assert_eq!(
        parse_all_splits("\u{FEFF}{\"a\":1}\n".as_bytes()),
        vec![Frame::data("{\"a\":1}")]
    );
}

#[test]
fn write_line_is_one_line() {
    let frame = Frame::data("{\"a\":\"x\"}");
    assert_eq!(write_line(&frame), "{\"a\":\"x\"}\n");
    let broken = write_line(&Frame::data("a\nb"));
    assert_eq!(broken.matches('\n').count(), 1);
}
