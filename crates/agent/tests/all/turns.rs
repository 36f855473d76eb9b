//! The turn loop: tools, rounds, recovery of JSON tool calls, overflow handling, fallback
//! notices, reasoning delivery, streaming and slash commands.

use std::sync::{Arc, Mutex};

use clawgate_agent::{
    AgentError, AgentEvent, AgentRuntime, AgentSettings, ModelCallError, ModelDirectory,
    ModelLimits, StaticModelDirectory, ToolProfile, TurnOptions, main_session_key,
};
use clawgate_wire::{Event, Role, StopReason};

use crate::fake::{FakeModel, Scripted, model, runtime};

fn last_role(r: &clawgate_wire::Request) -> Role {
    r.messages.last().unwrap().role
}

#[tokio::test]
async fn tool_loop_runs_tools_and_feeds_results_back() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("workspace")).unwrap();
    std::fs::write(dir.path().join("workspace/a.txt"), "alpha file").unwrap();
    let fake = FakeModel::new("p/m", None, |r| match last_role(r) {
        Role::User => Scripted::ToolCall {
            id: "c1".into(),
            name: "read".into(),
            arguments: r#"{"path":"a.txt"}"#.into(),
        },
        _ => Scripted::Text(format!(
            "the file says: {}",
            crate::fake::unwrapped(&crate::fake::message_text(r.messages.last().unwrap()))
        )),
    });
    let rt = runtime(dir.path(), fake.clone(), model("p/m", 32_000), |s| {
        s.tool_policy.global.profile = Some(ToolProfile::Coding);
    });
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink_events = events.clone();
    let options = TurnOptions {
        on_event: Some(Arc::new(move |e| sink_events.lock().unwrap().push(e))),
        ..TurnOptions::default()
    };
    let out = rt
        .run_turn(&main_session_key("main"), "read a.txt", options)
        .await
        .unwrap();
    assert_eq!(out.reply.as_deref(), Some("the file says: alpha file"));
    assert_eq!(out.tool_calls.len(), 1);
    assert_eq!(out.tool_calls[0].name, "read");
    let sent = fake.main_requests();
    assert_eq!(sent.len(), 2);
    assert!(sent[0].tools.iter().any(|t| t.name == "read"));
    assert_eq!(last_role(&sent[1]), Role::Tool);
    let events = events.lock().unwrap();
    assert!(
        matches!(&events[0], AgentEvent::Answered { model_ref, fallback: None } if model_ref == "p/m")
    );
    assert!(matches!(events[1], AgentEvent::ToolCall { .. }));
    match &events[2] {
        AgentEvent::ToolResult {
            is_error, output, ..
        } => {
            assert!(!is_error);
            assert!(output.contains("alpha file"), "{output}");
        }
        other => panic!("expected the tool result, got {other:?}"),
    }
    assert!(matches!(events[3], AgentEvent::Answered { .. }));
    let streamed: String = events
        .iter()
        .filter_map(|e| match e {
            AgentEvent::Text(t) => Some(t.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(streamed, "the file says: alpha file");
}

#[tokio::test]
async fn tool_rounds_are_capped() {
    let dir = tempfile::tempdir().unwrap();
    let fake = FakeModel::new("p/m", None, |r| Scripted::ToolCall {
        id: format!("c{}", r.messages.len()),
        name: "ls".into(),
        arguments: "{}".into(),
    });
    let rt = runtime(dir.path(), fake.clone(), model("p/m", 32_000), |s| {
        s.tool_policy.global.profile = Some(ToolProfile::Coding);
        s.tools.max_rounds = 3;
    });
    let out = rt
        .run_turn("k", "loop forever", TurnOptions::default())
        .await
        .unwrap();
    assert_eq!(out.tool_calls.len(), 3);
    assert_eq!(fake.main_requests().len(), 3);
    assert!(
        out.notices
            .iter()
            .any(|n| n.contains("stopped after 3 rounds"))
    );
}

#[tokio::test]
async fn denied_and_unknown_tools_return_errors_to_the_model() {
    let dir = tempfile::tempdir().unwrap();
    let fake = FakeModel::new("p/m", None, |r| match last_role(r) {
        Role::User => Scripted::ToolCall {
            id: "c1".into(),
            name: "exec".into(),
            arguments: r#"{"command":"echo hi"}"#.into(),
        },
        _ => Scripted::Text(crate::fake::message_text(r.messages.last().unwrap())),
    });
    let rt = runtime(dir.path(), fake.clone(), model("p/m", 32_000), |s| {
        s.tool_policy.global.profile = Some(ToolProfile::Coding);
        s.tool_policy.global.deny = vec!["group:runtime".into()];
    });
    let out = rt
        .run_turn("k", "run it", TurnOptions::default())
        .await
        .unwrap();
    assert!(out.tool_calls[0].is_error);
    assert!(out.reply.unwrap().contains("not available"));
    assert!(
        !fake.main_requests()[0]
            .tools
            .iter()
            .any(|t| t.name == "exec")
    );
}

#[tokio::test]
async fn json_text_tool_call_is_recovered_and_not_shown() {
    let dir = tempfile::tempdir().unwrap();
    let fake = FakeModel::new("p/m", None, |r| match last_role(r) {
        Role::User => Scripted::Text("```json\n{\"name\": \"ls\", \"arguments\": {}}\n```".into()),
        _ => Scripted::Text("listed".into()),
    });
    let rt = runtime(dir.path(), fake.clone(), model("p/m", 32_000), |s| {
        s.tool_policy.global.profile = Some(ToolProfile::Coding);
    });
    let texts = Arc::new(Mutex::new(String::new()));
    let sink = texts.clone();
    let options = TurnOptions {
        on_event: Some(Arc::new(move |e| {
            if let AgentEvent::Text(t) = e {
                sink.lock().unwrap().push_str(&t);
            }
        })),
        ..TurnOptions::default()
    };
    let out = rt.run_turn("k", "list files", options).await.unwrap();
    assert_eq!(out.tool_calls.len(), 1);
    assert!(out.tool_calls[0].recovered);
    assert_eq!(out.reply.as_deref(), Some("listed"));
    assert_eq!(texts.lock().unwrap().as_str(), "listed");
    crate::fake::assert_tool_pairs_whole(&fake.main_requests()[1]);
}

#[tokio::test]
async fn overflow_compacts_and_retries_then_gives_guidance() {
    let dir = tempfile::tempdir().unwrap();
    let calls = Arc::new(Mutex::new(0));
    let seen = calls.clone();
    // Overflow on the first call of the 4th turn, then answer.
    let fake = FakeModel::new("p/m", None, move |r| {
        let mut n = seen.lock().unwrap();
        *n += 1;
        if *n == 4 && r.messages.len() > 1 {
            return Scripted::Fail(ModelCallError::ContextOverflow {
                requested: Some(40_000),
                limit: Some(32_000),
            });
        }
        Scripted::Text("fine".into())
    });
    let rt = runtime(dir.path(), fake.clone(), model("p/m", 32_000), |_| {});
    for i in 0..3 {
        rt.run_turn(
            "k",
            format!("message {i} {}", "x".repeat(2_000)),
            TurnOptions::default(),
        )
        .await
        .unwrap();
    }
    let out = rt
        .run_turn("k", "and now?", TurnOptions::default())
        .await
        .unwrap();
    assert_eq!(out.reply.as_deref(), Some("fine"));
    assert_eq!(out.compactions, 1);
    let log = fake.requests();
    assert!(log.iter().any(|r| r.is_summary));

    // A model that always overflows: three attempts, then the guidance error.
    let always = FakeModel::new("p/m", None, |_| {
        Scripted::Fail(ModelCallError::ContextOverflow {
            requested: None,
            limit: None,
        })
    });
    let dir2 = tempfile::tempdir().unwrap();
    let rt = runtime(dir2.path(), always, model("p/m", 32_000), |_| {});
    let err = rt
        .run_turn("k", "hello", TurnOptions::default())
        .await
        .unwrap_err();
    assert!(matches!(err, AgentError::ContextOverflow { .. }));
    assert!(
        err.to_string()
            .starts_with("Context overflow: prompt too large")
    );
}

#[tokio::test]
async fn fallback_notice_once_and_primary_back() {
    let dir = tempfile::tempdir().unwrap();
    let fake = FakeModel::text("local/qwen", "ok");
    let rt = runtime(
        dir.path(),
        fake.clone(),
        model("local/qwen", 32_000),
        |_| {},
    );
    fake.set_fallback(Some(("anthropic/claude", "local/qwen", "network refused")));
    let a = rt.run_turn("k", "1", TurnOptions::default()).await.unwrap();
    assert_eq!(
        a.notices,
        vec!["↪ fallback: anthropic/claude answered (primary local/qwen: network refused)"]
    );
    let b = rt.run_turn("k", "2", TurnOptions::default()).await.unwrap();
    assert!(b.notices.is_empty());
    fake.set_fallback(None);
    let c = rt.run_turn("k", "3", TurnOptions::default()).await.unwrap();
    assert_eq!(
        c.notices,
        vec!["↪ primary back: local/qwen answered again (was anthropic/claude)"]
    );
    let d = rt.run_turn("k", "4", TurnOptions::default()).await.unwrap();
    assert!(d.notices.is_empty());
}

#[tokio::test]
async fn reasoning_is_delivered_only_when_on() {
    let dir = tempfile::tempdir().unwrap();
    let fake = FakeModel::new("p/m", None, |_| {
        Scripted::Events(vec![
            Event::Started {
                id: "r".into(),
                model: "m".into(),
            },
            Event::ReasoningDelta {
                text: "structured thought".into(),
            },
            Event::TextDelta {
                text: "<think>tagged thought</think>\n\nThe answer.".into(),
            },
            Event::Finished {
                stop_reason: StopReason::Stop,
            },
        ])
    });
    let rt = runtime(dir.path(), fake, model("p/m", 32_000), |_| {});
    let off = rt.run_turn("k", "q", TurnOptions::default()).await.unwrap();
    assert_eq!(off.reply.as_deref(), Some("The answer."));
    assert_eq!(off.reasoning, None);
    let msg = rt
        .run_turn("k", "/reasoning on", TurnOptions::default())
        .await
        .unwrap();
    assert!(msg.command);
    let on = rt.run_turn("k", "q", TurnOptions::default()).await.unwrap();
    assert_eq!(on.reply.as_deref(), Some("The answer."));
    let r = on.reasoning.unwrap();
    assert!(r.starts_with("Reasoning:\n"));
    assert!(r.contains("structured thought") && r.contains("tagged thought"));
}

#[tokio::test]
async fn no_reply_is_silent() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime(
        dir.path(),
        FakeModel::text("p/m", "NO_REPLY"),
        model("p/m", 32_000),
        |_| {},
    );
    let texts = Arc::new(Mutex::new(0));
    let sink = texts.clone();
    let options = TurnOptions {
        on_event: Some(Arc::new(move |e| {
            if matches!(e, AgentEvent::Text(_)) {
                *sink.lock().unwrap() += 1;
            }
        })),
        ..TurnOptions::default()
    };
    let out = rt.run_turn("k", "anything?", options).await.unwrap();
    assert!(out.silent);
    assert_eq!(out.reply, None);
    assert_eq!(*texts.lock().unwrap(), 0);
}

#[tokio::test]
async fn local_primary_gets_narrow_tools_and_one_notice() {
    let dir = tempfile::tempdir().unwrap();
    let fake = FakeModel::text("ollama/qwen", "ok");
    let info = ModelLimits {
        is_local: true,
        ..model("ollama/qwen", 32_000)
    };
    let rt = runtime(dir.path(), fake.clone(), info, |_| {});
    let tools = rt.offered_tools();
    assert!(tools.contains(&"read".to_string()));
    assert!(!tools.contains(&"exec".to_string()));
    assert!(!tools.contains(&"web_fetch".to_string()));
    let a = rt.run_turn("k", "1", TurnOptions::default()).await.unwrap();
    assert_eq!(a.notices.len(), 1);
    assert!(a.notices[0].contains("no exec, no web_fetch"));
    let b = rt.run_turn("k", "2", TurnOptions::default()).await.unwrap();
    assert!(b.notices.is_empty());
}

#[tokio::test]
async fn commands_model_status_compact() {
    let dir = tempfile::tempdir().unwrap();
    let fake = FakeModel::text("p/m", "ok");
    let mut rt_models = model("p/m", 32_000);
    rt_models.max_tokens = Some(2_000);
    let rt = runtime(dir.path(), fake.clone(), rt_models, |_| {});
    let unknown = rt
        .run_turn("k", "/model nope/x", TurnOptions::default())
        .await
        .unwrap();
    assert!(unknown.reply.unwrap().contains("unknown model"));
    let set = rt
        .run_turn("k", "/model p/m", TurnOptions::default())
        .await
        .unwrap();
    assert!(set.reply.unwrap().contains("Model set to p/m"));
    for i in 0..6 {
        rt.run_turn(
            "k",
            format!("turn {i} {}", "y".repeat(3_000)),
            TurnOptions::default(),
        )
        .await
        .unwrap();
    }
    let status = rt
        .run_turn("k", "/status", TurnOptions::default())
        .await
        .unwrap();
    let status = status.reply.unwrap();
    assert!(status.contains("Model: p/m (session override)"), "{status}");
    assert!(status.contains("window 32000"));
    let compact = rt
        .run_turn("k", "/compact keep the numbers", TurnOptions::default())
        .await
        .unwrap();
    assert!(compact.reply.unwrap().starts_with("Compacted"));
    let summary_req = fake.requests().into_iter().find(|r| r.is_summary).unwrap();
    assert!(
        summary_req
            .request
            .system
            .unwrap()
            .contains("keep the numbers")
    );
    // A slash-looking path is ordinary text.
    let text = rt
        .run_turn("k", "/etc/hosts has what?", TurnOptions::default())
        .await
        .unwrap();
    assert!(!text.command);
}

#[tokio::test]
async fn too_small_window_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime(
        dir.path(),
        FakeModel::text("p/m", "ok"),
        model("p/m", 4_096),
        |_| {},
    );
    let err = rt
        .run_turn("k", "hi", TurnOptions::default())
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Model context window too small (4096 tokens). Minimum is 16000."
    );
}

