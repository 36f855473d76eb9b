//! The session index under hostile conditions (issue 17, items 3 and 6): an empty
//! `sessions.json` is refused, `repair` rebuilds it from the transcripts, a turn's index I/O
//! does not grow with the number of sessions, keys are bounded, and `session.reset` /
//! `session.maintenance` have their effect.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use clawgate_agent::session::{
    MaintenanceMode, MaintenancePolicy, ResetMode, ResetPolicy, SessionPolicy, sessions_dir,
};
use clawgate_agent::{
    AgentError, AgentRuntime, MAX_SESSION_KEY_BYTES, ManualClock, SessionStore, TurnOptions,
    main_session_key,
};

use crate::fake::{FakeModel, message_text, model, runtime};

const HOUR: u64 = 3_600_000;
/// 2026-01-01T00:00:00Z.
const JAN_1: u64 = 1_767_225_600_000;

fn rt_with(
    dir: &std::path::Path,
    fake: Arc<FakeModel>,
    policy: SessionPolicy,
    clock: Option<Arc<ManualClock>>,
) -> AgentRuntime {
    let rt = runtime(dir, fake, model("p/m", 32_000), |s| s.session = policy);
    match clock {
        Some(c) => rt.with_clock(c),
        None => rt,
    }
}

fn utc_policy(reset: ResetPolicy, maintenance: MaintenancePolicy) -> SessionPolicy {
    SessionPolicy {
        reset,
        maintenance,
        time_zone: jiff::tz::TimeZone::UTC,
    }
}

/// An index of `count` rows (sessions without transcripts), updated `age_ms` before `now`.
fn write_index(dir: &std::path::Path, count: usize, now: u64, age_ms: u64) {
    let sdir = sessions_dir(&dir.join("state"), "main");
    std::fs::create_dir_all(&sdir).unwrap();
    let mut map = serde_json::Map::new();
    for i in 0..count {
        let id = format!("00000000-0000-4000-8000-{i:012}");
        let at = now - age_ms - i as u64;
        map.insert(
            format!("agent:main:user-{i}"),
            serde_json::json!({
                "sessionId": id, "sessionFile": format!("{id}.jsonl"),
                "sessionStartedAt": at, "lastInteractionAt": at, "updatedAt": at,
                "totalTokens": 1500, "compactionCount": 0
            }),
        );
    }
    std::fs::write(
        sdir.join("sessions.json"),
        serde_json::to_string_pretty(&map).unwrap(),
    )
    .unwrap();
}

#[tokio::test]
async fn an_empty_index_is_refused_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let key = main_session_key("main");
    {
        let rt = runtime(
            dir.path(),
            FakeModel::text("p/m", "hi"),
            model("p/m", 32_000),
            |_| {},
        );
        rt.run_turn(&key, "hello", TurnOptions::default())
            .await
            .unwrap();
    }
    let sdir = sessions_dir(&dir.path().join("state"), "main");
    std::fs::write(sdir.join("sessions.json"), b"").unwrap();
    let transcripts = |d: &std::path::Path| {
        std::fs::read_dir(d)
            .unwrap()
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().ends_with(".jsonl"))
            .filter(|e| e.file_name() != "sessions.journal.jsonl")
            .count()
    };
    assert_eq!(transcripts(&sdir), 1);
    let rt = runtime(
        dir.path(),
        FakeModel::text("p/m", "hi"),
        model("p/m", 32_000),
        |_| {},
    );
    let err = rt
        .run_turn(&key, "again", TurnOptions::default())
        .await
        .unwrap_err();
    assert!(matches!(err, AgentError::Corrupt { .. }), "{err:?}");
    let text = err.to_string();
    assert!(
        text.starts_with("agents/main/sessions/sessions.json:"),
        "{text}"
    );
    assert!(text.contains("empty") && text.contains("clawgate sessions repair"));
    assert!(!text.contains(&dir.path().display().to_string()));
    drop(rt);
    // Nothing was rewritten and no new session was started.
    assert_eq!(
        std::fs::metadata(sdir.join("sessions.json")).unwrap().len(),
        0
    );
    assert_eq!(transcripts(&sdir), 1);
}

