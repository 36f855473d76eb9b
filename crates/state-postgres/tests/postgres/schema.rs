//! Migrations run from an empty database, and a second run (another replica) applies nothing.

use super::support::{db, state};

#[tokio::test]
async fn migrations_apply_from_empty_and_rerun_as_a_no_op() {
    let db = db();
    let first = state(&db).migrate().await.unwrap();
    assert_eq!(first, 1, "version 1 applied on an empty database");
    let again = state(&db).migrate().await.unwrap();
    assert_eq!(again, 0, "a re-run applies nothing");
    let client = state(&db).client().await.unwrap();
    let tables: Vec<String> = client
        .query(
            "SELECT table_name::text FROM information_schema.tables \
             WHERE table_schema = 'public' ORDER BY 1",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    for table in [
        "cooldowns",
        "session_leases",
        "sessions",
        "transcript_lines",
    ] {
        assert!(tables.iter().any(|t| t == table), "{table} in {tables:?}");
    }
}

#[tokio::test]
async fn replicas_starting_together_migrate_once() {
    let db = db();
    let (a, b, c) = (state(&db), state(&db), state(&db));
    let (x, y, z) = tokio::join!(a.migrate(), b.migrate(), c.migrate());
    assert_eq!(x.unwrap() + y.unwrap() + z.unwrap(), 1);
}

#[tokio::test]
async fn an_unreachable_database_is_reported_with_the_password_redacted() {
    let db = db();
    let port = db.cluster.port();
    drop(db);
    let url = format!("postgres://postgres:hunter2@127.0.0.1:{port}/clawgate");
    let state = clawgate_state_postgres::PgState::new(&url).unwrap();
    let error = state.migrate().await.unwrap_err().to_string();
    assert!(error.contains("unreachable"), "{error}");
    assert!(!error.contains("hunter2"), "{error}");
    assert!(error.contains("***"), "{error}");
    assert!(!state.healthy());
}
