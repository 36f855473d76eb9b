//! The Postgres tier of the CLI: three real `clawgate gateway` processes (each with its own
//! state dir) on one throwaway PostgreSQL database, with mock-upstream as their upstreams.
//! Run with `cargo test -p clawgate --features postgres-tests --test postgres`
//! (`scripts/test-postgres` runs this and the store's own tier).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod postgres {
    mod cooldowns;
    mod migrate;
    mod outage;
    pub mod replicas;
    mod sessions;
}