#[tokio::test]
async fn repair_rebuilds_the_index_from_the_transcripts() {
    let dir = tempfile::tempdir().unwrap();
    let key = main_session_key("main");
    let (main_id, other_id) = {
        let rt = runtime(
            dir.path(),
            FakeModel::text("p/m", "noted"),
            model("p/m", 32_000),
            |_| {},
        );
        let a = rt
            .run_turn(&key, "remember the word tangerine", TurnOptions::default())
            .await
            .unwrap();
        let b = rt
            .run_turn("work", "another chat", TurnOptions::default())
            .await
            .unwrap();
        (a.session_id, b.session_id)
    };
    let sdir = sessions_dir(&dir.path().join("state"), "main");
    // An orphan from before clawgate wrote keys into headers: it gets a recovered key.
    std::fs::write(
        sdir.join("legacy-1.jsonl"),
        "{\"type\":\"session\",\"id\":\"legacy-1\",\"cwd\":\"/w\",\"timestamp\":\"2026-01-01T00:00:00.000Z\"}\n",
    )
    .unwrap();
    std::fs::write(sdir.join("sessions.json"), b"").unwrap();
    let _ = std::fs::remove_file(sdir.join("sessions.journal.jsonl"));

    let store = SessionStore::new(&sdir, false);
    let report = store.repair("main", 42).unwrap();
    assert_eq!(report.index_state, "empty");
    assert_eq!(report.kept, 0);
    assert_eq!(
        report.backup.as_deref(),
        Some("agents/main/sessions/sessions.json.bad-42")
    );
    assert!(sdir.join("sessions.json.bad-42").exists());
    let mut keys: Vec<(String, String)> = report
        .recovered
        .iter()
        .map(|r| (r.key.clone(), r.session_id.clone()))
        .collect();
    keys.sort();
    assert_eq!(
        keys,
        vec![
            ("agent:main:main".to_string(), main_id.clone()),
            (
                "agent:main:recovered:legacy-1".to_string(),
                "legacy-1".to_string()
            ),
            ("work".to_string(), other_id),
        ]
    );
    let index = store.load().unwrap();
    assert_eq!(index.len(), 3);
    assert!(index["agent:main:main"].total_tokens > 0);

    // The main session continues where it was.
    let fake = FakeModel::text("p/m", "tangerine");
    let rt = runtime(dir.path(), fake.clone(), model("p/m", 32_000), |_| {});
    let out = rt
        .run_turn(&key, "which word?", TurnOptions::default())
        .await
        .unwrap();
    assert_eq!(out.session_id, main_id);
    let sent = &fake.main_requests()[0];
    assert!(message_text(&sent.messages[0]).contains("tangerine"));

    // A second repair keeps every readable row and recovers nothing new.
    drop(rt);
    let again = store.repair("main", 43).unwrap();
    assert_eq!((again.index_state.as_str(), again.kept), ("ok", 3));
    assert!(again.recovered.is_empty() && again.backup.is_none());
}

/// Bytes the index files got during `turns` gateway-style turns (the session closed after
/// each), and how many times `sessions.json` was rewritten.
async fn index_io_per_turn(sessions: usize, turns: u64) -> (u64, u64, u64) {
    let dir = tempfile::tempdir().unwrap();
    let now = JAN_1 + 10 * HOUR;
    write_index(dir.path(), sessions, now, HOUR);
    let policy = utc_policy(
        ResetPolicy::default(),
        MaintenancePolicy {
            max_entries: 1_000_000,
            ..MaintenancePolicy::default()
        },
    );
    let clock = Arc::new(ManualClock::new(now));
    let rt = rt_with(
        dir.path(),
        FakeModel::text("p/m", "ok"),
        policy,
        Some(clock),
    );
    let key = "agent:main:http";
    rt.run_turn(key, "warm up", TurnOptions::default())
        .await
        .unwrap();
    rt.close_session(key).await;
    rt.flush_sessions().await.unwrap();
    let stats = rt.session_index_stats();
    let bytes = stats.bytes_written.load(Ordering::SeqCst);
    let snapshots = stats.snapshot_writes.load(Ordering::SeqCst);
    for i in 0..turns {
        rt.run_turn(key, format!("turn {i}"), TurnOptions::default())
            .await
            .unwrap();
        rt.close_session(key).await;
        rt.flush_sessions().await.unwrap();
    }
    let size =
        std::fs::metadata(sessions_dir(&dir.path().join("state"), "main").join("sessions.json"))
            .unwrap()
            .len();
    (
        (stats.bytes_written.load(Ordering::SeqCst) - bytes) / turns,
        stats.snapshot_writes.load(Ordering::SeqCst) - snapshots,
        size,
    )
}

