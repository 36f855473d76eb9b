//! A writer killed with SIGKILL in the middle of appending: the session loads again, continues,
//! and the transcript is consistent (at most one torn line, skipped with a warning; every
//! entry's parent is the entry before it).

use std::process::Command;
use std::time::{Duration, Instant};

use clawgate_agent::session::{EntryBody, load_transcript, sessions_dir};
use clawgate_agent::{SessionStore, TurnOptions, main_session_key};

use crate::fake::{FakeModel, model, runtime};

const CHILD_ENV: &str = "CLAWGATE_AGENT_CRASH_CHILD_DIR";

/// Never leave the child running if the parent fails early.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// In the child: append turns with large messages forever (until killed).
async fn child_loop(dir: &std::path::Path) {
    let fake = FakeModel::text("local/m", &"answer text ".repeat(2_000));
    let rt = runtime(dir, fake, model("local/m", 1_000_000), |_| {});
    let key = main_session_key("main");
    let big = "user text ".repeat(20_000);
    loop {
        rt.run_turn(&key, big.as_str(), TurnOptions::default())
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn transcript_survives_sigkill_mid_append() {
    if let Ok(dir) = std::env::var(CHILD_ENV) {
        child_loop(std::path::Path::new(&dir)).await;
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut child = KillOnDrop(
        Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "crash::transcript_survives_sigkill_mid_append",
                "--nocapture",
            ])
            .env(CHILD_ENV, dir.path())
            .spawn()
            .unwrap(),
    );
    let sessions = sessions_dir(&dir.path().join("state"), "main");
    let deadline = Instant::now() + Duration::from_secs(60);
    // Wait until the child has written a good amount, then kill it mid-loop.
    loop {
        let size: u64 = std::fs::read_dir(&sessions)
            .map(|d| {
                d.filter_map(Result::ok)
                    .filter(|e| e.path().extension().is_some_and(|x| x == "jsonl"))
                    .filter_map(|e| e.metadata().ok())
                    .map(|m| m.len())
                    .sum()
            })
            .unwrap_or(0);
        if size > 3_000_000 {
            break;
        }
        assert!(Instant::now() < deadline, "child wrote too little");
        std::thread::sleep(Duration::from_millis(5));
    }
    child.0.kill().unwrap(); // SIGKILL
    child.0.wait().unwrap();

    // The lock died with the process: the session opens and continues.
    let fake = FakeModel::text("local/m", "after the crash");
    let rt = runtime(
        dir.path(),
        fake.clone(),
        model("local/m", 1_000_000),
        |_| {},
    );
    let key = main_session_key("main");
    let outcome = rt
        .run_turn(&key, "are you there?", TurnOptions::default())
        .await
        .unwrap();
    assert_eq!(outcome.reply.as_deref(), Some("after the crash"));
    // The model saw whole messages only: a user message was the last thing sent.
    let sent = fake.main_requests();
    let last = sent.last().unwrap();
    assert_eq!(
        crate::fake::message_text(last.messages.last().unwrap()).trim(),
        "are you there?"
    );
    drop(rt);

    let entry = SessionStore::new(&sessions, false)
        .get(&key)
        .unwrap()
        .unwrap();
    let t = load_transcript(&sessions.join(format!("{}.jsonl", entry.session_id))).unwrap();
    assert!(t.header.is_some());
    assert!(t.warnings.len() <= 1, "warnings: {:?}", t.warnings);
    assert!(t.entries.len() >= 4);
    for pair in t.entries.windows(2) {
        assert_eq!(pair[1].parent_id.as_deref(), Some(pair[0].id.as_str()));
    }
    // The continued turn is the last exchange (a compaction entry may follow it).
    let messages: Vec<_> = t
        .entries
        .iter()
        .filter_map(|e| match &e.body {
            EntryBody::Message(m) => Some(m),
            _ => None,
        })
        .collect();
    let n = messages.len();
    assert_eq!(
        crate::fake::message_text(&messages[n - 2].to_message()).trim(),
        "are you there?"
    );
    assert_eq!(
        crate::fake::message_text(&messages[n - 1].to_message()).trim(),
        "after the crash"
    );
    // Every line but a possible torn one is a whole JSON value.
    let raw =
        std::fs::read_to_string(sessions.join(format!("{}.jsonl", entry.session_id))).unwrap();
    let bad = raw
        .lines()
        .filter(|l| serde_json::from_str::<serde_json::Value>(l).is_err())
        .count();
    assert_eq!(bad, t.warnings.len());
}

const WRITER_CHILD_ENV: &str = "CLAWGATE_AGENT_CRASH_WRITER_DIR";

/// In the child: a new session per turn (each a durable index row, then queued bumps) forever.
async fn writer_child_loop(dir: &std::path::Path) {
    let fake = FakeModel::text("local/m", "short answer");
    let rt = runtime(dir, fake, model("local/m", 1_000_000), |s| {
        s.durable_store = true;
        s.session.maintenance.max_entries = 1_000_000;
    });
    for i in 0.. {
        let key = format!("http:request:{i}");
        rt.run_turn(&key, "hello", TurnOptions::default())
            .await
            .unwrap();
        rt.close_session(&key).await;
    }
}

/// SIGKILL while the index writer thread appends and folds the journal: the index still loads
/// (a torn journal line is skipped), and every transcript on disk has its row: a session is
/// never lost, only the last `updatedAt` bumps may be.
#[tokio::test]
async fn index_writer_survives_sigkill() {
    if let Ok(dir) = std::env::var(WRITER_CHILD_ENV) {
        writer_child_loop(std::path::Path::new(&dir)).await;
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut child = KillOnDrop(
        Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "crash::index_writer_survives_sigkill",
                "--nocapture",
            ])
            .env(WRITER_CHILD_ENV, dir.path())
            .spawn()
            .unwrap(),
    );
    let sessions = sessions_dir(&dir.path().join("state"), "main");
    let transcripts = || -> Vec<String> {
        std::fs::read_dir(&sessions)
            .map(|d| {
                d.filter_map(Result::ok)
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|n| n.ends_with(".jsonl") && n != "sessions.journal.jsonl")
                    .collect()
            })
            .unwrap_or_default()
    };
    // A liveness bound only: on a loaded 2-core machine with fsync on, 700 turns can take
    // minutes.
    let deadline = Instant::now() + Duration::from_secs(600);
    // Past the first fold of the journal (1,000 lines), then kill it mid-loop.
    while transcripts().len() < 700 {
        assert!(Instant::now() < deadline, "child wrote too little");
        std::thread::sleep(Duration::from_millis(5));
    }
    child.0.kill().unwrap(); // SIGKILL
    child.0.wait().unwrap();

    let index = SessionStore::new(&sessions, false).load().unwrap();
    let ids: std::collections::HashSet<String> =
        index.values().map(|e| e.session_id.clone()).collect();
    let on_disk = transcripts();
    assert!(on_disk.len() >= 700);
    for name in &on_disk {
        let id = name.trim_end_matches(".jsonl");
        assert!(ids.contains(id), "transcript {name} has no index row");
        let t = load_transcript(&sessions.join(name)).unwrap();
        assert!(t.header.is_some(), "{name}");
    }
    // A new runtime continues from that index.
    let rt = runtime(
        dir.path(),
        FakeModel::text("local/m", "after"),
        model("local/m", 1_000_000),
        |_| {},
    );
    let out = rt
        .run_turn("http:request:0", "again", TurnOptions::default())
        .await
        .unwrap();
    assert_eq!(out.reply.as_deref(), Some("after"));
    assert_eq!(
        &out.session_id, &index["http:request:0"].session_id,
        "the first session continues"
    );
}
