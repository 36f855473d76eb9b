//! The `state` section turned into stores: with `backend: "files"` (the default) nothing here
//! runs and the router and agents keep their files under the state dir; with `"postgres"` the
//! cooldown store is an in-memory one attached to the database ([`PgCooldowns`]) and each
//! agent's sessions are [`PgSessions`]. Nothing above the assembly knows which backend runs:
//! the gateway only asks [`StateHealth`] for `/readyz` and `/metrics`.

use std::sync::Arc;
use std::time::Duration;

use clawgate_agent::AgentRuntime;
use clawgate_agent::session::main_session_key;
use clawgate_config::{StateBackend, StateConfig};
use clawgate_router::{CooldownSchedule, CooldownStore};
use clawgate_state_postgres::{PgCooldowns, PgSessions, PgState, SessionOptions};

use crate::error::RuntimeError;

/// The default `state.leaseSeconds`.
const DEFAULT_LEASE: Duration = Duration::from_secs(30);

/// Where shared state lives and whether it can be reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StateHealth {
    /// Files under the state dir: nothing to reach.
    Files,
    Postgres {
        /// The URL with its password masked.
        url: String,
        /// Whether the last use (or the once-a-second probe) reached it.
        up: bool,
        /// Why it is down, while it is.
        error: Option<String>,
    },
}

/// The shared store of these services, when the config asks for one.
#[derive(Debug, Clone)]
pub struct SharedState {
    state: Arc<PgState>,
    lease: Duration,
}

impl SharedState {
    /// `None` for files. `current` is reused when it is on the same URL (a config reload).
    pub fn from_config(
        config: &StateConfig,
        current: Option<&SharedState>,
    ) -> Result<Option<Self>, RuntimeError> {
        if config.backend() == StateBackend::Files {
            return Ok(None);
        }
        let url = config.url.as_deref().unwrap_or_default();
        let lease = config
            .lease_seconds
            .map_or(DEFAULT_LEASE, Duration::from_secs);
        if let Some(current) = current.filter(|c| c.state.is_for(url)) {
            return Ok(Some(SharedState {
                state: current.state.clone(),
                lease,
            }));
        }
        let state = PgState::new(url).map_err(|e| RuntimeError::State(e.to_string()))?;
        Ok(Some(SharedState { state, lease }))
    }

    /// A cooldown store whose changes go to the database and which hears other replicas'.
    pub fn cooldown_store(&self, schedule: CooldownSchedule) -> Arc<CooldownStore> {
        let store = Arc::new(CooldownStore::in_memory(schedule));
        PgCooldowns::attach(self.state.clone(), &store);
        store
    }

    /// `runtime` with its sessions on the database.
    pub fn with_sessions(&self, runtime: AgentRuntime) -> AgentRuntime {
        let settings = runtime.settings();
        let options = SessionOptions {
            lease: self.lease,
            maintenance: settings.session.maintenance.clone(),
            protected: vec![main_session_key(&settings.agent_id)],
            ..SessionOptions::default()
        };
        let backend = PgSessions::new(self.state.clone(), &settings.agent_id, options);
        runtime.with_session_backend(Arc::new(backend))
    }

    pub fn health(&self) -> StateHealth {
        StateHealth::Postgres {
            url: self.state.url().to_string(),
            up: self.state.healthy(),
            error: self.state.last_error(),
        }
    }

    /// Connects and migrates now, so a gateway logs an unreachable database at start-up.
    pub async fn connect(&self) -> Result<(), RuntimeError> {
        self.state
            .migrate()
            .await
            .map(|_| ())
            .map_err(|e| RuntimeError::State(e.to_string()))
    }

    /// Reads every committed cooldown into `store` now (a one-shot command such as `models
    /// status`, which would otherwise show only what its listener caught up with so far).
    pub async fn catch_up(&self, store: &CooldownStore) -> Result<(), RuntimeError> {
        let all = clawgate_state_postgres::cooldowns::read_all(&self.state)
            .await
            .map_err(RuntimeError::State)?;
        store.apply_remote(&all);
        Ok(())
    }

    pub fn pg(&self) -> &Arc<PgState> {
        &self.state
    }
}
