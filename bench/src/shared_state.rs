//! Shared state on PostgreSQL (issue 14) beside the file backend, in one run:
//!
//! - **agent turn, c=1**: the agent runtime with the instant model on a 10-message session,
//!   closing the session after each turn as the gateway does (so each turn reads the row,
//!   takes the turn lock, loads the transcript, appends two entries, releases the lock). Turns
//!   alternate between the file backend and the Postgres backend, `turns` of each, after 20
//!   warm-up turns each.
//! - **cooldown propagation**: two cooldown stores attached to the database (two replicas'
//!   views); a failure is recorded on one and the other is polled every 100 µs until it sees
//!   the cooldown. `rounds` failures, each on a fresh provider name.
//!
//! The database is a throwaway cluster (`clawgate_state_postgres::test_cluster`, Debian's
//! server binaries) on loopback with `fsync=off`, on the same machine: the figures are the
//! backends' own cost plus one loopback round trip per statement, not a networked database.
//! The routed hot path is not in this group: it reads only the in-memory cooldown view with
//! either backend (no database access), so the `latency` group measures it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use clawgate_agent::session::main_session_key;
use clawgate_agent::{AgentRuntime, TurnOptions};
use clawgate_providers::FailureKind;
use clawgate_router::{Clock, CooldownKey, CooldownSchedule, CooldownStore, Penalty, SystemClock};
use clawgate_state_postgres::test_cluster::TestCluster;
use clawgate_state_postgres::{PgCooldowns, PgSessions, PgState, SessionOptions};
use serde::Serialize;

use crate::agent_turn::runtime;
use crate::stats::Summary;

#[derive(Debug, Serialize)]
pub struct SharedStateFigures {
    pub turns: usize,
    pub files_turn: Summary,
    pub postgres_turn: Summary,
    pub rounds: usize,
    pub cooldown_propagation: Summary,
}

const KEY: &str = "agent:bench:main";

async fn timed_turn(rt: &AgentRuntime, n: usize) -> anyhow::Result<Duration> {
    let started = Instant::now();
    rt.run_turn(KEY, format!("message {n}"), TurnOptions::default())
        .await?;
    rt.close_session(KEY).await;
    Ok(started.elapsed())
}

pub async fn measure(turns: usize, rounds: usize) -> anyhow::Result<SharedStateFigures> {
    let cluster = tokio::task::spawn_blocking(TestCluster::start)
        .await?
        .map_err(anyhow::Error::msg)
        .context("starting a throwaway PostgreSQL (is postgresql installed?)")?;
    let url = cluster
        .create_database("bench")
        .map_err(anyhow::Error::msg)?;
    let state = PgState::new(&url)?;
    state.migrate().await?;

    let files_dir = tempfile::tempdir()?;
    let files = runtime(files_dir.path(), true)?;
    let pg_dir = tempfile::tempdir()?;
    let pg = runtime(pg_dir.path(), true)?;
    let options = SessionOptions {
        protected: vec![main_session_key("bench")],
        ..SessionOptions::default()
    };
    let pg = pg.with_session_backend(Arc::new(PgSessions::new(state.clone(), "bench", options)));
    for n in 0..25 {
        timed_turn(&files, n).await?;
        timed_turn(&pg, n).await?;
    }
    let (mut on_files, mut on_pg) = (Vec::with_capacity(turns), Vec::with_capacity(turns));
    for n in 0..turns {
        on_files.push(timed_turn(&files, n).await?);
        on_pg.push(timed_turn(&pg, n).await?);
    }

    let a = Arc::new(CooldownStore::in_memory(CooldownSchedule::default()));
    let b = Arc::new(CooldownStore::in_memory(CooldownSchedule::default()));
    PgCooldowns::attach(PgState::new(&url)?, &a);
    PgCooldowns::attach(PgState::new(&url)?, &b);
    // Let b's listener connect and catch up before the first timed failure.
    let warm = CooldownKey::provider("warm-up");
    a.record_failure(
        &warm,
        &FailureKind::Overloaded,
        Penalty::Cooldown,
        SystemClock.now_ms(),
    );
    wait_until_blocked(&b, &warm, Duration::from_secs(30)).await?;
    let mut seen = Vec::with_capacity(rounds);
    for n in 0..rounds {
        let key = CooldownKey::provider(&format!("p{n}"));
        let started = Instant::now();
        a.record_failure(
            &key,
            &FailureKind::Overloaded,
            Penalty::Cooldown,
            SystemClock.now_ms(),
        );
        wait_until_blocked(&b, &key, Duration::from_secs(10)).await?;
        seen.push(started.elapsed());
    }
    drop(cluster);
    Ok(SharedStateFigures {
        turns,
        files_turn: Summary::of(&on_files),
        postgres_turn: Summary::of(&on_pg),
        rounds,
        cooldown_propagation: Summary::of(&seen),
    })
}

async fn wait_until_blocked(
    store: &CooldownStore,
    key: &CooldownKey,
    limit: Duration,
) -> anyhow::Result<()> {
    let started = Instant::now();
    while store.blocked(key, SystemClock.now_ms()).is_none() {
        if started.elapsed() > limit {
            anyhow::bail!("the cooldown of {key} never reached the other replica");
        }
        tokio::time::sleep(Duration::from_micros(100)).await;
    }
    Ok(())
}
