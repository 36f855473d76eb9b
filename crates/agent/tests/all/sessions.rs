//! Sessions on disk: OpenClaw's shape, the single-writer lock, torn lines, `/new`, listing and
//! export.

use std::io::Write;

use clawgate_agent::session::{EntryBody, load_transcript, sessions_dir};
use clawgate_agent::{AgentError, ExportFormat, SessionStore, TurnOptions, main_session_key};
use clawgate_wire::Role;

use crate::fake::{FakeModel, model, runtime};

#[tokio::test]
async fn layout_matches_openclaw() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime(
        dir.path(),
        FakeModel::text("p/m", "hi"),
        model("p/m", 32_000),
        |_| {},
    );
    let key = main_session_key("main");
    assert_eq!(key, "agent:main:main");
    rt.run_turn(&key, "hello", TurnOptions::default())
        .await
        .unwrap();
    let sdir = sessions_dir(&dir.path().join("state"), "main");
    assert!(sdir.ends_with("agents/main/sessions"));
    let raw: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(sdir.join("sessions.json")).unwrap())
            .unwrap();
    let row = &raw["agent:main:main"];
    let id = row["sessionId"].as_str().unwrap();
    assert!(row["updatedAt"].as_u64().unwrap() > 0);
    assert_eq!(row["compactionCount"], 0);
    let text = std::fs::read_to_string(sdir.join(format!("{id}.jsonl"))).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines[0]["type"], "session");
    assert_eq!(lines[0]["id"], id);
    assert!(lines[0]["cwd"].as_str().unwrap().ends_with("workspace"));
    assert!(lines[0]["timestamp"].as_str().unwrap().ends_with('Z'));
    assert_eq!(lines[1]["type"], "message");
    assert!(lines[1]["parentId"].is_null());
    assert_eq!(lines[1]["message"]["role"], "user");
    assert_eq!(lines[1]["message"]["content"][0]["type"], "text");
    assert_eq!(lines[2]["parentId"], lines[1]["id"]);
    assert_eq!(lines[2]["message"]["role"], "assistant");
    assert!(
        lines[2]["message"]["usage"]["input_tokens"]
            .as_u64()
            .is_some()
    );
}

#[tokio::test]
async fn second_writer_gets_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let a = runtime(
        dir.path(),
        FakeModel::text("p/m", "a"),
        model("p/m", 32_000),
        |_| {},
    );
    let b = runtime(
        dir.path(),
        FakeModel::text("p/m", "b"),
        model("p/m", 32_000),
        |_| {},
    );
    let key = main_session_key("main");
    a.run_turn(&key, "one", TurnOptions::default())
        .await
        .unwrap();
    let err = b
        .run_turn(&key, "two", TurnOptions::default())
        .await
        .unwrap_err();
    assert!(matches!(err, AgentError::SessionLocked { .. }));
    assert!(err.to_string().contains("already open in another process"));
    // The lock file is named relative to the state dir (this text reaches 409 bodies).
    assert!(
        err.to_string().contains("lock file agents/main/sessions/"),
        "{err}"
    );
    assert!(!err.to_string().contains(&dir.path().display().to_string()));
    a.close_session(&key).await;
    let ok = b
        .run_turn(&key, "two", TurnOptions::default())
        .await
        .unwrap();
    assert_eq!(ok.reply.as_deref(), Some("b"));
}