#[tokio::test]
async fn a_turns_index_io_does_not_grow_with_the_number_of_sessions() {
    let (small_bytes, small_rewrites, _) = index_io_per_turn(10, 30).await;
    let (big_bytes, big_rewrites, big_index) = index_io_per_turn(20_000, 30).await;
    // The whole index is megabytes; a turn writes one journal line of its own row.
    assert!(big_index > 2_000_000, "index of {big_index} bytes");
    assert_eq!((small_rewrites, big_rewrites), (0, 0));
    assert!(big_bytes < 2_048, "{big_bytes} bytes per turn");
    assert_eq!(big_bytes, small_bytes);
}

#[tokio::test]
async fn session_keys_are_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime(
        dir.path(),
        FakeModel::text("p/m", "ok"),
        model("p/m", 32_000),
        |_| {},
    );
    let longest = "k".repeat(MAX_SESSION_KEY_BYTES);
    rt.run_turn(&longest, "hi", TurnOptions::default())
        .await
        .unwrap();
    let err = rt
        .run_turn(&format!("{longest}x"), "hi", TurnOptions::default())
        .await
        .unwrap_err();
    assert!(matches!(err, AgentError::InvalidSessionKey(_)), "{err:?}");
    assert!(err.to_string().contains("at most 512 bytes"));
    assert_eq!(rt.list_sessions().await.unwrap().len(), 1);
}

#[tokio::test]
async fn daily_reset_starts_a_new_session_after_the_boundary() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(JAN_1 + 3 * HOUR));
    let policy = utc_policy(
        ResetPolicy {
            mode: ResetMode::Daily,
            at_hour: 4,
            idle_minutes: None,
        },
        MaintenancePolicy::default(),
    );
    let fake = FakeModel::text("p/m", "ok");
    let rt = rt_with(dir.path(), fake.clone(), policy, Some(clock.clone()));
    let key = main_session_key("main");
    let first = rt
        .run_turn(&key, "one", TurnOptions::default())
        .await
        .unwrap();
    clock.set(JAN_1 + 3 * HOUR + 50 * 60_000);
    let same = rt
        .run_turn(&key, "two", TurnOptions::default())
        .await
        .unwrap();
    assert_eq!(same.session_id, first.session_id);
    assert!(same.notices.is_empty());
    clock.set(JAN_1 + 4 * HOUR + 60_000);
    let next = rt
        .run_turn(&key, "three", TurnOptions::default())
        .await
        .unwrap();
    assert_ne!(next.session_id, first.session_id);
    assert!(
        next.notices
            .iter()
            .any(|n| n.contains("daily reset at 04:00"))
    );
    // The fresh session does not carry the old messages.
    assert_eq!(fake.main_requests().last().unwrap().messages.len(), 1);
    // With atHour 5 the same moment is still the old day.
    let dir2 = tempfile::tempdir().unwrap();
    clock.set(JAN_1 + 3 * HOUR);
    let late = utc_policy(
        ResetPolicy {
            at_hour: 5,
            ..ResetPolicy::default()
        },
        MaintenancePolicy::default(),
    );
    let rt2 = rt_with(
        dir2.path(),
        FakeModel::text("p/m", "ok"),
        late,
        Some(clock.clone()),
    );
    let a = rt2
        .run_turn(&key, "one", TurnOptions::default())
        .await
        .unwrap();
    clock.set(JAN_1 + 4 * HOUR + 60_000);
    let b = rt2
        .run_turn(&key, "two", TurnOptions::default())
        .await
        .unwrap();
    assert_eq!(a.session_id, b.session_id);
}

