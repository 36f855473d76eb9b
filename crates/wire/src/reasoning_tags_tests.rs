use super::*;

/// Collapses events into runs of (is_reasoning, text).
fn runs(events: &[Event]) -> Vec<(bool, String)> {
    let mut out: Vec<(bool, String)> = Vec::new();
    for event in events {
        let (reasoning, text) = match event {
            Event::TextDelta { text } => (false, text),
            Event::ReasoningDelta { text } => (true, text),
            _ => continue,
        };
        match out.last_mut() {
            Some((r, t)) if *r == reasoning => t.push_str(text),
            _ => out.push((reasoning, text.clone())),
        }
    }
    out
}

fn run_chunks(chunks: &[&str]) -> Vec<(bool, String)> {
    let mut splitter = ReasoningTagSplitter::new();
    let mut events = Vec::new();
    for chunk in chunks {
        events.extend(splitter.push(&Event::TextDelta {
            text: (*chunk).to_owned(),
        }));
    }
    events.extend(splitter.finish());
    runs(&events)
}

fn char_bounds(s: &str) -> Vec<usize> {
    (0..=s.len()).filter(|i| s.is_char_boundary(*i)).collect()
}

/// Every 2-way and 3-way split and the char-by-char feed give the unsplit result.
fn check_all_splits(input: &str) -> Vec<(bool, String)> {
    let expected = run_chunks(&[input]);
    let bounds = char_bounds(input);
    for &a in &bounds {
        assert_eq!(
            run_chunks(&[&input[..a], &input[a..]]),
            expected,
            "{input:?} split at {a}"
        );
        for &b in bounds.iter().filter(|b| **b >= a) {
            assert_eq!(
                run_chunks(&[&input[..a], &input[a..b], &input[b..]]),
                expected,
                "{input:?} split at {a},{b}"
            );
        }
    }
    let chars: Vec<String> = input.chars().map(String::from).collect();
    let pieces: Vec<&str> = chars.iter().map(String::as_str).collect();
    assert_eq!(run_chunks(&pieces), expected, "{input:?} char by char");
    expected
}

fn split(input: &str) -> (String, String) {
    let runs = check_all_splits(input);
    let via_fn = split_reasoning_tags(input);
    let mut reasoning = String::new();
    let mut text = String::new();
    for (is_reasoning, piece) in runs {
        if is_reasoning {
            reasoning.push_str(&piece);
        } else {
            text.push_str(&piece);
        }
    }
    assert_eq!(
        via_fn,
        (reasoning.clone(), text.clone()),
        "split_reasoning_tags agrees"
    );
    (reasoning, text)
}

fn pair(reasoning: &str, text: &str) -> (String, String) {
    (reasoning.to_owned(), text.to_owned())
}

#[test]
fn a_role_line_ends_at_template_markup_instead_of_skipping_into_it() {
    // Found by the template-token property: the role-line skip used to run through tokens and
    // resume in the middle of one, leaking `<|channel|>` into the answer.
    let input = "<<|im_start|><  <<<|start|><|end_header_id|><|channel|>";
    let (_, text) = split(input);
    assert!(!text.contains("<|channel|>"), "{text:?}");
    check_all_splits(input);
}

#[test]
fn think_blocks_become_reasoning() {
    assert_eq!(
        split("<think>plan</think>\n\nAnswer"),
        pair("plan", "Answer")
    );
    assert_eq!(
        split("Hi <thinking>x</thinking>there"),
        pair("x", "Hi there")
    );
    assert_eq!(
        split("<thought>a</thought>b<antthinking>c</antthinking>d"),
        pair("ac", "bd")
    );
    assert_eq!(split("<THINK reason=\"x\">up</Think >ok"), pair("up", "ok"));
    assert_eq!(split("a < b and c<d"), pair("", "a < b and c<d"));
}

#[test]
fn unclosed_block_keeps_the_rest_as_reasoning() {
    assert_eq!(
        split("Sure.<think>still going <b>"),
        pair("still going <b>", "Sure.")
    );
}

#[test]
fn stray_close_and_final_tags_are_removed() {
    assert_eq!(split("leak</think>Answer"), pair("", "leakAnswer"));
    assert_eq!(split("<final>Answer</final>"), pair("", "Answer"));
}

#[test]
fn code_spans_and_fences_are_untouched() {
    let fenced = "Use:\n```html\n<think>x</think>\n```\nand `<think>` inline <think>r</think>";
    assert_eq!(
        split(fenced),
        pair(
            "r",
            "Use:\n```html\n<think>x</think>\n```\nand `<think>` inline "
        )
    );
    let tilde = "~~~\n<|im_end|>\n~~~\n<|im_end|>end";
    assert_eq!(split(tilde), pair("", "~~~\n<|im_end|>\n~~~\nend"));
    let double = "``a ` <think>b</think>`` <think>c</think>";
    assert_eq!(split(double), pair("c", "``a ` <think>b</think>`` "));
    // An unclosed span ends at the line break: tags on the next line are live again.
    assert_eq!(split("`open\n<think>t</think>x"), pair("t", "`open\nx"));
}

