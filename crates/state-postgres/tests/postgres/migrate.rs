//! `migrate_from_files` copies a state dir's sessions and cooldowns, and a re-run copies
//! nothing twice.

use std::time::Duration;

use clawgate_agent::session::{FileSessions, MaintenancePolicy, SessionBackend, SessionStore};
use clawgate_providers::FailureKind;
use clawgate_router::{CooldownKey, CooldownSchedule, CooldownStore, Penalty};
use clawgate_state_postgres::migrate_from_files;

use super::support::{db, entry, header, row, sessions, state};

#[tokio::test]
async fn a_state_dir_round_trips_and_a_rerun_copies_nothing() {
    let dir = tempfile::tempdir().unwrap();
    {
        let files = FileSessions::new(
            SessionStore::for_agent(dir.path(), "main"),
            MaintenancePolicy::default(),
            Vec::new(),
        );
        for (key, id) in [("k1", "s1"), ("k2", "s2")] {
            files.upsert(key, row(id, 7)).await.unwrap();
            let (mut handle, _) = files
                .open_transcript(key, &row(id, 7), header(id, key))
                .await
                .unwrap();
            handle.append(&entry(1, None)).await.unwrap();
            handle.append(&entry(2, Some("e1"))).await.unwrap();
        }
        files.flush().await.unwrap();
    }
    let cooldowns = CooldownStore::open(dir.path(), CooldownSchedule::default());
    cooldowns.record_failure(
        &CooldownKey::provider("gpu"),
        &FailureKind::Overloaded,
        Penalty::Cooldown,
        u64::MAX / 4,
    );
    drop(cooldowns);

    let db = db();
    let pg = state(&db);
    let mut lines = Vec::new();
    let first = migrate_from_files(&pg, dir.path(), &mut |l| lines.push(l.to_string()))
        .await
        .unwrap();
    assert_eq!(first.sessions_copied, 2);
    assert_eq!(
        first.transcript_lines_copied, 6,
        "a header and two entries each"
    );
    assert_eq!(first.cooldowns_copied, 1);
    assert!(lines.iter().any(|l| l.contains("agent main")), "{lines:?}");
    let again = migrate_from_files(&pg, dir.path(), &mut |_| {})
        .await
        .unwrap();
    assert_eq!(
        (
            again.sessions_copied,
            again.transcript_lines_copied,
            again.cooldowns_copied
        ),
        (0, 0, 0)
    );
    assert_eq!(again.sessions_present, 2);
    assert_eq!(again.transcript_lines_present, 6);

    let backend = sessions(&db, Duration::from_secs(30), Duration::ZERO);
    assert_eq!(backend.get("k2").await.unwrap(), Some(row("s2", 7)));
    let (_h, loaded) = backend
        .open_transcript("k2", &row("s2", 7), header("s2", "k2"))
        .await
        .unwrap();
    let ids: Vec<&str> = loaded.entries.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(ids, ["e1", "e2"]);
    let copied = clawgate_state_postgres::cooldowns::read_all(&pg)
        .await
        .unwrap();
    assert!(copied["gpu"].cooldown_until.is_some());
}