#[tokio::test]
async fn torn_last_line_is_skipped_and_the_next_append_starts_fresh() {
    let dir = tempfile::tempdir().unwrap();
    let key = main_session_key("main");
    let sdir = sessions_dir(&dir.path().join("state"), "main");
    {
        let rt = runtime(
            dir.path(),
            FakeModel::text("p/m", "first"),
            model("p/m", 32_000),
            |_| {},
        );
        rt.run_turn(&key, "hello", TurnOptions::default())
            .await
            .unwrap();
    }
    let id = SessionStore::new(&sdir, false)
        .get(&key)
        .unwrap()
        .unwrap()
        .session_id;
    let path = sdir.join(format!("{id}.jsonl"));
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap();
    f.write_all(br#"{"type":"message","id":"torn","parentId":"x","message":{"role":"us"#)
        .unwrap();
    drop(f);
    let t = load_transcript(&path).unwrap();
    assert_eq!(t.warnings.len(), 1);
    assert!(t.warnings[0].contains("torn last line"));

    let fake = FakeModel::text("p/m", "second");
    let rt = runtime(dir.path(), fake.clone(), model("p/m", 32_000), |_| {});
    let out = rt
        .run_turn(&key, "again", TurnOptions::default())
        .await
        .unwrap();
    assert_eq!(out.reply.as_deref(), Some("second"));
    assert!(out.notices.iter().any(|n| n.contains("unreadable line")));
    // The model saw the earlier exchange (context survived the torn line).
    let sent = &fake.main_requests()[0];
    assert_eq!(sent.messages.len(), 3);
    drop(rt);
    let t = load_transcript(&path).unwrap();
    assert_eq!(t.warnings.len(), 1, "only the torn fragment is bad");
    assert_eq!(t.entries.len(), 4);
    for pair in t.entries.windows(2) {
        assert_eq!(pair[1].parent_id.as_deref(), Some(pair[0].id.as_str()));
    }
}

#[tokio::test]
async fn new_starts_a_fresh_session_and_keeps_the_old_file() {
    let dir = tempfile::tempdir().unwrap();
    let fake = FakeModel::text("p/m", "ok");
    let rt = runtime(dir.path(), fake.clone(), model("p/m", 32_000), |_| {});
    let key = main_session_key("main");
    let first = rt
        .run_turn(&key, "remember 42", TurnOptions::default())
        .await
        .unwrap();
    let out = rt
        .run_turn(&key, "/new", TurnOptions::default())
        .await
        .unwrap();
    assert!(out.command);
    assert_ne!(out.session_id, first.session_id);
    // The reply names the old transcript relative to the state dir, never where it lives.
    let reply = out.reply.unwrap();
    assert!(
        reply.contains(&format!("agents/main/sessions/{}.jsonl", first.session_id)),
        "{reply}"
    );
    assert!(
        !reply.contains(&dir.path().display().to_string()),
        "{reply}"
    );
    let after = rt
        .run_turn(&key, "what number?", TurnOptions::default())
        .await
        .unwrap();
    assert_eq!(after.session_id, out.session_id);
    // The fresh session starts empty: only the new user message was sent.
    assert_eq!(fake.main_requests().last().unwrap().messages.len(), 1);
    let sdir = sessions_dir(&dir.path().join("state"), "main");
    assert!(sdir.join(format!("{}.jsonl", first.session_id)).exists());
    assert!(sdir.join(format!("{}.jsonl", out.session_id)).exists());
}

#[tokio::test]
async fn list_show_and_export() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime(
        dir.path(),
        FakeModel::text("p/m", "pong"),
        model("p/m", 32_000),
        |_| {},
    );
    rt.run_turn("agent:main:main", "ping", TurnOptions::default())
        .await
        .unwrap();
    rt.run_turn("custom-key", "ping 2", TurnOptions::default())
        .await
        .unwrap();
    let list = rt.list_sessions().await.unwrap();
    assert_eq!(list.len(), 2);
    assert!(list.iter().any(|s| s.key == "custom-key"));
    assert!(list.iter().all(|s| s.total_tokens > 0));
    let view = rt.show_session("agent:main:main").await.unwrap();
    let by_id = rt.show_session(&view.entry.session_id).await.unwrap();
    assert_eq!(by_id.key, "agent:main:main");
    let roles: Vec<Role> = view
        .transcript
        .entries
        .iter()
        .filter_map(|e| match &e.body {
            EntryBody::Message(m) => Some(m.role),
            _ => None,
        })
        .collect();
    assert_eq!(roles, vec![Role::User, Role::Assistant]);
    let md = rt
        .export_session("agent:main:main", ExportFormat::Markdown)
        .await
        .unwrap();
    assert!(md.contains("## User") && md.contains("ping") && md.contains("pong"));
    let jsonl = rt
        .export_session("agent:main:main", ExportFormat::Jsonl)
        .await
        .unwrap();
    assert_eq!(jsonl.lines().count(), 3);
    assert!(matches!(
        rt.show_session("nope").await,
        Err(AgentError::UnknownSession(_))
    ));
}

#[tokio::test]
async fn sessions_can_be_listed_without_a_runtime_while_open() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime(
        dir.path(),
        FakeModel::text("p/m", "pong"),
        model("p/m", 32_000),
        |_| {},
    );
    rt.run_turn("agent:main:main", "ping", TurnOptions::default())
        .await
        .unwrap();
    // The runtime still holds the session open: read-only views need no lock.
    let store = SessionStore::for_agent(&dir.path().join("state"), "main");
    let list = store.list().unwrap();
    assert_eq!(list.len(), 1);
    let md = store
        .export(&list[0].session_id, ExportFormat::Markdown)
        .unwrap();
    assert!(md.contains("pong"));
}
