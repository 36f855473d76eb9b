//! 500 turns through a model that enforces a 16K window with its own token rule: no overflow
//! reaches the user, every request the model saw holds whole tool pairs, the summariser gets
//! the older messages plus the previous summary, and the summary is in the next requests.

use std::collections::BTreeSet;

use clawgate_agent::session::{EntryBody, load_transcript, sessions_dir};
use clawgate_agent::{TurnOptions, main_session_key};
use clawgate_wire::{ContentBlock, Request, Role};

use crate::fake::{
    FakeModel, Scripted, assert_tool_pairs_whole, markers, message_text, model, runtime,
};

const TURNS: u32 = 500;
const WINDOW: u64 = 16_384;

fn script(request: &Request) -> Scripted {
    let last = request.messages.last().expect("a message");
    let n = markers(&message_text(last)).into_iter().max().unwrap_or(0);
    match last.role {
        Role::User if n.is_multiple_of(2) => Scripted::ToolCall {
            id: format!("call-{n}"),
            name: "read".into(),
            arguments: format!("{{\"path\":\"notes/n{n}.txt\"}}"),
        },
        Role::Tool => Scripted::Text(format!(
            "From the notes of [T{n}]: {}",
            "the file says what it says; ".repeat(12)
        )),
        _ => Scripted::Text(format!(
            "Answer to [T{n}]: {}",
            "plain words here. ".repeat(15)
        )),
    }
}

#[tokio::test]
async fn five_hundred_turns_in_a_16k_window() {
    run(true).await;
}

/// Like llama.cpp's streaming server: no usage at all, so only overflow errors (with the
/// server's token count) teach the estimator.
#[tokio::test]
async fn five_hundred_turns_in_a_16k_window_without_usage() {
    run(false).await;
}

async fn run(report_usage: bool) {
    let dir = tempfile::tempdir().unwrap();
    let notes = dir.path().join("workspace/notes");
    std::fs::create_dir_all(&notes).unwrap();
    for n in (0..TURNS).step_by(2) {
        // Mostly small notes, every 7th one larger than the 4000-char trimming limit.
        let size = if n % 7 == 0 { 6_000 } else { 1_200 };
        let body = format!("notes for [T{n}] ").repeat(size / 16);
        std::fs::write(notes.join(format!("n{n}.txt")), body).unwrap();
    }
    let fake = FakeModel::new("local/small", Some(WINDOW), script);
    fake.report_usage
        .store(report_usage, std::sync::atomic::Ordering::SeqCst);
    let rt = runtime(
        dir.path(),
        fake.clone(),
        model("local/small", WINDOW),
        |s| {
            s.system_prompt = Some("You are a careful assistant.".into());
            s.tool_policy.global.profile = Some(clawgate_agent::ToolProfile::Coding);
            // This test counts transcript messages turn by turn; the memory flush has its own.
            s.compaction.memory_flush.enabled = false;
        },
    );
    let key = main_session_key("main");
    let mut compactions = 0;
    for n in 0..TURNS {
        let text = format!("Question [T{n}]: {}", "please look into this. ".repeat(8));
        let outcome = rt
            .run_turn(&key, text, TurnOptions::default())
            .await
            .unwrap_or_else(|e| panic!("turn {n} failed: {e}"));
        let reply = outcome.reply.unwrap_or_default();
        assert!(
            reply.contains(&format!("[T{n}]")),
            "turn {n} reply: {reply}"
        );
        compactions += outcome.compactions;
        if n % 2 == 0 {
            assert_eq!(outcome.tool_calls.len(), 1, "turn {n}");
            assert!(!outcome.tool_calls[0].is_error, "turn {n}");
        }
    }
    let log = fake.requests();
    let overflowed = log.iter().filter(|r| r.overflowed).count();
    let summaries: Vec<_> = log
        .iter()
        .filter(|r| r.is_summary && !r.overflowed)
        .collect();
    eprintln!(
        "{TURNS} turns: {} model requests, {} summary calls, {compactions} compactions, \
         {overflowed} overflows recovered",
        log.len(),
        summaries.len()
    );
    assert!(compactions >= 20, "only {compactions} compactions");
    assert!(summaries.len() as u32 >= compactions);
    // Overflows happen while the estimate calibrates; each was recovered by compaction.
    assert!(overflowed < 10, "{overflowed} overflows");
    if !report_usage {
        assert!(overflowed > 0, "the overflow path was not exercised");
    }

    // Every request the model accepted holds whole tool pairs and fits the window.
    let mut latest_summary: Option<String> = None;
    let mut main_after_summary = 0;
    for r in log.iter().filter(|r| !r.overflowed) {
        assert!(r.tokens + u64::from(r.request.max_tokens.unwrap_or(0)) <= WINDOW);
        if r.is_summary {
            let input = crate::fake::request_text(&r.request);
            if let Some(prev) = &latest_summary {
                assert!(
                    input.contains(prev.as_str()),
                    "summariser lost the previous summary"
                );
            }
            latest_summary = r.summary_out.clone();
            continue;
        }
        assert_tool_pairs_whole(&r.request);
        if let Some(summary) = &latest_summary {
            let first = message_text(&r.request.messages[0]);
            assert!(
                first.contains(summary.as_str()),
                "summary missing from the next request"
            );
            main_after_summary += 1;
        }
    }
    assert!(main_after_summary > 0);

    // Nothing was lost: every turn was summarised or is still in the last request.
    let mut covered: BTreeSet<u32> = BTreeSet::new();
    for r in &summaries {
        let input = &r.request.messages[0];
        if let ContentBlock::Text { text } = &input.content[0] {
            covered.extend(markers(text));
        }
    }
    let last = log
        .iter()
        .rev()
        .find(|r| !r.is_summary && !r.overflowed)
        .unwrap();
    covered.extend(markers(&crate::fake::request_text(&last.request)));
    for n in 0..TURNS {
        assert!(
            covered.contains(&n),
            "turn {n} was neither summarised nor kept"
        );
    }

    // On disk: the full history, plus compaction entries whose kept tail starts on a whole pair.
    drop(rt);
    let dir_sessions = sessions_dir(&dir.path().join("state"), "main");
    let entry = clawgate_agent::SessionStore::new(&dir_sessions, false)
        .get(&key)
        .unwrap()
        .unwrap();
    assert_eq!(entry.compaction_count, compactions);
    let t = load_transcript(&dir_sessions.join(format!("{}.jsonl", entry.session_id))).unwrap();
    assert!(t.warnings.is_empty());
    let messages = t
        .entries
        .iter()
        .filter(|e| matches!(e.body, EntryBody::Message(_)))
        .count();
    assert_eq!(messages as u32, TURNS * 2 + TURNS / 2 * 2);
    let mut written = 0;
    for e in &t.entries {
        if let EntryBody::Compaction(c) = &e.body {
            written += 1;
            let Some(first) = &c.first_kept_entry_id else {
                continue;
            };
            let kept = t.entries.iter().find(|x| &x.id == first).unwrap();
            match &kept.body {
                EntryBody::Message(m) => assert_ne!(m.role, Role::Tool),
                _ => panic!("kept entry is not a message"),
            }
        }
    }
    assert_eq!(written, compactions);
}
