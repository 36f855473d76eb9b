//! [`PgSessions`]: one agent's sessions in PostgreSQL, behind the agent's
//! [`SessionBackend`]. Index rows are `sessions` rows (the entry as JSON); `upsert` and
//! `remove` return once committed; `touch` sets the row in a local overlay at once and a
//! writer task commits it (coalesced per key, retried while the database is away). A
//! transcript is `transcript_lines` rows, appended one committed row at a time under the
//! session's lease (see [`crate::lease`] and [`crate::transcript`]).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use clawgate_agent::AgentError;
use clawgate_agent::session::{
    LoadedTranscript, MaintenanceMode, MaintenancePolicy, SessionBackend, SessionEntry,
    SessionHeader, TranscriptHandle, maintenance_victims,
};
use tokio::sync::{mpsc, oneshot};
use tokio_postgres::types::Json;

use crate::lease::{self, Lease};
use crate::state::{PgState, StateError};
use crate::transcript::PgTranscript;

/// A maintenance pass runs at most this often.
const MAINTENANCE_PERIOD_MS: u64 = 60 * 60 * 1000;
/// How long the writer waits before retrying writes the database refused.
const RETRY_PERIOD: Duration = Duration::from_secs(1);

/// How sessions behave on the shared store.
#[derive(Debug, Clone)]
pub struct SessionOptions {
    /// How long a turn lock lasts without renewal (what a dead replica blocks a session for).
    pub lease: Duration,
    /// How long opening a session waits for another replica's turn before giving up.
    pub lock_wait: Duration,
    pub maintenance: MaintenancePolicy,
    /// Keys maintenance never removes (the agent's main session).
    pub protected: Vec<String>,
}

impl Default for SessionOptions {
    fn default() -> Self {
        SessionOptions {
            lease: Duration::from_secs(30),
            lock_wait: Duration::from_secs(120),
            maintenance: MaintenancePolicy::default(),
            protected: Vec::new(),
        }
    }
}

/// A queued change of one row: `None` removes it.
type Change = Option<SessionEntry>;

enum Msg {
    Write {
        key: String,
        generation: u64,
        done: Option<oneshot::Sender<Result<(), String>>>,
    },
    Maintain(u64),
    Flush(oneshot::Sender<Result<(), String>>),
}

#[derive(Debug, Default)]
struct Overlay {
    /// Changes set here and not yet committed, with their generation.
    queued: HashMap<String, (u64, Change)>,
    generation: u64,
    last_maintenance_ms: Option<u64>,
}

#[derive(Debug)]
pub(crate) struct Shared {
    pub state: Arc<PgState>,
    pub agent: String,
    options: SessionOptions,
    overlay: Mutex<Overlay>,
    /// Sessions whose transcript is open here (maintenance keeps them).
    pub open: Mutex<HashSet<String>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Maps a store error to the agent's: an unreachable database refuses the turn clearly.
pub(crate) fn agent_error(error: StateError) -> AgentError {
    match error {
        StateError::Unavailable { .. } => AgentError::StoreUnavailable(error.to_string()),
        other => AgentError::Io {
            path: PathBuf::from("postgres"),
            source: std::io::Error::other(other.to_string()),
        },
    }
}

/// One agent's sessions on the shared database.
#[derive(Debug)]
pub struct PgSessions {
    shared: Arc<Shared>,
    sender: mpsc::UnboundedSender<Msg>,
}

impl PgSessions {
    /// Starts the writer task (on the state's task runtime).
    pub fn new(state: Arc<PgState>, agent: &str, options: SessionOptions) -> Self {
        let shared = Arc::new(Shared {
            state,
            agent: agent.to_string(),
            options,
            overlay: Mutex::new(Overlay::default()),
            open: Mutex::new(HashSet::new()),
        });
        let (sender, receiver) = mpsc::unbounded_channel();
        shared.state.spawn(writer_loop(shared.clone(), receiver));
        PgSessions { shared, sender }
    }

    fn queue(
        &self,
        key: &str,
        change: Change,
        wait: bool,
    ) -> Option<oneshot::Receiver<Result<(), String>>> {
        let generation = {
            let mut overlay = lock(&self.shared.overlay);
            overlay.generation += 1;
            let generation = overlay.generation;
            overlay.queued.insert(key.to_string(), (generation, change));
            generation
        };
        let (done, receiver) = if wait {
            let (tx, rx) = oneshot::channel();
            (Some(tx), Some(rx))
        } else {
            (None, None)
        };
        let _ = self.sender.send(Msg::Write {
            key: key.to_string(),
            generation,
            done,
        });
        receiver
    }

