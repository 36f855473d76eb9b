//! `agents.defaults.timeoutSeconds` and `compaction.timeoutSeconds`: a turn that outlives its
//! run timeout ends with a clear error, the transcript keeps whole tool pairs, and the session
//! goes on; a summary request that outlives its own timeout fails the compaction only.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use clawgate_agent::session::{EntryBody, load_transcript, sessions_dir};
use clawgate_agent::{
    AgentError, SUMMARY_PROMPT, Tool, ToolContext, ToolOutput, ToolRegistry, TurnOptions,
    main_session_key,
};
use clawgate_wire::{ContentBlock, Event, Role, StopReason, ToolSpec, Usage};
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::fake::{FakeModel, Scripted, assert_tool_pairs_whole, message_text, model, runtime};
use crate::timers::{Hanging, TimerClock};

/// A tool that never finishes (it reports that it started).
struct SlowTool(mpsc::UnboundedSender<()>);

#[async_trait]
impl Tool for SlowTool {
    fn spec(&self) -> ToolSpec {
        ToolSpec {
            name: "slow".into(),
            description: None,
            parameters: json!({"type": "object", "properties": {}}),
        }
    }

    async fn run(&self, _args: Value, _ctx: &ToolContext) -> ToolOutput {
        let _ = self.0.send(());
        std::future::pending::<()>().await;
        ToolOutput::ok("never")
    }
}

/// The main session's transcript on disk.
pub fn transcript(dir: &std::path::Path) -> clawgate_agent::session::LoadedTranscript {
    let sessions = sessions_dir(&dir.join("state"), "main");
    let entry = clawgate_agent::SessionStore::new(&sessions, false)
        .get(&main_session_key("main"))
        .unwrap()
        .unwrap();
    load_transcript(&sessions.join(format!("{}.jsonl", entry.session_id))).unwrap()
}

