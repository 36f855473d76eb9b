//! Property tests: canonical events → a dialect's encoder → frames → bytes → framing parser
//! (fed in arbitrary chunks) → that dialect's decoder → the same events. The generator builds
//! event streams in each dialect's normal form (see the codecs' `//!`): e.g. no reasoning
//! signatures for chat and Ollama, usage always present for Anthropic, one complete argument
//! delta per tool call for Ollama (it has no argument deltas).

use clawgate_wire::{Event, StopReason, Usage};
use proptest::prelude::*;

use crate::roundtrip_requests::{fix_stop, ident, nonempty_text, object_args, stop_reason};
use crate::support::{Dialect, decode_stream, encode_stream};

#[derive(Debug, Clone)]
enum Segment {
    Text(Vec<String>),
    Reasoning(Vec<String>, Option<String>),
    Call(String, String, Vec<String>),
}

fn segment(dialect: Dialect) -> BoxedStrategy<Segment> {
    let pieces = || prop::collection::vec(nonempty_text(), 1..4);
    let signature = match dialect {
        Dialect::Responses | Dialect::Anthropic => prop::option::of("[A-Za-z0-9+/]{4,12}").boxed(),
        Dialect::Chat | Dialect::Ollama => Just(None).boxed(),
    };
    let args = match dialect {
        Dialect::Ollama => object_args().prop_map(|a| vec![a]).boxed(),
        _ => pieces().boxed(),
    };
    prop_oneof![
        pieces().prop_map(Segment::Text),
        (pieces(), signature).prop_map(|(p, s)| Segment::Reasoning(p, s)),
        ("call_[a-z0-9]{1,8}", ident(), args)
            .prop_map(|(id, name, args)| Segment::Call(id, name, args)),
    ]
    .boxed()
}

fn usage(dialect: Dialect) -> BoxedStrategy<Option<Usage>> {
    let n = || 0u64..100_000;
    (
        n(),
        n(),
        prop::option::of(1u64..500),
        prop::option::of(1u64..500),
        any::<bool>(),
    )
        .prop_map(move |(input, output, read, write, present)| {
            let full = Usage {
                input_tokens: Some(input),
                output_tokens: Some(output),
                cache_read_tokens: read,
                cache_write_tokens: write,
            };
            match dialect {
                Dialect::Anthropic => Some(full),
                Dialect::Chat | Dialect::Responses => present.then_some(Usage {
                    cache_write_tokens: None,
                    ..full
                }),
                Dialect::Ollama => present.then_some(Usage {
                    input_tokens: Some(input),
                    output_tokens: Some(output),
                    ..Usage::default()
                }),
            }
        })
        .boxed()
}

fn events(dialect: Dialect) -> BoxedStrategy<(String, String, Vec<Event>)> {
    (
        "resp_[a-z0-9]{1,8}",
        ident(),
        prop::collection::vec(segment(dialect), 0..6),
        usage(dialect),
        stop_reason(),
    )
        .prop_map(move |(id, model, segments, usage, stop)| {
            let id = if dialect == Dialect::Ollama {
                String::new()
            } else {
                id
            };
            let mut events = vec![Event::Started {
                id: id.clone(),
                model: model.clone(),
            }];
            let mut tool = 0u32;
            for segment in segments {
                match segment {
                    Segment::Text(pieces) => {
                        events.extend(pieces.into_iter().map(|text| Event::TextDelta { text }))
                    }
                    Segment::Reasoning(pieces, signature) => {
                        events.extend(
                            pieces
                                .into_iter()
                                .map(|text| Event::ReasoningDelta { text }),
                        );
                        if let Some(signature) = signature {
                            events.push(Event::ReasoningSignature { signature });
                        }
                    }
                    Segment::Call(call_id, name, args) => {
                        events.push(Event::ToolCallStart {
                            index: tool,
                            id: call_id,
                            name,
                        });
                        events.extend(
                            args.into_iter()
                                .map(|delta| Event::ToolCallArgsDelta { index: tool, delta }),
                        );
                        tool += 1;
                    }
                }
            }
            if let Some(usage) = usage {
                events.push(Event::Usage { usage });
            }
            events.push(Event::Finished {
                stop_reason: fix_stop(dialect, stop, tool > 0),
            });
            (id, model, events)
        })
        .boxed()
}

macro_rules! stream_tests {
    ($name:ident, $dialect:expr) => {
        mod $name {
            use super::*;

            proptest! {
                #![proptest_config(ProptestConfig::with_cases(160))]

                #[test]
                fn stream_round_trips((id, model, events) in events($dialect), chunk in 1usize..64) {
                    let bytes = encode_stream($dialect, &id, &model, &events);
                    let (decoded, error) = decode_stream($dialect, &bytes, Some(chunk));
                    prop_assert_eq!(error, None);
                    prop_assert_eq!(decoded, events);
                }
            }
        }
    };
}

stream_tests!(openai_chat_stream, Dialect::Chat);
stream_tests!(openai_responses_stream, Dialect::Responses);
stream_tests!(anthropic_stream, Dialect::Anthropic);
stream_tests!(ollama_stream, Dialect::Ollama);

/// `fail()` after content: every decoder reports the dialect's error shape as `Upstream`.
#[test]
fn failed_streams_decode_as_upstream_errors() {
    for dialect in [
        Dialect::Chat,
        Dialect::Responses,
        Dialect::Anthropic,
        Dialect::Ollama,
    ] {
        let mut encoder = dialect.encoder("resp_1", "m");
        let mut frames = Vec::new();
        frames.extend(encoder.encode(&Event::Started {
            id: "resp_1".into(),
            model: "m".into(),
        }));
        frames.extend(encoder.encode(&Event::TextDelta {
            text: "partial".into(),
        }));
        frames.extend(encoder.fail("upstream went away", "server_error"));
        frames.extend(encoder.finish());
        let bytes = crate::support::frames_to_bytes(dialect, &frames);
        let (events, error) = decode_stream(dialect, &bytes, None);
        assert!(
            events.contains(&Event::TextDelta {
                text: "partial".into()
            }),
            "{dialect:?}: content before the failure is kept"
        );
        match error {
            Some(clawgate_wire::WireError::Upstream { message, .. }) => {
                assert_eq!(message, "upstream went away", "{dialect:?}")
            }
            other => panic!("{dialect:?}: expected an upstream error, got {other:?}"),
        }
    }
}

#[test]
fn chat_encoder_can_drop_reasoning() {
    use clawgate_wire::StreamEncoder;
    let mut encoder = clawgate_wire::openai_chat::Encoder::new("c1", "m").with_reasoning(false);
    let mut frames = encoder.encode(&Event::ReasoningDelta {
        text: "secret".into(),
    });
    frames.extend(encoder.encode(&Event::TextDelta { text: "hi".into() }));
    frames.extend(encoder.encode(&Event::Finished {
        stop_reason: StopReason::Stop,
    }));
    let all: String = frames.iter().map(|f| f.data.clone()).collect();
    assert!(!all.contains("secret"));
    assert!(all.contains("\"content\":\"hi\""));
}
