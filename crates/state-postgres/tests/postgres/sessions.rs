//! The session backend contract on PostgreSQL: index rows, append-only transcripts and the
//! turn lease (exclusive, released on close, taken over after expiry, fencing a lost holder).

use std::time::Duration;

use clawgate_agent::AgentError;
use clawgate_agent::session::SessionBackend;

use super::support::{db, entry, header, row, sessions, state};

const LEASE: Duration = Duration::from_secs(30);

#[tokio::test]
async fn rows_upsert_get_list_remove_and_touch_reach_other_replicas() {
    let db = db();
    let a = sessions(&db, LEASE, Duration::ZERO);
    let b = sessions(&db, LEASE, Duration::ZERO);
    a.upsert("k2", row("s2", 2)).await.unwrap();
    a.upsert("k1", row("s1", 1)).await.unwrap();
    assert_eq!(b.get("k1").await.unwrap(), Some(row("s1", 1)));
    let keys: Vec<String> = b
        .list()
        .await
        .unwrap()
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    assert_eq!(keys, ["k1", "k2"], "key order");
    a.touch("k1", row("s1", 5));
    assert_eq!(
        a.get("k1").await.unwrap(),
        Some(row("s1", 5)),
        "seen here at once"
    );
    a.flush().await.unwrap();
    assert_eq!(
        b.get("k1").await.unwrap(),
        Some(row("s1", 5)),
        "committed by flush"
    );
    assert_eq!(b.remove("k2").await.unwrap(), Some(row("s2", 2)));
    assert_eq!(a.get("k2").await.unwrap(), None);
    assert_eq!(a.remove("k2").await.unwrap(), None);
}

#[tokio::test]
async fn a_transcript_is_read_back_in_append_order_by_another_replica() {
    let db = db();
    let a = sessions(&db, LEASE, Duration::ZERO);
    let b = sessions(&db, LEASE, Duration::from_secs(10));
    let (mut handle, loaded) = a
        .open_transcript("k", &row("s", 1), header("s", "k"))
        .await
        .unwrap();
    assert!(loaded.entries.is_empty());
    let mut parent = None;
    for n in 1..=5 {
        handle.append(&entry(n, parent.as_deref())).await.unwrap();
        parent = Some(format!("e{n}"));
    }
    handle.sync().await.unwrap();
    drop(handle);
    let (_handle, loaded) = b
        .open_transcript("k", &row("s", 1), header("s", "other"))
        .await
        .unwrap();
    let ids: Vec<&str> = loaded.entries.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(ids, ["e1", "e2", "e3", "e4", "e5"]);
    assert_eq!(
        loaded.header.unwrap().session_key.as_deref(),
        Some("k"),
        "the first opener's header is kept"
    );
    assert!(loaded.warnings.is_empty());
}

#[tokio::test]
async fn the_lease_is_exclusive_and_free_again_when_its_holder_closes() {
    let db = db();
    let a = sessions(&db, LEASE, Duration::ZERO);
    let b = sessions(&db, LEASE, Duration::ZERO);
    let (handle, _) = a
        .open_transcript("k", &row("s", 1), header("s", "k"))
        .await
        .unwrap();
    let refused = b.open_transcript("k", &row("s", 1), header("s", "k")).await;
    assert!(matches!(refused, Err(AgentError::SessionBusy { .. })));
    drop(handle);
    let waiting = sessions(&db, LEASE, Duration::from_secs(20));
    waiting
        .open_transcript("k", &row("s", 1), header("s", "k"))
        .await
        .expect("released on close");
}

