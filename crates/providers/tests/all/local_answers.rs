//! What local servers put in their answers, and what clawgate's providers make of it, in every
//! upstream api, streamed and not: harmony markup (reasoning, answer, tool call; cut across
//! chunks), an orphan `</think>`, Ollama's `think` and thinking-only replies.

use clawgate_providers::{ApiKind, FailureKind, ModelInfo, ProviderSpec};
use clawgate_wire::{Event, ReasoningEffort, StopReason, ToolChoice};
use mock_upstream::{MockServer, Quirk, Script};
use serde_json::{Value, json};

use crate::support::*;

fn harmony(chunks: usize) -> Script {
    Script {
        chunks: Some(chunks),
        ..Script::default().with_quirk(Quirk::HarmonyInContent)
    }
}

/// Nothing of harmony's markup in answer text.
fn assert_no_markup(out: &Outcome, what: &str) {
    let text = out.text();
    assert!(
        !text.contains("<|") && !text.contains("|>"),
        "{what}: markup in answer {text:?}"
    );
}

#[tokio::test]
async fn harmony_in_answer_text_becomes_reasoning_and_answer_in_every_api() {
    let mock = mock().await;
    for api in APIS {
        let p = provider(&spec(&mock, api));
        for stream in [true, false] {
            // 37 pieces cut the markup inside its tokens.
            for chunks in [4, 37] {
                let what = format!("{api} stream={stream} chunks={chunks}");
                mock.push_script(Script {
                    text: Some("Four.".into()),
                    reasoning: Some("Simple sum.".into()),
                    ..harmony(chunks)
                });
                let out = run(&p, request("2+2?", stream)).await;
                assert_well_formed(&out);
                assert_eq!(out.text(), "Four.", "{what}");
                assert_eq!(out.reasoning(), "Simple sum.", "{what}");
                assert_eq!(out.stop(), Some(StopReason::Stop), "{what}");
                assert_no_markup(&out, &what);
            }
        }
    }
}

#[tokio::test]
async fn a_harmony_call_to_a_request_tool_is_a_tool_call_in_every_api() {
    let mock = mock().await;
    for api in APIS {
        let p = provider(&spec(&mock, api));
        for stream in [true, false] {
            let what = format!("{api} stream={stream}");
            // Ollama has no `tool_choice`: the call is scripted for every api alike.
            mock.push_script(
                Script {
                    reasoning: Some("Need the weather.".into()),
                    ..harmony(23)
                }
                .with_tool_call("get_weather", json!({"city": "mock"})),
            );
            let mut req = request("weather in Paris?", stream);
            req.tools = vec![weather_tool()];
            req.tool_choice = ToolChoice::Tool("get_weather".into());
            let out = run(&p, req).await;
            assert_well_formed(&out);
            let calls = out.tool_calls();
            assert_eq!(calls.len(), 1, "{what}: {:?}", out.events);
            assert_eq!(calls[0].1, "get_weather", "{what}");
            let args: Value = serde_json::from_str(&calls[0].2).unwrap_or(Value::Null);
            assert_eq!(args, json!({"city": "mock"}), "{what}");
            assert!(!calls[0].0.is_empty(), "{what}: an id");
            assert_eq!(out.stop(), Some(StopReason::ToolUse), "{what}");
            assert_eq!(out.text(), "", "{what}");
            assert_eq!(out.reasoning(), "Need the weather.", "{what}");
        }
    }
}

fn reasoning_spec(mock: &MockServer, api: ApiKind, reasoning: bool) -> ProviderSpec {
    let mut s = spec(mock, api);
    s.models[0].reasoning = reasoning;
    s
}

fn orphan() -> Script {
    Script::text("Leaves fall.")
        .with_reasoning("The user wants a haiku.")
        .with_quirk(Quirk::OrphanThinkClose)
}

#[tokio::test]
async fn an_orphan_close_on_a_reasoning_model_keeps_the_reasoning_out_of_the_answer() {
    let mock = mock().await;
    for api in [ApiKind::OpenAiCompletions, ApiKind::Ollama] {
        let p = provider(&reasoning_spec(&mock, api, true));
        for stream in [true, false] {
            mock.push_script(orphan());
            let out = run(&p, request("a haiku", stream)).await;
            assert_well_formed(&out);
            assert_eq!(out.reasoning(), "The user wants a haiku.", "{api} {stream}");
            assert_eq!(out.text(), "Leaves fall.", "{api} {stream}");
        }
    }
}