    async fn write_now(&self, key: &str, change: Change) -> Result<(), AgentError> {
        let receiver = self.queue(key, change, true);
        let stopped = || AgentError::StoreUnavailable("the session writer has stopped".into());
        match receiver {
            Some(rx) => rx
                .await
                .map_err(|_| stopped())?
                .map_err(AgentError::StoreUnavailable),
            None => Err(stopped()),
        }
    }

    async fn read_rows(
        &self,
        key: Option<&str>,
    ) -> Result<BTreeMap<String, SessionEntry>, AgentError> {
        let shared = &self.shared;
        let client = shared.state.client().await.map_err(agent_error)?;
        let rows = match key {
            Some(key) => client
                .query(
                    "SELECT session_key, entry FROM sessions WHERE agent_id = $1 AND session_key = $2",
                    &[&shared.agent, &key],
                )
                .await,
            None => client
                .query(
                    "SELECT session_key, entry FROM sessions WHERE agent_id = $1",
                    &[&shared.agent],
                )
                .await,
        }
        .map_err(|e| agent_error(shared.state.query_error(e)))?;
        let mut map = BTreeMap::new();
        for row in rows {
            let key: String = row.get(0);
            let Json(entry): Json<SessionEntry> =
                row.try_get(1).map_err(|e| AgentError::Corrupt {
                    path: PathBuf::from(format!("postgres:sessions/{key}")),
                    message: e.to_string(),
                })?;
            map.insert(key, entry);
        }
        // Changes queued here and not yet committed are newer than what the database holds.
        let overlay = lock(&shared.overlay);
        for (queued_key, (_, change)) in &overlay.queued {
            if key.is_some_and(|k| k != queued_key) {
                continue;
            }
            match change {
                Some(entry) => map.insert(queued_key.clone(), entry.clone()),
                None => map.remove(queued_key),
            };
        }
        Ok(map)
    }
}

#[async_trait]
impl SessionBackend for PgSessions {
    async fn get(&self, key: &str) -> Result<Option<SessionEntry>, AgentError> {
        Ok(self.read_rows(Some(key)).await?.remove(key))
    }

    async fn upsert(&self, key: &str, entry: SessionEntry) -> Result<(), AgentError> {
        self.write_now(key, Some(entry)).await
    }

    /// Insert-if-absent, then read: of two replicas creating one session, both get the row
    /// committed first (the read is a second statement so it sees the other's commit).
    async fn create(&self, key: &str, entry: SessionEntry) -> Result<SessionEntry, AgentError> {
        if let Some((_, Some(queued))) = lock(&self.shared.overlay).queued.get(key) {
            return Ok(queued.clone());
        }
        let shared = &self.shared;
        let client = shared.state.client().await.map_err(agent_error)?;
        let fail = |e| agent_error(shared.state.query_error(e));
        let created = client
            .execute(
                "INSERT INTO sessions (agent_id, session_key, entry) VALUES ($1, $2, $3) \
                 ON CONFLICT (agent_id, session_key) DO NOTHING",
                &[&shared.agent, &key, &Json(&entry)],
            )
            .await
            .map_err(fail)?;
        if created == 1 {
            return Ok(entry);
        }
        let row = client
            .query_one(
                "SELECT entry FROM sessions WHERE agent_id = $1 AND session_key = $2",
                &[&shared.agent, &key],
            )
            .await
            .map_err(fail)?;
        let Json(entry): Json<SessionEntry> = row.try_get(0).map_err(|e| AgentError::Corrupt {
            path: PathBuf::from(format!("postgres:sessions/{key}")),
            message: e.to_string(),
        })?;
        Ok(entry)
    }

    fn touch(&self, key: &str, entry: SessionEntry) {
        self.queue(key, Some(entry), false);
    }

    async fn list(&self) -> Result<Vec<(String, SessionEntry)>, AgentError> {
        Ok(self.read_rows(None).await?.into_iter().collect())
    }

    async fn remove(&self, key: &str) -> Result<Option<SessionEntry>, AgentError> {
        let existing = self.get(key).await?;
        if existing.is_some() {
            self.write_now(key, None).await?;
        }
        Ok(existing)
    }