#[tokio::test]
async fn idle_reset_starts_a_new_session_after_the_window() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(JAN_1 + 10 * HOUR));
    // The legacy top-level idleMinutes without a reset block means idle mode.
    let reset = ResetPolicy::resolve(None, None, None, false, Some(30));
    assert_eq!(reset.mode, ResetMode::Idle);
    let policy = utc_policy(reset, MaintenancePolicy::default());
    let rt = rt_with(
        dir.path(),
        FakeModel::text("p/m", "ok"),
        policy,
        Some(clock.clone()),
    );
    let key = "http:user:alice";
    let first = rt
        .run_turn(key, "one", TurnOptions::default())
        .await
        .unwrap();
    rt.close_session(key).await;
    clock.advance(std::time::Duration::from_millis(29 * 60_000));
    let same = rt
        .run_turn(key, "two", TurnOptions::default())
        .await
        .unwrap();
    assert_eq!(same.session_id, first.session_id);
    rt.close_session(key).await;
    clock.advance(std::time::Duration::from_millis(31 * 60_000));
    let next = rt
        .run_turn(key, "three", TurnOptions::default())
        .await
        .unwrap();
    assert_ne!(next.session_id, first.session_id);
    assert!(
        next.notices
            .iter()
            .any(|n| n.contains("idle for more than 30 min"))
    );
    // An idle mode without a window uses OpenClaw's 60 minutes.
    let default_idle = ResetPolicy::resolve(Some(ResetMode::Idle), None, None, true, None);
    assert_eq!(default_idle.idle_minutes, Some(60));
}

async fn maintained(
    policy: MaintenancePolicy,
    old: usize,
    recent: usize,
) -> (Vec<String>, std::path::PathBuf, tempfile::TempDir) {
    maintained_with_archives(policy, old, recent, &[]).await
}

/// As [`maintained`], with transcripts archived `ages` ago already in the directory
/// (`old-<age>.jsonl.deleted.<stamp>`).
async fn maintained_with_archives(
    policy: MaintenancePolicy,
    old: usize,
    recent: usize,
    ages: &[u64],
) -> (Vec<String>, std::path::PathBuf, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let now = JAN_1 + 100 * 24 * HOUR;
    let sdir = sessions_dir(&dir.path().join("state"), "main");
    // `old` rows updated 10 days ago, `recent` rows 1 hour ago; each with a transcript.
    write_index(dir.path(), old + recent, now, HOUR);
    let mut map: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(sdir.join("sessions.json")).unwrap())
            .unwrap();
    for (i, (_, row)) in map.iter_mut().enumerate() {
        if i < old {
            row["updatedAt"] = (now - 10 * 24 * HOUR).into();
        }
        let id = row["sessionId"].as_str().unwrap().to_string();
        std::fs::write(sdir.join(format!("{id}.jsonl")), "{\"type\":\"session\"}\n").unwrap();
    }
    std::fs::write(
        sdir.join("sessions.json"),
        serde_json::to_string(&map).unwrap(),
    )
    .unwrap();
    for age in ages {
        let name = format!("old-{age}.jsonl.deleted.{}", now - age);
        std::fs::write(sdir.join(name), "{\"type\":\"session\"}\n").unwrap();
    }
    let clock = Arc::new(ManualClock::new(now));
    let rt = rt_with(
        dir.path(),
        FakeModel::text("p/m", "ok"),
        utc_policy(ResetPolicy::default(), policy),
        Some(clock),
    );
    // A new session is what triggers a pass.
    rt.run_turn("http:request:new", "hi", TurnOptions::default())
        .await
        .unwrap();
    rt.flush_sessions().await.unwrap();
    drop(rt);
    let keys = SessionStore::new(&sdir, false)
        .load()
        .unwrap()
        .into_keys()
        .collect();
    (keys, sdir, dir)
}

