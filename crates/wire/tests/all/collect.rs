//! `EventCollector` and `response_to_events` are inverses on normal-form responses, and the
//! collector merges interleaved deltas the way streams deliver them.

use clawgate_wire::collect::{EventCollector, response_to_events};
use clawgate_wire::{ContentBlock, Event, Response, StopReason, Usage, WireError};
use proptest::prelude::*;

use crate::roundtrip_requests::{nonempty_text, stop_reason};

fn block() -> impl Strategy<Value = ContentBlock> {
    prop_oneof![
        nonempty_text().prop_map(|text| ContentBlock::Text { text }),
        (nonempty_text(), prop::option::of("[a-z]{1,6}")).prop_map(|(text, signature)| {
            ContentBlock::Reasoning {
                text,
                signature,
                redacted: false,
            }
        }),
        ("call_[a-z]{1,6}", "[a-z]{1,6}", "[a-z{}:\"]{0,8}").prop_map(|(id, name, arguments)| {
            ContentBlock::ToolCall {
                id,
                name,
                arguments,
            }
        }),
    ]
}

/// Normal form: no two adjacent text blocks, and no unsigned reasoning block directly
/// followed by another reasoning block (streams cannot tell them apart).
fn normal(blocks: Vec<ContentBlock>) -> Vec<ContentBlock> {
    let mut out: Vec<ContentBlock> = Vec::new();
    for block in blocks {
        let merge = matches!(
            (out.last(), &block),
            (Some(ContentBlock::Text { .. }), ContentBlock::Text { .. })
                | (
                    Some(ContentBlock::Reasoning {
                        signature: None,
                        ..
                    }),
                    ContentBlock::Reasoning { .. },
                )
        );
        if !merge {
            out.push(block);
        }
    }
    out
}

proptest! {
    #[test]
    fn collect_inverts_response_to_events(
        blocks in prop::collection::vec(block(), 0..6),
        stop in stop_reason(),
        input in prop::option::of(0u64..1000),
    ) {
        let response = Response {
            id: "resp_1".into(),
            model: "m".into(),
            content: normal(blocks),
            stop_reason: stop,
            usage: Usage { input_tokens: input, ..Usage::default() },
        };
        let mut collector = EventCollector::new();
        for event in response_to_events(&response) {
            collector.push(&event);
        }
        prop_assert_eq!(collector.finish().expect("finished"), response);
    }
}

#[test]
fn interleaved_tool_arguments_are_routed_by_index() {
    let mut collector = EventCollector::new();
    let events = [
        Event::Started {
            id: "r".into(),
            model: "m".into(),
        },
        Event::ToolCallStart {
            index: 0,
            id: "a".into(),
            name: "f".into(),
        },
        Event::ToolCallStart {
            index: 1,
            id: "b".into(),
            name: "g".into(),
        },
        Event::ToolCallArgsDelta {
            index: 0,
            delta: "{\"x\":".into(),
        },
        Event::ToolCallArgsDelta {
            index: 1,
            delta: "{}".into(),
        },
        Event::ToolCallArgsDelta {
            index: 0,
            delta: "1}".into(),
        },
        Event::Usage {
            usage: Usage {
                input_tokens: Some(3),
                ..Usage::default()
            },
        },
        Event::Usage {
            usage: Usage {
                output_tokens: Some(4),
                ..Usage::default()
            },
        },
        Event::Finished {
            stop_reason: StopReason::ToolUse,
        },
    ];
    for event in &events {
        collector.push(event);
    }
    let response = collector.finish().expect("finished");
    assert_eq!(
        response.content,
        vec![
            ContentBlock::ToolCall {
                id: "a".into(),
                name: "f".into(),
                arguments: "{\"x\":1}".into()
            },
            ContentBlock::ToolCall {
                id: "b".into(),
                name: "g".into(),
                arguments: "{}".into()
            },
        ]
    );
    assert_eq!(response.usage.input_tokens, Some(3));
    assert_eq!(response.usage.output_tokens, Some(4));
}

#[test]
fn unfinished_streams_are_errors() {
    assert_eq!(EventCollector::new().finish(), Err(WireError::EmptyStream));
    let mut collector = EventCollector::new();
    collector.push(&Event::TextDelta { text: "x".into() });
    assert_eq!(collector.finish(), Err(WireError::Truncated));
}