#[tokio::test]
async fn an_orphan_close_elsewhere_is_exact_in_whole_answers_and_learned_for_streams() {
    let mock = mock().await;
    // Every api: a complete body is split with the whole text in view.
    for api in APIS {
        let p = provider(&spec(&mock, api));
        mock.push_script(orphan());
        let out = run(&p, request("a haiku", false)).await;
        assert_eq!(out.text(), "Leaves fall.", "{api}");
        assert_eq!(out.reasoning(), "The user wants a haiku.", "{api}");
    }
    // A stream of a model not marked `reasoning`: the text before the orphan was already
    // passed on (the tag is dropped); the model is remembered, and its next stream is held.
    let p = provider(&spec(&mock, ApiKind::OpenAiCompletions));
    mock.push_script(orphan());
    let first = run(&p, request("a haiku", true)).await;
    assert_well_formed(&first);
    assert_eq!(first.text(), "The user wants a haiku.\n\nLeaves fall.");
    assert_eq!(p.learned().models_with_inline_reasoning, vec![MODEL]);
    mock.push_script(orphan());
    let second = run(&p, request("a haiku", true)).await;
    assert_eq!(second.text(), "Leaves fall.");
    assert_eq!(second.reasoning(), "The user wants a haiku.");
}

#[tokio::test]
async fn a_held_lead_is_released_as_answer_when_no_tag_comes() {
    let mock = mock().await;
    let p = provider(&reasoning_spec(&mock, ApiKind::OpenAiCompletions, true));
    let text_events = |out: &Outcome| {
        out.events
            .iter()
            .filter(|e| matches!(e, Event::TextDelta { .. }))
            .count()
    };
    mock.push_script(Script::text("Plain answer, no tags."));
    let out = run(&p, request("hi", true)).await;
    assert_well_formed(&out);
    assert_eq!(out.text(), "Plain answer, no tags.");
    assert_eq!(text_events(&out), 1, "held, then released whole at the end");
    // A server that parses reasoning itself gets its answer streamed piece by piece.
    mock.push_script(Script::text("Answer, streamed.").with_reasoning("Parsed."));
    let out = run(&p, request("hi", true)).await;
    assert_eq!(out.reasoning(), "Parsed.");
    assert_eq!(out.text(), "Answer, streamed.");
    assert_eq!(text_events(&out), 4, "{:?}", out.events);
}

fn ollama_spec(mock: &MockServer) -> ProviderSpec {
    let mut s = spec(mock, ApiKind::Ollama);
    let mut thinker = ModelInfo::new("qwen3").with_context_window(8192);
    thinker.reasoning = true;
    let mut oss = ModelInfo::new("gpt-oss:20b").with_context_window(8192);
    oss.reasoning = true;
    s.models.push(thinker);
    s.models.push(oss);
    s
}

#[tokio::test]
async fn ollama_gets_think_from_the_reasoning_flag_and_the_effort() {
    let mock = mock().await;
    let p = provider(&ollama_spec(&mock));
    let sent_think = |model: &str, effort: Option<ReasoningEffort>| {
        let mut req = request("hi", false);
        req.model = model.into();
        req.reasoning = effort;
        req
    };
    let cases = [
        (MODEL, None, Some(json!(false))),
        ("qwen3", None, Some(json!(true))),
        ("qwen3", Some(ReasoningEffort::Low), Some(json!(true))),
        (
            "gpt-oss:20b",
            Some(ReasoningEffort::High),
            Some(json!("high")),
        ),
        ("unlisted", None, None),
        ("unlisted", Some(ReasoningEffort::Medium), Some(json!(true))),
    ];
    for (model, effort, want) in cases {
        run(&p, sent_think(model, effort)).await;
        let body = last_request(&mock).body;
        assert_eq!(body.get("think").cloned(), want, "{model} {effort:?}");
    }
}

#[tokio::test]
async fn a_thinking_only_reply_is_never_an_answer() {
    let mock = mock().await;
    for api in APIS {
        let p = provider(&spec(&mock, api));
        for stream in [true, false] {
            mock.push_script(Script::default().with_quirk(Quirk::ThinkingOnly));
            let out = run(&p, request("hi", stream)).await;
            assert_eq!(
                out.error().kind,
                FailureKind::EmptyResponse,
                "{api} stream={stream}: {:?}",
                out.events
            );
        }
    }
}
