//! Cooldowns between replicas: a failure recorded on one store reaches the others through the
//! database and NOTIFY; so does the recovery; a store attached late catches up from the table.

use std::sync::Arc;

use clawgate_providers::FailureKind;
use clawgate_router::{CooldownKey, CooldownSchedule, CooldownStore, Penalty};
use clawgate_state_postgres::PgCooldowns;

use super::support::{db, eventually, state};

fn store(db: &super::support::Db) -> Arc<CooldownStore> {
    let store = Arc::new(CooldownStore::in_memory(CooldownSchedule::default()));
    PgCooldowns::attach(state(db), &store);
    store
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

#[tokio::test]
async fn a_failure_and_its_recovery_reach_every_replica() {
    let db = db();
    let (a, b, c) = (store(&db), store(&db), store(&db));
    let key = CooldownKey::provider("gpu");
    // Let the listeners connect (they catch up from the table anyway).
    state(&db).migrate().await.unwrap();
    a.record_failure(&key, &FailureKind::Overloaded, Penalty::Cooldown, now());
    eventually("b and c see the cooldown", || {
        b.blocked(&key, now()).is_some() && c.blocked(&key, now()).is_some()
    })
    .await;
    a.record_success("gpu", 0, now() + 1);
    eventually("b and c see the recovery", || {
        b.blocked(&key, now()).is_none() && c.blocked(&key, now()).is_none()
    })
    .await;
    let late = store(&db);
    b.record_failure(
        &key,
        &FailureKind::RateLimit { retry_after: None },
        Penalty::Cooldown,
        now() + 2,
    );
    eventually("a late replica catches up", || {
        late.blocked(&key, now()).is_some()
    })
    .await;
}

#[tokio::test]
async fn failures_recorded_while_the_database_is_down_are_written_when_it_returns() {
    let mut db = db();
    let a = store(&db);
    state(&db).migrate().await.unwrap();
    db.cluster.stop().unwrap();
    let key = CooldownKey::provider("gpu");
    a.record_failure(&key, &FailureKind::Overloaded, Penalty::Cooldown, now());
    assert!(
        a.blocked(&key, now()).is_some(),
        "the local view works without the database"
    );
    db.cluster.resume().unwrap();
    let b = store(&db);
    eventually("the queued failure reaches b", || {
        b.blocked(&key, now()).is_some()
    })
    .await;
}
