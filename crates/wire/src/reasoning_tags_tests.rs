use super::*;

/// Output collapsed into runs of (is_reasoning, text), plus the tool calls as
/// (index, name, arguments) and the stop reason of `Finished`, if any.
#[derive(Debug, Clone, PartialEq, Default)]
struct Split {
    runs: Vec<(bool, String)>,
    calls: Vec<(u32, String, String)>,
    stop: Option<StopReason>,
}

fn collect(events: &[Event]) -> Split {
    let mut split = Split::default();
    for event in events {
        let (reasoning, text) = match event {
            Event::TextDelta { text } => (false, text),
            Event::ReasoningDelta { text } => (true, text),
            Event::ToolCallStart { index, name, .. } => {
                split.calls.push((*index, name.clone(), String::new()));
                continue;
            }
            Event::ToolCallArgsDelta { index, delta } => {
                if let Some(call) = split.calls.iter_mut().find(|c| c.0 == *index) {
                    call.2.push_str(delta);
                }
                continue;
            }
            Event::Finished { stop_reason } => {
                split.stop = Some(*stop_reason);
                continue;
            }
            _ => continue,
        };
        match split.runs.last_mut() {
            Some((r, t)) if *r == reasoning => t.push_str(text),
            _ => split.runs.push((reasoning, text.clone())),
        }
    }
    split
}

/// Collapses events into runs of (is_reasoning, text).
fn runs(events: &[Event]) -> Vec<(bool, String)> {
    collect(events).runs
}

fn lead(limit: usize) -> SplitterOptions {
    SplitterOptions {
        tools: Vec::new(),
        reasoning_lead: limit,
    }
}

fn tools(names: &[&str]) -> SplitterOptions {
    SplitterOptions {
        tools: names.iter().map(|n| (*n).to_owned()).collect(),
        reasoning_lead: 0,
    }
}

fn feed(options: &SplitterOptions, chunks: &[&str], finished: bool) -> Split {
    let mut splitter = ReasoningTagSplitter::with_options(options.clone());
    let mut events = Vec::new();
    for chunk in chunks {
        events.extend(splitter.push(&Event::TextDelta {
            text: (*chunk).to_owned(),
        }));
    }
    if finished {
        events.extend(splitter.push(&Event::Finished {
            stop_reason: StopReason::Stop,
        }));
    } else {
        events.extend(splitter.finish());
    }
    collect(&events)
}

fn char_bounds(s: &str) -> Vec<usize> {
    (0..=s.len()).filter(|i| s.is_char_boundary(*i)).collect()
}

/// Every 2-way and 3-way split and the char-by-char feed give the unsplit result.
fn check_all_splits_with(options: &SplitterOptions, input: &str) -> Split {
    let expected = feed(options, &[input], true);
    let bounds = char_bounds(input);
    for &a in &bounds {
        assert_eq!(
            feed(options, &[&input[..a], &input[a..]], true),
            expected,
            "{input:?} split at {a}"
        );
        for &b in bounds.iter().filter(|b| **b >= a) {
            assert_eq!(
                feed(options, &[&input[..a], &input[a..b], &input[b..]], true),
                expected,
                "{input:?} split at {a},{b}"
            );
        }
    }
    let chars: Vec<String> = input.chars().map(String::from).collect();
    let pieces: Vec<&str> = chars.iter().map(String::as_str).collect();
    assert_eq!(
        feed(options, &pieces, true),
        expected,
        "{input:?} char by char"
    );
    expected
}

fn check_all_splits(input: &str) -> Vec<(bool, String)> {
    check_all_splits_with(&lead(UNLIMITED_LEAD), input).runs
}

fn joined(runs: &[(bool, String)]) -> (String, String) {
    let mut reasoning = String::new();
    let mut text = String::new();
    for (is_reasoning, piece) in runs {
        if *is_reasoning {
            reasoning.push_str(piece);
        } else {
            text.push_str(piece);
        }
    }
    (reasoning, text)
}