#[tokio::test]
async fn maintenance_prunes_stale_sessions_after_prune_after() {
    let week = MaintenancePolicy {
        mode: MaintenanceMode::Enforce,
        prune_after_ms: 7 * 24 * HOUR,
        max_entries: 500,
    };
    let (keys, sdir, _dir) = maintained(week, 3, 2).await;
    assert_eq!(keys.len(), 3, "{keys:?}"); // 2 recent + the new one
    assert!(keys.iter().all(|k| !k.ends_with("user-0")));
    // The pruned rows' transcripts are archived (`.deleted.<ms>`), not deleted; the kept ones
    // stayed.
    let names: Vec<String> = std::fs::read_dir(&sdir)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    let live = names
        .iter()
        .filter(|n| n.ends_with(".jsonl") && *n != "sessions.journal.jsonl")
        .count();
    assert_eq!(live, 3, "{names:?}");
    let archived = names
        .iter()
        .filter(|n| n.contains(".jsonl.deleted."))
        .count();
    assert_eq!(archived, 3, "{names:?}");
    // With the default 30 days, 10-day-old sessions stay.
    let (keys, _, _dir) = maintained(MaintenancePolicy::default(), 3, 2).await;
    assert_eq!(keys.len(), 6);
}

#[tokio::test]
async fn archived_transcripts_are_deleted_after_prune_after() {
    let week = MaintenancePolicy {
        mode: MaintenanceMode::Enforce,
        prune_after_ms: 7 * 24 * HOUR,
        max_entries: 500,
    };
    let (_, sdir, _dir) = maintained_with_archives(week, 0, 1, &[8 * 24 * HOUR, 24 * HOUR]).await;
    let archives: Vec<String> = std::fs::read_dir(&sdir)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".deleted."))
        .collect();
    assert_eq!(archives.len(), 1, "{archives:?}");
    assert!(
        archives[0].starts_with(&format!("old-{}.", 24 * HOUR)),
        "{archives:?}"
    );
}

#[tokio::test]
async fn maintenance_caps_the_count_and_warn_only_logs() {
    let cap = MaintenancePolicy {
        mode: MaintenanceMode::Enforce,
        prune_after_ms: 365 * 24 * HOUR,
        max_entries: 4,
    };
    let (keys, _, _dir) = maintained(cap.clone(), 0, 10).await;
    assert_eq!(keys.len(), 4, "{keys:?}");
    // The newest rows stay: the new session and the three most recent.
    assert!(keys.contains(&"http:request:new".to_string()));
    assert!(keys.contains(&"agent:main:user-0".to_string()));
    let warn = MaintenancePolicy {
        mode: MaintenanceMode::Warn,
        ..cap
    };
    let (keys, _, _dir) = maintained(warn, 0, 10).await;
    assert_eq!(keys.len(), 11);
}

#[tokio::test]
async fn the_main_session_is_never_pruned() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(JAN_1));
    let policy = utc_policy(
        ResetPolicy {
            mode: ResetMode::Idle,
            at_hour: 4,
            idle_minutes: Some(1_000_000),
        },
        MaintenancePolicy {
            mode: MaintenanceMode::Enforce,
            prune_after_ms: HOUR,
            max_entries: 1,
        },
    );
    let rt = rt_with(
        dir.path(),
        FakeModel::text("p/m", "ok"),
        policy,
        Some(clock.clone()),
    );
    let main = main_session_key("main");
    rt.run_turn(&main, "one", TurnOptions::default())
        .await
        .unwrap();
    rt.close_session(&main).await;
    clock.advance(std::time::Duration::from_millis(3 * HOUR));
    rt.run_turn("other", "two", TurnOptions::default())
        .await
        .unwrap();
    rt.flush_sessions().await.unwrap();
    let keys: Vec<String> = rt
        .list_sessions()
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.key)
        .collect();
    assert!(keys.contains(&main), "{keys:?}");
}