#[tokio::test]
async fn a_dead_holders_lease_is_taken_over_after_it_expires() {
    let db = db();
    let a = sessions(&db, LEASE, Duration::ZERO);
    a.open_transcript("warm", &row("w", 1), header("w", "warm"))
        .await
        .unwrap();
    // A replica that died mid-turn: its row stays until it expires, nobody renews it.
    let client = state(&db).client().await.unwrap();
    client
        .execute(
            "INSERT INTO session_leases VALUES ('main', 'k', 'dead-replica/1', \
             now() + interval '2 seconds')",
            &[],
        )
        .await
        .unwrap();
    let refused = a.open_transcript("k", &row("s", 1), header("s", "k")).await;
    assert!(
        matches!(refused, Err(AgentError::SessionBusy { .. })),
        "held before expiry"
    );
    let waiting = sessions(&db, LEASE, Duration::from_secs(20));
    let (mut handle, _) = waiting
        .open_transcript("k", &row("s", 1), header("s", "k"))
        .await
        .expect("taken over after expiry");
    handle.append(&entry(1, None)).await.unwrap();
}

#[tokio::test]
async fn a_holder_whose_lease_was_taken_cannot_append() {
    let db = db();
    let a = sessions(&db, LEASE, Duration::ZERO);
    let (mut handle, _) = a
        .open_transcript("k", &row("s", 1), header("s", "k"))
        .await
        .unwrap();
    handle.append(&entry(1, None)).await.unwrap();
    let client = state(&db).client().await.unwrap();
    client
        .execute("UPDATE session_leases SET holder = 'someone-else'", &[])
        .await
        .unwrap();
    let refused = handle.append(&entry(2, Some("e1"))).await;
    assert!(
        matches!(refused, Err(AgentError::SessionBusy { .. })),
        "{refused:?}"
    );
    let lines: i64 = client
        .query_one("SELECT count(*) FROM transcript_lines", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(lines, 2, "the header and e1 only");
}

#[tokio::test]
async fn the_lease_is_renewed_while_the_transcript_is_open() {
    let db = db();
    let short = Duration::from_secs(1);
    let a = sessions(&db, short, Duration::ZERO);
    let (mut handle, _) = a
        .open_transcript("k", &row("s", 1), header("s", "k"))
        .await
        .unwrap();
    // Three lease spans later the holder still has it: renewals kept it.
    tokio::time::sleep(short * 3).await;
    let b = sessions(&db, short, Duration::ZERO);
    let refused = b.open_transcript("k", &row("s", 1), header("s", "k")).await;
    assert!(matches!(refused, Err(AgentError::SessionBusy { .. })));
    handle.append(&entry(1, None)).await.unwrap();
}

#[tokio::test]
async fn an_unreachable_database_refuses_with_store_unavailable_and_recovers() {
    let mut db = db();
    let a = sessions(&db, LEASE, Duration::ZERO);
    a.upsert("k", row("s", 1)).await.unwrap();
    db.cluster.stop().unwrap();
    let refused = a.upsert("k", row("s", 2)).await;
    assert!(
        matches!(refused, Err(AgentError::StoreUnavailable(_))),
        "{refused:?}"
    );
    let refused = a.open_transcript("k", &row("s", 1), header("s", "k")).await;
    assert!(
        matches!(refused, Err(AgentError::StoreUnavailable(_))),
        "{refused:?}"
    );
    db.cluster.resume().unwrap();
    let mut recovered = None;
    for _ in 0..100 {
        if let Ok(entry) = a.get("k").await {
            recovered = entry;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        recovered,
        Some(row("s", 1)),
        "the refused upsert was not applied later"
    );
}

#[tokio::test]
async fn two_replicas_creating_one_session_agree_on_its_row() {
    let db = db();
    let a = sessions(&db, LEASE, Duration::ZERO);
    let b = sessions(&db, LEASE, Duration::ZERO);
    let (x, y) = tokio::join!(
        a.create("k", row("from-a", 1)),
        b.create("k", row("from-b", 1))
    );
    let (x, y) = (x.unwrap(), y.unwrap());
    assert_eq!(x, y, "both use the row committed first");
    assert_eq!(a.get("k").await.unwrap(), Some(x));
}
