//! `compaction.memoryFlush`: near the compaction threshold one silent turn asks the model to
//! write durable notes to `memory/<date>.md` before the user's turn; once per compaction cycle,
//! never delivered, not for agents that cannot write, with configured prompts when given.

use clawgate_agent::{MEMORY_FLUSH_SYSTEM_PROMPT, ToolProfile, TurnOptions, main_session_key};
use clawgate_wire::{Request, Role};

use crate::fake::{FakeModel, Scripted, message_text, model, runtime};
use crate::run_timeout::transcript;

const WINDOW: u64 = 16_384;
const FLUSH_MARK: &str = "Pre-compaction memory flush turn";

fn is_flush(r: &Request) -> bool {
    r.system
        .as_deref()
        .is_some_and(|s| s.contains(FLUSH_MARK) || s.contains("FLUSH NOW"))
}

/// The `memory/…` path the flush prompt names.
fn memory_path(text: &str) -> Option<String> {
    let start = text.find("memory/")?;
    let end = start + text[start..].find(".md")? + 3;
    Some(text[start..end].to_string())
}

/// Flush turns write a note with the `write` tool, then answer NO_REPLY; other turns answer.
fn script(r: &Request) -> Scripted {
    let last = r.messages.last().unwrap();
    if is_flush(r) {
        return match last.role {
            Role::User => Scripted::ToolCall {
                id: "flush-write".into(),
                name: "write".into(),
                arguments: serde_json::json!({
                    "path": memory_path(&message_text(last)).unwrap_or("memory/x.md".into()),
                    "content": "- the user prefers tea\n",
                })
                .to_string(),
            },
            _ => Scripted::Text("NO_REPLY".into()),
        };
    }
    Scripted::Text("the answer".into())
}

fn flush_requests(fake: &FakeModel) -> Vec<Request> {
    fake.main_requests().into_iter().filter(is_flush).collect()
}

/// A first turn large enough to put the context past the flush point (16K window:
/// threshold 11 060, flush from 7 060 tokens), but below the compaction threshold.
fn big_turn() -> String {
    format!("background: {}", "the project notes go on. ".repeat(1_000))
}

#[tokio::test]
async fn a_session_near_compaction_flushes_notes_once_per_cycle() {
    let dir = tempfile::tempdir().unwrap();
    let fake = FakeModel::new("p/m", None, script);
    let rt = runtime(dir.path(), fake.clone(), model("p/m", WINDOW), |s| {
        s.tool_policy.global.profile = Some(ToolProfile::Coding);
    });
    let key = main_session_key("main");
    let first = rt
        .run_turn(&key, big_turn(), TurnOptions::default())
        .await
        .unwrap();
    assert!(
        !first.memory_flushed,
        "the context was empty before the first turn"
    );
    assert!(flush_requests(&fake).is_empty());

    let second = rt
        .run_turn(&key, "what next?", TurnOptions::default())
        .await
        .unwrap();
    assert!(second.memory_flushed);
    assert_eq!(
        second.reply.as_deref(),
        Some("the answer"),
        "NO_REPLY is never delivered"
    );
    assert!(
        second.tool_calls.is_empty(),
        "the flush's tool calls are not the user's"
    );
    let flushes = flush_requests(&fake);
    assert_eq!(
        flushes.len(),
        2,
        "the write call, then the answer after its result"
    );
    let prompt = message_text(flushes[0].messages.last().unwrap());
    let path = memory_path(&prompt).unwrap();
    let date = &path["memory/".len()..path.len() - 3];
    assert!(
        date.len() == 10 && date.chars().filter(|c| *c == '-').count() == 2,
        "dated file name, got {path}"
    );
    assert!(prompt.contains("NO_REPLY"));
    assert!(
        flushes[0]
            .system
            .as_deref()
            .unwrap()
            .contains(MEMORY_FLUSH_SYSTEM_PROMPT.trim())
    );
    let note = std::fs::read_to_string(dir.path().join("workspace").join(&path)).unwrap();
    assert_eq!(note, "- the user prefers tea\n");
    // The user's own request came after the flush, without the flush's system addendum.
    let last = fake.main_requests().pop().unwrap();
    assert!(!is_flush(&last));
    assert_eq!(
        message_text(last.messages.last().unwrap()).trim(),
        "what next?"
    );

    let third = rt
        .run_turn(&key, "and then?", TurnOptions::default())
        .await
        .unwrap();
    assert!(!third.memory_flushed, "one flush per compaction cycle");
    assert_eq!(flush_requests(&fake).len(), 2);

    // Recorded on the session row and in the transcript.
    rt.flush_sessions().await.unwrap();
    let sessions = clawgate_agent::session::sessions_dir(&dir.path().join("state"), "main");
    let entry = clawgate_agent::SessionStore::new(&sessions, false)
        .get(&key)
        .unwrap()
        .unwrap();
    assert_eq!(
        entry.memory_flush_compaction_count,
        Some(entry.compaction_count)
    );
    assert!(entry.memory_flush_at.is_some());
    let text = format!("{:?}", transcript(dir.path()).entries);
    assert!(text.contains("Pre-compaction memory flush."));
}

#[tokio::test]
async fn no_flush_when_disabled_or_when_the_agent_cannot_write() {
    for (disabled, profile) in [(true, ToolProfile::Coding), (false, ToolProfile::Minimal)] {
        let dir = tempfile::tempdir().unwrap();
        let fake = FakeModel::new("p/m", None, script);
        let rt = runtime(dir.path(), fake.clone(), model("p/m", WINDOW), |s| {
            s.tool_policy.global.profile = Some(profile);
            s.tool_policy.global.also_allow = vec!["read".into(), "ls".into()];
            s.compaction.memory_flush.enabled = !disabled;
        });
        let key = main_session_key("main");
        rt.run_turn(&key, big_turn(), TurnOptions::default())
            .await
            .unwrap();
        let out = rt
            .run_turn(&key, "what next?", TurnOptions::default())
            .await
            .unwrap();
        assert!(
            !out.memory_flushed,
            "disabled={disabled} profile={profile:?}"
        );
        assert!(flush_requests(&fake).is_empty());
    }
}

#[tokio::test]
async fn configured_prompts_replace_the_built_in_ones() {
    let dir = tempfile::tempdir().unwrap();
    let fake = FakeModel::new("p/m", None, script);
    let rt = runtime(dir.path(), fake.clone(), model("p/m", WINDOW), |s| {
        s.tool_policy.global.profile = Some(ToolProfile::Coding);
        s.compaction.memory_flush.prompt =
            Some("Keep what matters in memory/YYYY-MM-DD.md now.".into());
        s.compaction.memory_flush.system_prompt = Some("FLUSH NOW for YYYY-MM-DD.".into());
        s.compaction.memory_flush.soft_threshold_tokens = 11_000;
    });
    let key = main_session_key("main");
    // A soft threshold this close to the compaction threshold flushes from ~60 tokens on.
    rt.run_turn(&key, "a short first turn", TurnOptions::default())
        .await
        .unwrap();
    let out = rt
        .run_turn(&key, "second", TurnOptions::default())
        .await
        .unwrap();
    assert!(out.memory_flushed);
    let flush = &flush_requests(&fake)[0];
    let system = flush.system.as_deref().unwrap();
    assert!(system.starts_with("FLUSH NOW for 20") && !system.contains(FLUSH_MARK));
    let prompt = message_text(flush.messages.last().unwrap());
    assert!(prompt.starts_with("Keep what matters in memory/20"));
    assert!(
        prompt
            .trim_end()
            .ends_with("If there is nothing to store, reply with NO_REPLY.")
    );
}