/// `(reasoning, text)` by every split, checked against [`split_reasoning_tags`].
fn split(input: &str) -> (String, String) {
    let result = joined(&check_all_splits(input));
    assert_eq!(
        split_reasoning_tags(input),
        result,
        "split_reasoning_tags agrees"
    );
    result
}

/// Like [`split`], for a stream with no lead (what a model not known to reason gets).
fn split_no_lead(input: &str) -> (String, String) {
    joined(&check_all_splits_with(&lead(0), input).runs)
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
    assert_eq!(split_no_lead("leak</think>Answer"), pair("", "leakAnswer"));
    assert_eq!(split("<final>Answer</final>"), pair("", "Answer"));
    // A closing tag after a closed block is stray too, lead or not.
    assert_eq!(split("<think>a</think>b</think>c"), pair("a", "bc"));
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
    // A call to a tool the request does not have is not for the user: reasoning.
    let commentary = "<|start|>assistant<|channel|>commentary to=functions.x <|constrain|>json<|message|>{}<|call|>done";
    assert_eq!(split(commentary), pair("{}", "done"));
    // A commentary preamble without a recipient is meant for the user.
    let preamble = "<|channel|>commentary<|message|>Checking the files.<|end|>";
    assert_eq!(split(preamble), pair("", "Checking the files."));
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
        stop_reason: StopReason::Stop,
    });
    assert_eq!(
        events,
        vec![
            Event::TextDelta {
                text: "<thi".into()
            },
            Event::Finished {
                stop_reason: StopReason::Stop
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
        stop_reason: StopReason::Stop,
    }));
    assert_eq!(
        events,
        vec![
            Event::ReasoningDelta {
                text: "analys".into()
            },
            Event::Finished {
                stop_reason: StopReason::Stop
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

#[test]
fn an_orphan_close_makes_the_lead_reasoning() {
    // vLLM/SGLang with MiniMax M2, GLM, Qwen3: the template opened the block in the prompt.
    assert_eq!(
        split("The user wants a haiku.\n</think>\n\nLeaves fall."),
        pair("The user wants a haiku.\n", "Leaves fall.")
    );
    // Template tokens before it are stripped and do not end the lead.
    assert_eq!(
        split("<|im_start|>assistant\nplan</think>answer<|im_end|>"),
        pair("plan", "answer")
    );
    // An opening tag first: an ordinary block, the lead was answer text.
    assert_eq!(split("Hi <think>x</think>there"), pair("x", "Hi there"));
    // No tag at all: everything is answer.
    assert_eq!(split("just an answer"), pair("", "just an answer"));
}

#[test]
fn without_a_lead_an_orphan_close_is_reported() {
    let mut splitter = ReasoningTagSplitter::new();
    let mut events = splitter.push_text("plan</think>answer");
    events.extend(splitter.finish());
    assert_eq!(joined(&runs(&events)), pair("", "plananswer"));
    assert!(splitter.saw_orphan_close());

    let mut normal = ReasoningTagSplitter::new();
    normal.push_text("<think>a</think>b</think>");
    assert!(
        !normal.saw_orphan_close(),
        "a later stray close is not an orphan lead"
    );
}

#[test]
fn a_lead_past_its_limit_is_answer_text() {
    let options = lead(5);
    let out = check_all_splits_with(&options, "abcdef</think>x");
    assert_eq!(joined(&out.runs), pair("", "abcdefx"));
    let out = check_all_splits_with(&options, "abcd</think>x");
    assert_eq!(joined(&out.runs), pair("abcd", "x"));
}

#[test]
fn structured_reasoning_or_calls_end_the_lead() {
    let mut splitter = ReasoningTagSplitter::with_options(lead(UNLIMITED_LEAD));
    let mut events = splitter.push(&Event::ReasoningDelta {
        text: "parsed".into(),
    });
    events.extend(splitter.push(&Event::TextDelta {
        text: "Answer".into(),
    }));
    assert_eq!(
        events,
        vec![
            Event::ReasoningDelta {
                text: "parsed".into()
            },
            Event::TextDelta {
                text: "Answer".into()
            },
        ],
        "a server that parses reasoning gets its answer streamed at once"
    );

    let mut splitter = ReasoningTagSplitter::with_options(lead(UNLIMITED_LEAD));
    assert!(splitter.push_text("held ").is_empty(), "the lead holds");
    let events = splitter.push(&Event::ToolCallStart {
        index: 0,
        id: "c".into(),
        name: "f".into(),
    });
    assert_eq!(
        events,
        vec![
            Event::TextDelta {
                text: "held ".into()
            },
            Event::ToolCallStart {
                index: 0,
                id: "c".into(),
                name: "f".into()
            },
        ]
    );
}

#[test]
fn a_harmony_commentary_to_a_tool_is_a_call() {
    // LM Studio's Responses `output_text` from gpt-oss, verbatim shape.
    let leaked = r#"<|channel|>commentary to=exec<|constrain|>json<|message|>{"command":"ls"}"#;
    let out = check_all_splits_with(&tools(&["exec"]), leaked);
    assert_eq!(joined(&out.runs), pair("", ""));
    assert_eq!(
        out.calls,
        vec![(0, "exec".to_owned(), r#"{"command":"ls"}"#.to_owned())]
    );
    assert_eq!(out.stop, Some(StopReason::ToolUse));

    let full = concat!(
        "<|channel|>analysis<|message|>Need to list.<|end|>",
        "<|start|>assistant<|channel|>commentary to=functions.exec <|constrain|>json",
        r#"<|message|>{"command":"ls"}<|call|>"#
    );
    let out = check_all_splits_with(&tools(&["exec"]), full);
    assert_eq!(joined(&out.runs), pair("Need to list.", ""));
    assert_eq!(out.calls.len(), 1);
    assert_eq!(out.calls[0].2, r#"{"command":"ls"}"#);

    // The recipient in the role part of the header.
    let role = r#"<|start|>assistant to=functions.read<|channel|>commentary json<|message|>{"path":"a<b"}<|call|>"#;
    let out = check_all_splits_with(&tools(&["exec", "read"]), role);
    assert_eq!(
        out.calls,
        vec![(0, "read".to_owned(), r#"{"path":"a<b"}"#.to_owned())]
    );
    assert_eq!(joined(&out.runs), pair("", ""));
}

#[test]
fn harmony_calls_and_upstream_calls_never_share_an_index() {
    let mut splitter = ReasoningTagSplitter::with_options(tools(&["exec"]));
    let mut events = splitter.push(&Event::ToolCallStart {
        index: 0,
        id: "up".into(),
        name: "read".into(),
    });
    events.extend(splitter.push_text("<|channel|>commentary to=exec<|message|>{}<|call|>"));
    events.extend(splitter.push(&Event::ToolCallArgsDelta {
        index: 0,
        delta: "{}".into(),
    }));
    events.extend(splitter.push(&Event::Finished {
        stop_reason: StopReason::ToolUse,
    }));
    let out = collect(&events);
    assert_eq!(
        out.calls,
        vec![
            (0, "read".to_owned(), "{}".to_owned()),
            (1, "exec".to_owned(), "{}".to_owned())
        ]
    );
}

#[test]
fn harmony_finished_by_length_keeps_length() {
    let mut splitter = ReasoningTagSplitter::with_options(tools(&["exec"]));
    let mut events = splitter.push_text("<|channel|>commentary to=exec<|message|>{\"a\":");
    events.extend(splitter.push(&Event::Finished {
        stop_reason: StopReason::Length,
    }));
    assert_eq!(collect(&events).stop, Some(StopReason::Length));
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    /// Pieces that exercise every state: tags (whole and in halves), template and harmony
    /// tokens, header words, code markers, line breaks and plain text.
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
        "commentary",
        " to=functions.exec",
        " to=exec",
        " to=other",
        "<|constrain|>",
        "json",
        "{\"a\":1}",
        "<|message|>",
        "<|end|>",
        "<|call|>",
        "<|return|>",
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

    const TOKENS: &[&str] = &[
        "<|im_start|>",
        "<|im_end|>",
        "<|channel|>",
        "<|message|>",
        "<|end|>",
        "<|start|>",
        "<|call|>",
        "<|return|>",
        "<|constrain|>",
    ];

    fn input() -> impl Strategy<Value = String> {
        prop::collection::vec(prop::sample::select(PIECES), 0..24).prop_map(|p| p.concat())
    }

    fn options() -> impl Strategy<Value = SplitterOptions> {
        (
            prop::sample::select(vec![0usize, 7, UNLIMITED_LEAD]),
            any::<bool>(),
        )
            .prop_map(|(reasoning_lead, with_tools)| SplitterOptions {
                tools: if with_tools {
                    vec!["exec".to_owned()]
                } else {
                    Vec::new()
                },
                reasoning_lead,
            })
    }

    fn cut<'a>(text: &'a str, cuts: &[usize]) -> Vec<&'a str> {
        let bounds = char_bounds(text);
        let mut points: Vec<usize> = cuts.iter().map(|c| bounds[c % bounds.len()]).collect();
        points.sort_unstable();
        let mut chunks = Vec::new();
        let mut start = 0;
        for point in points {
            chunks.push(&text[start..point]);
            start = point;
        }
        chunks.push(&text[start..]);
        chunks
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn any_split_gives_the_unsplit_result(
            text in input(),
            options in options(),
            cuts in prop::collection::vec(any::<usize>(), 0..6),
        ) {
            let expected = feed(&options, &[&text], true);
            prop_assert_eq!(feed(&options, &cut(&text, &cuts), true), expected);
        }

        #[test]
        fn text_outside_code_never_keeps_template_tokens(text in input(), options in options()) {
            let (_, answer) = joined(&feed(&options, &[&text], true).runs);
            if !text.contains('`') && !text.contains('~') {
                for token in TOKENS {
                    prop_assert!(!answer.contains(token), "{token} leaked from {text:?} into {answer:?}");
                }
            }
        }

        #[test]
        fn text_before_an_orphan_close_is_never_answer(
            words in prop::collection::vec(prop::sample::select(&["ñu ", "ñandú", "\n", "ñ"][..]), 1..8),
            rest in input(),
            cuts in prop::collection::vec(any::<usize>(), 0..6),
        ) {
            let lead: String = words.concat();
            let text = format!("{lead}</think>{rest}");
            let out = feed(&super::lead(UNLIMITED_LEAD), &cut(&text, &cuts), true);
            let (reasoning, answer) = joined(&out.runs);
            prop_assert!(!answer.contains('ñ'), "{text:?} gave answer {answer:?}");
            prop_assert!(reasoning.starts_with(&lead), "{text:?} gave reasoning {reasoning:?}");
        }

        #[test]
        fn harmony_call_arguments_survive_any_split(
            args in "[a-z0-9{}\":, <>]{0,24}",
            analysis in "[a-z ]{0,12}",
            recipient_in_role in any::<bool>(),
            cuts in prop::collection::vec(any::<usize>(), 0..8),
        ) {
            let header = if recipient_in_role {
                "<|start|>assistant to=functions.exec<|channel|>commentary <|constrain|>json"
            } else {
                "<|start|>assistant<|channel|>commentary to=exec<|constrain|>json"
            };
            let text = format!(
                "<|channel|>analysis<|message|>{analysis}<|end|>{header}<|message|>{args}<|call|>"
            );
            let options = tools(&["exec"]);
            let out = feed(&options, &cut(&text, &cuts), true);
            prop_assert_eq!(out.calls, vec![(0, "exec".to_owned(), args.clone())]);
            prop_assert_eq!(out.stop, Some(StopReason::ToolUse));
            let (_, answer) = joined(&out.runs);
            prop_assert_eq!(answer, "");
        }
    }
}