fn transcript_messages(dir: &std::path::Path) -> Vec<clawgate_wire::Message> {
    transcript(dir)
        .entries
        .iter()
        .filter_map(|e| match &e.body {
            EntryBody::Message(m) => Some(m.to_message()),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn a_model_call_past_the_run_timeout_ends_the_turn_and_the_session_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let clock = TimerClock::new();
    let fake = FakeModel::text("p/m", "quick answer");
    let (client, mut started) = Hanging::new(fake.clone(), |r| {
        message_text(r.messages.last().unwrap()).contains("slow question")
    });
    let rt = Arc::new(
        runtime(dir.path(), client, model("p/m", 32_000), |s| {
            s.run_timeout = Some(Duration::from_secs(45));
        })
        .with_clock(clock.clone()),
    );
    let key = main_session_key("main");
    let turn = tokio::spawn({
        let (rt, key) = (rt.clone(), key.clone());
        async move {
            rt.run_turn(&key, "slow question", TurnOptions::default())
                .await
        }
    });
    started.recv().await.unwrap();
    clock.advance(Duration::from_secs(45));
    let error = turn.await.unwrap().unwrap_err();
    assert!(
        matches!(error, AgentError::TurnTimeout { seconds: 45 }),
        "{error:?}"
    );
    assert_eq!(
        error.to_string(),
        "Agent turn timed out after 45 s (agents.defaults.timeoutSeconds); what the turn did so \
         far is kept in the session"
    );
    // The next turn works on the same session, with the unanswered question in its context.
    let out = rt
        .run_turn(&key, "quick question", TurnOptions::default())
        .await
        .unwrap();
    assert_eq!(out.reply.as_deref(), Some("quick answer"));
    let last = fake.main_requests().pop().unwrap();
    assert!(crate::fake::request_text(&last).contains("slow question"));
}

#[tokio::test]
async fn a_tool_past_the_run_timeout_gets_an_error_result_and_the_pairs_stay_whole() {
    let dir = tempfile::tempdir().unwrap();
    let clock = TimerClock::new();
    let call = |index, id: &str, name: &str| {
        [
            Event::ToolCallStart {
                index,
                id: id.into(),
                name: name.into(),
            },
            Event::ToolCallArgsDelta {
                index,
                delta: "{}".into(),
            },
        ]
    };
    let fake = FakeModel::new("p/m", None, move |r| {
        match r.messages.last().unwrap().role {
            Role::User if message_text(r.messages.last().unwrap()).contains("use tools") => {
                let mut events = vec![Event::Started {
                    id: "r".into(),
                    model: "m".into(),
                }];
                events.extend(call(0, "c-slow", "slow"));
                events.extend(call(1, "c-ls", "ls"));
                events.push(Event::Usage {
                    usage: Usage::default(),
                });
                events.push(Event::Finished {
                    stop_reason: StopReason::ToolUse,
                });
                Scripted::Events(events)
            }
            _ => Scripted::Text("done".into()),
        }
    });
    let (tx, mut tool_started) = mpsc::unbounded_channel();
    let mut tools = ToolRegistry::builtin(&clawgate_agent::ToolSettings::default());
    tools.register(Arc::new(SlowTool(tx)));
    let rt = Arc::new(
        runtime(dir.path(), fake.clone(), model("p/m", 32_000), |s| {
            s.run_timeout = Some(Duration::from_secs(30));
        })
        .with_tools(tools)
        .with_clock(clock.clone()),
    );
    let key = main_session_key("main");
    let turn = tokio::spawn({
        let (rt, key) = (rt.clone(), key.clone());
        async move { rt.run_turn(&key, "use tools", TurnOptions::default()).await }
    });
    tool_started.recv().await.unwrap();
    clock.advance(Duration::from_secs(30));
    let error = turn.await.unwrap().unwrap_err();
    assert!(
        matches!(error, AgentError::TurnTimeout { seconds: 30 }),
        "{error:?}"
    );

    // On disk: the call message, then one result per call, both errors saying why.
    let messages = transcript_messages(dir.path());
    let roles: Vec<Role> = messages.iter().map(|m| m.role).collect();
    assert_eq!(roles, [Role::User, Role::Assistant, Role::Tool]);
    let results: Vec<(&str, &str, bool)> = messages[2]
        .content
        .iter()
        .filter_map(|b| match b {
            ContentBlock::ToolResult {
                call_id,
                content,
                is_error,
                ..
            } => Some((call_id.as_str(), content.as_str(), *is_error)),
            _ => None,
        })
        .collect();
    assert_eq!(results.len(), 2);
    assert_eq!(results[0].0, "c-slow");
    assert!(results[0].1.contains("run timeout (30 s") && results[0].2);
    assert!(results[0].1.contains("ended this tool before it finished"));
    assert_eq!(results[1].0, "c-ls");
    assert!(results[1].1.starts_with("[not run: the turn's run timeout") && results[1].2);

    // The next turn sends whole pairs and gets its answer.
    let out = rt
        .run_turn(&key, "and now?", TurnOptions::default())
        .await
        .unwrap();
    assert_eq!(out.reply.as_deref(), Some("done"));
    let next = fake.main_requests().pop().unwrap();
    assert_tool_pairs_whole(&next);
}

#[tokio::test]
async fn a_summary_request_past_the_compaction_timeout_fails_the_compaction_only() {
    let dir = tempfile::tempdir().unwrap();
    let clock = TimerClock::new();
    let fake = FakeModel::text("p/m", "noted");
    let (client, mut started) = Hanging::new(fake.clone(), |r| {
        r.system
            .as_deref()
            .is_some_and(|s| s.starts_with(SUMMARY_PROMPT))
    });
    let rt = runtime(dir.path(), client, model("p/m", 16_384), |s| {
        s.compaction.timeout = Duration::from_secs(7);
        s.compaction.memory_flush.enabled = false;
    })
    .with_clock(clock.clone());
    let rt = Arc::new(rt);
    let key = main_session_key("main");
    for n in 0..3 {
        let text = format!("part {n}: {}", "some long material. ".repeat(400));
        rt.run_turn(&key, text, TurnOptions::default())
            .await
            .unwrap();
    }
    let compact = tokio::spawn({
        let (rt, key) = (rt.clone(), key.clone());
        async move { rt.run_turn(&key, "/compact", TurnOptions::default()).await }
    });
    started.recv().await.unwrap();
    clock.advance(Duration::from_secs(7));
    let error = compact.await.unwrap().unwrap_err();
    assert_eq!(
        error.to_string(),
        "Compaction failed: the summary request timed out after 7 s (compaction.timeoutSeconds); \
         the history is kept as it was"
    );
    let t = transcript(dir.path());
    assert!(
        !t.entries
            .iter()
            .any(|e| matches!(e.body, EntryBody::Compaction(_)))
    );
    // Turns still run.
    let out = rt
        .run_turn(&key, "still there?", TurnOptions::default())
        .await
        .unwrap();
    assert_eq!(out.reply.as_deref(), Some("noted"));
}