#[tokio::test]
async fn a_huge_tool_result_is_shortened_to_fit_a_small_window() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("workspace")).unwrap();
    std::fs::write(dir.path().join("workspace/big.txt"), "b".repeat(200_000)).unwrap();
    let fake = FakeModel::new("local/m", Some(16_384), |r| match last_role(r) {
        Role::User => Scripted::ToolCall {
            id: "c1".into(),
            name: "read".into(),
            arguments: r#"{"path":"big.txt"}"#.into(),
        },
        _ => Scripted::Text("read it".into()),
    });
    let rt = runtime(dir.path(), fake.clone(), model("local/m", 16_384), |s| {
        s.tool_policy.global.profile = Some(ToolProfile::Coding);
    });
    let out = rt
        .run_turn("k", "read big.txt", TurnOptions::default())
        .await
        .unwrap();
    assert_eq!(out.reply.as_deref(), Some("read it"));
    let second = fake.main_requests().pop().unwrap();
    let result = crate::fake::message_text(second.messages.last().unwrap());
    assert!(result.contains("shortened to fit the model's context window"));
    assert!(result.len() < 30_000);
    // The first user message is still there verbatim: nothing had to be compacted.
    assert_eq!(out.compactions, 0);
}

#[tokio::test]
async fn empty_and_repeated_call_ids_are_made_unique() {
    let dir = tempfile::tempdir().unwrap();
    let fake = FakeModel::new("p/m", None, |r| match last_role(r) {
        Role::User => Scripted::Events(vec![
            Event::Started {
                id: "r".into(),
                model: "m".into(),
            },
            Event::ToolCallStart {
                index: 0,
                id: "call_0".into(),
                name: "ls".into(),
            },
            Event::ToolCallArgsDelta {
                index: 0,
                delta: "{}".into(),
            },
            Event::ToolCallStart {
                index: 1,
                id: "call_0".into(),
                name: "ls".into(),
            },
            Event::ToolCallArgsDelta {
                index: 1,
                delta: "{}".into(),
            },
            Event::ToolCallStart {
                index: 2,
                id: String::new(),
                name: "ls".into(),
            },
            Event::Finished {
                stop_reason: StopReason::ToolUse,
            },
        ]),
        _ => Scripted::Text("done".into()),
    });
    let rt = runtime(dir.path(), fake.clone(), model("p/m", 32_000), |s| {
        s.tool_policy.global.profile = Some(ToolProfile::Coding);
    });
    let out = rt
        .run_turn("k", "list thrice", TurnOptions::default())
        .await
        .unwrap();
    let ids: std::collections::HashSet<_> = out.tool_calls.iter().map(|c| c.id.clone()).collect();
    assert_eq!(ids.len(), 3);
    assert!(ids.iter().all(|id| !id.is_empty()));
    let sent = fake.main_requests().pop().unwrap();
    crate::fake::assert_tool_pairs_whole(&sent);
    assert_eq!(sent.messages.last().unwrap().content.len(), 3);
}