#[test]
fn chat_template_tokens_are_stripped() {
    assert_eq!(
        split("<|im_start|>assistant\nHello<|im_end|>"),
        pair("", "Hello")
    );
    assert_eq!(
        split("<|start_header_id|>assistant<|end_header_id|>\n\nHi<|eot_id|>"),
        pair("", "Hi")
    );
    assert_eq!(
        split("<start_of_turn>model\nYo<end_of_turn>"),
        pair("", "Yo")
    );
}

#[test]
fn harmony_channels_split_analysis_from_final() {
    let harmony = "<|channel|>analysis<|message|>User wants 2+2.<|end|><|start|>assistant<|channel|>final<|message|>4<|return|>";
    assert_eq!(split(harmony), pair("User wants 2+2.", "4"));
    let commentary = "<|start|>assistant<|channel|>commentary to=functions.x <|constrain|>json<|message|>{}<|call|>done";
    assert_eq!(split(commentary), pair("{}", "done"));
}

#[test]
fn non_text_events_pass_through_and_flush_held_text() {
    let mut splitter = ReasoningTagSplitter::new();
    let mut events = splitter.push(&Event::TextDelta {
        text: "a<thi".into(),
    });
    assert_eq!(
        events,
        vec![Event::TextDelta { text: "a".into() }],
        "holds only the tag prefix"
    );
    events = splitter.push(&Event::Finished {
        stop_reason: crate::StopReason::Stop,
    });
    assert_eq!(
        events,
        vec![
            Event::TextDelta {
                text: "<thi".into()
            },
            Event::Finished {
                stop_reason: crate::StopReason::Stop
            },
        ]
    );
}

#[test]
fn finished_resolves_an_open_channel_name_before_it() {
    let mut splitter = ReasoningTagSplitter::new();
    let mut events = splitter.push(&Event::TextDelta {
        text: "<|channel|>analys".into(),
    });
    events.extend(splitter.push(&Event::Finished {
        stop_reason: crate::StopReason::Stop,
    }));
    assert_eq!(
        events,
        vec![
            Event::ReasoningDelta {
                text: "analys".into()
            },
            Event::Finished {
                stop_reason: crate::StopReason::Stop
            },
        ]
    );
    assert!(splitter.finish().is_empty());
}

#[test]
fn long_non_tags_are_not_held_forever() {
    let text = format!("<think{}", " x".repeat(40));
    let mut splitter = ReasoningTagSplitter::new();
    let events = splitter.push_text(&text);
    assert_eq!(runs(&events), vec![(false, text)]);
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    /// Pieces that exercise every state: tags (whole and in halves), template tokens, code
    /// markers, line breaks and plain text.
    const PIECES: &[&str] = &[
        "<think>",
        "</think>",
        "<thi",
        "nk>",
        "</",
        "<thinking>",
        "</thinking>",
        "<final>",
        "<|channel|>",
        "analysis",
        "final",
        "<|message|>",
        "<|end|>",
        "<|start|>",
        "assistant",
        "<|im_start|>",
        "<|im_end|>",
        "<|start_header_id|>",
        "<|end_header_id|>",
        "`",
        "```",
        "~~~",
        "\n",
        "  ",
        "<",
        ">",
        "a",
        "é",
        "🙂",
        "text ",
        "<|",
    ];

    fn input() -> impl Strategy<Value = String> {
        prop::collection::vec(prop::sample::select(PIECES), 0..24).prop_map(|p| p.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn any_split_gives_the_unsplit_result(text in input(), cuts in prop::collection::vec(any::<usize>(), 0..6)) {
            let expected = run_chunks(&[&text]);
            let bounds = char_bounds(&text);
            let mut points: Vec<usize> = cuts.iter().map(|c| bounds[c % bounds.len()]).collect();
            points.sort_unstable();
            let mut chunks = Vec::new();
            let mut start = 0;
            for point in points {
                chunks.push(&text[start..point]);
                start = point;
            }
            chunks.push(&text[start..]);
            prop_assert_eq!(run_chunks(&chunks), expected);
        }

        #[test]
        fn text_outside_code_never_keeps_template_tokens(text in input()) {
            let (_, answer) = split_reasoning_tags(&text);
            if !text.contains('`') && !text.contains('~') {
                for token in ["<|im_start|>", "<|im_end|>", "<|channel|>", "<|message|>", "<|end|>"] {
                    prop_assert!(!answer.contains(token), "{token} leaked from {text:?} into {answer:?}");
                }
            }
        }
    }
}