    async fn open_transcript(
        &self,
        key: &str,
        entry: &SessionEntry,
        header: SessionHeader,
    ) -> Result<(Box<dyn TranscriptHandle>, LoadedTranscript), AgentError> {
        let shared = &self.shared;
        let lease = Lease {
            agent: shared.agent.clone(),
            key: key.to_string(),
            holder: format!(
                "{}/{}",
                shared.state.replica(),
                uuid::Uuid::new_v4().simple()
            ),
        };
        let span = shared.options.lease;
        let deadline = tokio::time::Instant::now() + shared.options.lock_wait;
        loop {
            match lease::try_acquire(&shared.state, &lease, span)
                .await
                .map_err(agent_error)?
            {
                None => break,
                Some(holder) if tokio::time::Instant::now() >= deadline => {
                    return Err(AgentError::SessionBusy {
                        key: key.to_string(),
                        holder,
                        waited_secs: shared.options.lock_wait.as_secs(),
                    });
                }
                Some(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
        let opened = PgTranscript::open(
            shared.clone(),
            lease.clone(),
            span,
            &entry.session_id,
            header,
        )
        .await;
        match opened {
            Ok((handle, loaded)) => {
                lock(&shared.open).insert(key.to_string());
                Ok((Box::new(handle) as Box<dyn TranscriptHandle>, loaded))
            }
            Err(error) => {
                lease::release(shared.state.clone(), lease);
                Err(error)
            }
        }
    }

    fn maintain(&self, now_ms: u64) {
        let due = {
            let mut overlay = lock(&self.shared.overlay);
            let due = overlay
                .last_maintenance_ms
                .is_none_or(|last| now_ms.saturating_sub(last) >= MAINTENANCE_PERIOD_MS);
            if due {
                overlay.last_maintenance_ms = Some(now_ms);
            }
            due
        };
        if due {
            let _ = self.sender.send(Msg::Maintain(now_ms));
        }
    }

    async fn flush(&self) -> Result<(), AgentError> {
        let (tx, rx) = oneshot::channel();
        self.sender
            .send(Msg::Flush(tx))
            .map_err(|_| AgentError::StoreUnavailable("the session writer has stopped".into()))?;
        rx.await
            .map_err(|_| AgentError::StoreUnavailable("the session writer has stopped".into()))?
            .map_err(AgentError::StoreUnavailable)
    }
}

/// Commits queued row changes in batches; keeps what failed queued and retries it.
async fn writer_loop(shared: Arc<Shared>, mut receiver: mpsc::UnboundedReceiver<Msg>) {
    let mut retry: HashSet<String> = HashSet::new();
    loop {
        let first = if retry.is_empty() {
            receiver.recv().await
        } else {
            match tokio::time::timeout(RETRY_PERIOD, receiver.recv()).await {
                Ok(msg) => msg,
                Err(_) => Some(Msg::Flush(oneshot::channel().0)),
            }
        };
        let Some(first) = first else { return };
        let mut batch = vec![first];
        while let Ok(more) = receiver.try_recv() {
            batch.push(more);
        }
        let mut keys: HashSet<String> = std::mem::take(&mut retry);
        let mut waiters = Vec::new();
        let mut waited = Vec::new();
        let mut flushes = Vec::new();
        let mut maintain = None;
        for msg in batch {
            match msg {
                Msg::Write {
                    key,
                    generation,
                    done,
                } => {
                    if done.is_some() {
                        waited.push((key.clone(), generation));
                    }
                    keys.insert(key);
                    waiters.extend(done);
                }
                Msg::Maintain(now) => maintain = Some(now),
                Msg::Flush(done) => flushes.push(done),
            }
        }
        let result = commit(&shared, &keys).await;
        if let Err(e) = &result {
            tracing::warn!("session index not written: {e}");
            // A caller that waited hears the failure and is not retried behind its back;
            // touches stay queued and are retried.
            let mut overlay = lock(&shared.overlay);
            for (key, generation) in waited {
                if overlay
                    .queued
                    .get(&key)
                    .is_some_and(|(g, _)| *g == generation)
                {
                    overlay.queued.remove(&key);
                    keys.remove(&key);
                }
            }
            retry = keys;
        }
        for waiter in waiters {
            let _ = waiter.send(result.clone());
        }
        if let Some(now) = maintain
            && let Err(e) = run_maintenance(&shared, now).await
        {
            tracing::warn!("session maintenance failed: {e}");
        }
        for waiter in flushes {
            let _ = waiter.send(result.clone());
        }
    }
}

/// Commits the newest queued change of each key in one transaction, then drops the changes
/// that were not replaced meanwhile from the overlay.
async fn commit(shared: &Shared, keys: &HashSet<String>) -> Result<(), String> {
    let changes: Vec<(String, u64, Change)> = {
        let overlay = lock(&shared.overlay);
        keys.iter()
            .filter_map(|k| {
                overlay
                    .queued
                    .get(k)
                    .map(|(g, c)| (k.clone(), *g, c.clone()))
            })
            .collect()
    };
    if changes.is_empty() {
        return Ok(());
    }
    let state = &shared.state;
    let mut client = state.client().await.map_err(|e| e.to_string())?;
    let fail = |e: tokio_postgres::Error| state.query_error(e).to_string();
    let tx = client.transaction().await.map_err(fail)?;
    for (key, _, change) in &changes {
        match change {
            Some(entry) => tx
                .execute(
                    "INSERT INTO sessions (agent_id, session_key, entry, updated_at) \
                     VALUES ($1, $2, $3, now()) ON CONFLICT (agent_id, session_key) \
                     DO UPDATE SET entry = EXCLUDED.entry, updated_at = now()",
                    &[&shared.agent, key, &Json(entry)],
                )
                .await
                .map_err(fail)?,
            None => tx
                .execute(
                    "DELETE FROM sessions WHERE agent_id = $1 AND session_key = $2",
                    &[&shared.agent, key],
                )
                .await
                .map_err(fail)?,
        };
    }
    tx.commit().await.map_err(fail)?;
    let mut overlay = lock(&shared.overlay);
    for (key, generation, _) in changes {
        if overlay
            .queued
            .get(&key)
            .is_some_and(|(g, _)| *g == generation)
        {
            overlay.queued.remove(&key);
        }
    }
    Ok(())
}

/// One maintenance pass (see [`maintenance_victims`]): `warn` logs, `enforce` deletes the rows
/// and their transcripts. Sessions open here, leased anywhere, or protected are kept.
async fn run_maintenance(shared: &Shared, now_ms: u64) -> Result<(), String> {
    let policy = &shared.options.maintenance;
    let state = &shared.state;
    let client = state.client().await.map_err(|e| e.to_string())?;
    let fail = |e: tokio_postgres::Error| state.query_error(e).to_string();
    let rows = client
        .query(
            "SELECT session_key, entry FROM sessions WHERE agent_id = $1",
            &[&shared.agent],
        )
        .await
        .map_err(fail)?;
    let map: BTreeMap<String, SessionEntry> = rows
        .iter()
        .filter_map(|row| {
            let Json(entry): Json<SessionEntry> = row.try_get(1).ok()?;
            Some((row.get::<_, String>(0), entry))
        })
        .collect();
    let leased: HashSet<String> = client
        .query(
            "SELECT session_key FROM session_leases WHERE agent_id = $1 AND expires_at > now()",
            &[&shared.agent],
        )
        .await
        .map_err(fail)?
        .iter()
        .map(|row| row.get(0))
        .collect();
    let open = lock(&shared.open).clone();
    let protected = |key: &str| {
        open.contains(key)
            || leased.contains(key)
            || shared.options.protected.iter().any(|p| p == key)
    };
    let victims = maintenance_victims(&map, policy, now_ms, &protected);
    if victims.is_empty() {
        return Ok(());
    }
    if policy.mode == MaintenanceMode::Warn {
        tracing::warn!(
            sessions = victims.len(),
            "session maintenance (mode warn) would remove {} session(s); set mode \"enforce\" \
             to remove them",
            victims.len()
        );
        return Ok(());
    }
    for key in &victims {
        let Some(entry) = map.get(key) else { continue };
        client
            .execute(
                "DELETE FROM sessions WHERE agent_id = $1 AND session_key = $2",
                &[&shared.agent, key],
            )
            .await
            .map_err(fail)?;
        client
            .execute(
                "DELETE FROM transcript_lines WHERE agent_id = $1 AND session_id = $2",
                &[&shared.agent, &entry.session_id],
            )
            .await
            .map_err(fail)?;
    }
    tracing::info!(
        sessions = victims.len(),
        "session maintenance removed {} session(s)",
        victims.len()
    );
    Ok(())
}