/// A directory over two models where only `p/allowed` (and the primary) may be picked.
struct Allowlisted(StaticModelDirectory);

impl ModelDirectory for Allowlisted {
    fn resolve(&self, name: &str) -> Option<ModelLimits> {
        self.0.resolve(name)
    }

    fn check_allowed(&self, name: &str) -> Result<(), String> {
        match self.resolve(name) {
            Some(info) if info.model_ref == "p/other" => Err(format!(
                "Model \"{}\" is not allowed. Use /model to list available models.",
                info.model_ref
            )),
            _ => Ok(()),
        }
    }

    fn selectable(&self) -> Option<Vec<String>> {
        Some(vec!["p/m".into(), "p/allowed".into()])
    }
}

#[tokio::test]
async fn model_command_is_held_to_the_allowlist_and_lists_it() {
    let dir = tempfile::tempdir().unwrap();
    let fake = FakeModel::text("p/m", "ok");
    let mut settings = AgentSettings::new(
        "main",
        dir.path().join("state"),
        dir.path().join("workspace"),
        "p/m",
    );
    settings.durable_store = false;
    let models = Allowlisted(
        StaticModelDirectory::new()
            .with_model(model("p/m", 32_000))
            .with_model(model("p/allowed", 32_000))
            .with_model(model("p/other", 32_000)),
    );
    let rt = AgentRuntime::new(settings, fake.clone(), Arc::new(models)).unwrap();
    let refused = rt
        .run_turn("k", "/model p/other", TurnOptions::default())
        .await
        .unwrap()
        .reply
        .unwrap();
    assert_eq!(
        refused,
        "Model not changed: Model \"p/other\" is not allowed. Use /model to list available models."
    );
    let shown = rt
        .run_turn("k", "/model", TurnOptions::default())
        .await
        .unwrap()
        .reply
        .unwrap();
    assert!(
        shown.ends_with("\nAllowed models: p/m, p/allowed."),
        "{shown}"
    );
    let set = rt
        .run_turn("k", "/model p/allowed", TurnOptions::default())
        .await
        .unwrap();
    assert!(set.reply.unwrap().contains("Model set to p/allowed"));
    // A turn that asks for a refused model fails before any model call.
    let calls = fake.requests().len();
    let error = rt
        .run_turn(
            "k",
            "hi",
            TurnOptions {
                model_override: Some("p/other".into()),
                ..TurnOptions::default()
            },
        )
        .await
        .unwrap_err();
    assert!(error.to_string().contains("is not allowed"), "{error}");
    assert_eq!(fake.requests().len(), calls);
}

