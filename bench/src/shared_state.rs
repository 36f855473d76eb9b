//! Shared state on PostgreSQL (issue 14) beside the file backend, in one run:
//!
//! - **routed calls, c=1 and the throughput frontier**: two gateways in front of the same
//!   0 ms mock, one keeping its state in files, one in PostgreSQL, each pinned to core 0 with
//!   one worker (the mock and oha on core 1, as in the `throughput` group). The c=1 series
//!   interleave direct, files and postgres request by request; the frontiers interleave
//!   rate by rate. A routed call reads only the in-memory cooldown view with either backend, so
//!   the target is no difference.
//! - **agent turn, c=1**: the agent runtime with the instant model on a 10-message session,
//!   closing the session after each turn as the gateway does (so each turn reads the row,
//!   takes the turn lock, loads the transcript, appends two entries, releases the lock). Turns
//!   alternate between the file backend and the Postgres backend, `turns` of each, after 25
//!   warm-up turns each.
//! - **cooldown propagation**: two cooldown stores attached to the database (two replicas'
//!   views); a failure is recorded on one and the other is polled every 100 µs until it sees
//!   the cooldown. `rounds` failures, each on a fresh provider name.
//!
//! The database is a throwaway cluster (`clawgate_state_postgres::test_cluster`, Debian's
//! server binaries) on loopback with `fsync=off`, on the same machine: the figures are the
//! backends' own cost plus one loopback round trip per statement, not a networked database.

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

use crate::Args;
use crate::agent_turn::runtime;
use crate::client::{Dialect, Target};
use crate::groups::block_on;
use crate::latency::{self, Phase};
use crate::peers::{ClawgateProcess, Launch, MockProcess, Programs};
use crate::stats::Summary;
use crate::throughput::{self, Frontier};

#[derive(Debug, Serialize)]
pub struct SharedStateFigures {
    pub routed: RoutedFigures,
    pub state: StateFigures,
}

/// The routed hot path through a gateway on each backend.
#[derive(Debug, Serialize)]
pub struct RoutedFigures {
    /// c=1: direct, the files gateway and the postgres gateway, interleaved.
    pub latency: Phase,
    /// The throughput frontiers of both gateways, measured interleaved rate by rate.
    pub frontiers: Vec<Frontier>,
    /// Why there are no frontiers (oha missing), if there are none.
    pub frontiers_skipped: Option<String>,
}

/// What the backends themselves cost: agent turns and cooldown propagation.
#[derive(Debug, Serialize)]
pub struct StateFigures {
    pub turns: usize,
    pub files_turn: Summary,
    pub postgres_turn: Summary,
    pub rounds: usize,
    pub cooldown_propagation: Summary,
}

/// Labels of the two gateways' series.
pub const FILES: &str = "clawgate, state in files";
pub const POSTGRES: &str = "clawgate, state in postgres";

/// Every figure of the group, on one throwaway cluster.
pub fn measure(programs: &Programs, args: &Args) -> anyhow::Result<SharedStateFigures> {
    let cluster = TestCluster::start()
        .map_err(anyhow::Error::msg)
        .context("starting a throwaway PostgreSQL (is postgresql installed?)")?;
    let url = cluster
        .create_database("bench")
        .map_err(anyhow::Error::msg)?;
    let routed = routed(programs, args, &url)?;
    let state = block_on(state_figures(
        &url,
        args.agent_turns,
        args.propagation_rounds,
    ))??;
    drop(cluster);
    Ok(SharedStateFigures { routed, state })
}

/// The hot path on each backend: c=1 interleaved, then both frontiers interleaved.
fn routed(programs: &Programs, args: &Args, url: &str) -> anyhow::Result<RoutedFigures> {
    let mock = MockProcess::fast(programs.mock()?, Some("1"))?;
    let launch = |state_url: Option<String>| Launch {
        cpus: Some("0".into()),
        workers: Some(1),
        state_url,
    };
    let start = |launch: &Launch| {
        ClawgateProcess::start(
            programs.clawgate()?,
            &mock.url,
            &mock.url,
            launch,
            Duration::from_millis(5),
        )
    };
    let mut files = start(&launch(None))?;
    let mut postgres = start(&launch(Some(url.to_owned())))?;
    let direct = Target::new("direct", &mock.url, Dialect::Chat, "mock-model");
    let model = "fast/mock-model";
    let paths = [
        Target::new(FILES, &files.base_url(), Dialect::Chat, model),
        Target::new(POSTGRES, &postgres.base_url(), Dialect::Chat, model),
    ];
    eprintln!("  routed calls c=1: {} rounds of 3 paths…", args.requests);
    let latency = block_on(latency::phase(&direct, &paths, args.requests, args.warmup))??;
    let Some(oha) = programs.oha.as_deref() else {
        return Ok(RoutedFigures {
            latency,
            frontiers: Vec::new(),
            frontiers_skipped: Some("oha not found (cargo install oha --locked)".into()),
        });
    };
    let frontiers = throughput::frontiers(
        oha,
        &mut [
            (&paths[0], Some(&mut files.process)),
            (&paths[1], Some(&mut postgres.process)),
        ],
        &args.rates,
        args.rate_seconds,
        Some("1"),
    )?;
    Ok(RoutedFigures {
        latency,
        frontiers,
        frontiers_skipped: None,
    })
}

const KEY: &str = "agent:bench:main";

async fn timed_turn(rt: &AgentRuntime, n: usize) -> anyhow::Result<Duration> {
    let started = Instant::now();
    rt.run_turn(KEY, format!("message {n}"), TurnOptions::default())
        .await?;
    rt.close_session(KEY).await;
    Ok(started.elapsed())
}

/// Agent turns on each backend and the cooldown propagation between two replicas' views.
async fn state_figures(url: &str, turns: usize, rounds: usize) -> anyhow::Result<StateFigures> {
    let state = PgState::new(url)?;
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
    PgCooldowns::attach(PgState::new(url)?, &a);
    PgCooldowns::attach(PgState::new(url)?, &b);
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
    Ok(StateFigures {
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
