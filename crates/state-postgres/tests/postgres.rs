//! The Postgres tier of clawgate-state-postgres: each test starts a throwaway PostgreSQL
//! cluster (feature `test-cluster`) and checks a backend contract against it. Run with
//! `cargo test -p clawgate-state-postgres --features postgres-tests --test postgres`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod postgres {
    mod cooldowns;
    mod migrate;
    mod schema;
    mod sessions;
    pub mod support;
}