/// A model's notice (a base model that answers in text although tools were offered) reaches
/// the user as a notice, never as answer text, once per open session: the terminal chat keeps
/// its session open and is told once; a session opened again (the gateway opens it per turn)
/// is told again.
#[tokio::test]
async fn a_model_notice_is_a_notice_once_per_open_session() {
    let dir = tempfile::tempdir().unwrap();
    let notice = "demo is a base model and answers in text";
    let fake = FakeModel::new("p/m", None, move |_| {
        Scripted::Events(vec![
            Event::Started {
                id: "r".into(),
                model: "m".into(),
            },
            Event::Notice {
                text: notice.into(),
            },
            Event::TextDelta {
                text: "hello".into(),
            },
            Event::Finished {
                stop_reason: StopReason::Stop,
            },
        ])
    });
    let rt = runtime(dir.path(), fake, model("p/m", 32_000), |_| {});
    let told = |out: &clawgate_agent::TurnOutcome| {
        out.notices.iter().filter(|n| n.as_str() == notice).count()
    };
    let seen: Arc<Mutex<Vec<AgentEvent>>> = Arc::default();
    let sink = seen.clone();
    let options = TurnOptions {
        on_event: Some(Arc::new(move |e| sink.lock().unwrap().push(e))),
        ..TurnOptions::default()
    };
    let first = rt.run_turn("k", "hi", options).await.unwrap();
    assert_eq!(told(&first), 1, "{:?}", first.notices);
    assert_eq!(first.reply.as_deref(), Some("hello"));
    // Shown as it arrives: before the answer text it is about.
    let order: Vec<&str> = seen
        .lock()
        .unwrap()
        .iter()
        .filter_map(|e| match e {
            AgentEvent::Notice(n) if n == notice => Some("notice"),
            AgentEvent::Text(_) => Some("text"),
            _ => None,
        })
        .collect();
    assert_eq!(order.first(), Some(&"notice"), "{order:?}");
    let second = rt
        .run_turn("k", "again", TurnOptions::default())
        .await
        .unwrap();
    assert_eq!(told(&second), 0, "{:?}", second.notices);
    rt.close_session("k").await;
    let third = rt
        .run_turn("k", "and again", TurnOptions::default())
        .await
        .unwrap();
    assert_eq!(told(&third), 1, "{:?}", third.notices);
}
