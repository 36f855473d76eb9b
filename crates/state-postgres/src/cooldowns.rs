//! Cooldowns shared through the database while the router's hot path stays in memory. Each
//! replica's [`CooldownStore`] hands its changes to [`PgCooldowns`] (a [`CooldownSink`] that
//! only queues); a writer task upserts them into `cooldowns` (the newer `updatedAt` wins) and
//! announces each with `NOTIFY clawgate_cooldowns` in the same transaction. A listener task on
//! its own connection applies other replicas' announcements to the local store, and re-reads
//! the whole table whenever it (re)connects, so an outage loses no recovery or failure that
//! was committed. Skipping a cooled-down provider reads only the local store.

use std::collections::BTreeMap;
use std::sync::{Arc, Weak};
use std::time::Duration;

use clawgate_router::{CooldownEntry, CooldownSink, CooldownStore};
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
use tokio_postgres::AsyncMessage;
use tokio_postgres::types::Json;

use crate::state::PgState;

/// The notification channel.
const CHANNEL: &str = "clawgate_cooldowns";
/// How long the writer and the listener wait before trying a lost database again.
const RETRY_PERIOD: Duration = Duration::from_secs(1);

/// What one notification carries.
#[derive(Debug, Serialize, Deserialize)]
struct Announcement {
    origin: String,
    name: String,
    entry: CooldownEntry,
}

/// The sink half: queues changes for the writer task.
#[derive(Debug)]
pub struct PgCooldowns {
    sender: mpsc::UnboundedSender<Vec<(String, CooldownEntry)>>,
}

impl CooldownSink for PgCooldowns {
    fn changed(&self, entries: Vec<(String, CooldownEntry)>) {
        let _ = self.sender.send(entries);
    }
}

impl PgCooldowns {
    /// Connects `store` to the database: its changes are written there, other replicas'
    /// changes are applied to it. Starts two tasks (on the state's task runtime); they end
    /// when the store is dropped.
    pub fn attach(state: Arc<PgState>, store: &Arc<CooldownStore>) {
        let (sender, receiver) = mpsc::unbounded_channel();
        store.set_sink(Arc::new(PgCooldowns { sender }));
        state.spawn(writer_loop(state.clone(), receiver));
        state.spawn(listener_loop(Arc::downgrade(&state), Arc::downgrade(store)));
    }
}

async fn writer_loop(
    state: Arc<PgState>,
    mut receiver: mpsc::UnboundedReceiver<Vec<(String, CooldownEntry)>>,
) {
    let mut pending: BTreeMap<String, CooldownEntry> = BTreeMap::new();
    loop {
        let received = if pending.is_empty() {
            receiver.recv().await
        } else {
            match tokio::time::timeout(RETRY_PERIOD, receiver.recv()).await {
                Ok(received) => received,
                Err(_) => Some(Vec::new()),
            }
        };
        let Some(first) = received else { return };
        for batch in std::iter::once(first).chain(std::iter::from_fn(|| receiver.try_recv().ok())) {
            for (name, entry) in batch {
                let newer = pending
                    .get(&name)
                    .is_none_or(|queued| entry.updated_at >= queued.updated_at);
                if newer {
                    pending.insert(name, entry);
                }
            }
        }
        match write(&state, &pending).await {
            Ok(()) => pending.clear(),
            Err(e) => tracing::warn!("cooldowns not written to PostgreSQL yet (retrying): {e}"),
        }
    }
}

/// Upserts `entries` (an older entry never replaces a newer one) and announces them.
async fn write(state: &PgState, entries: &BTreeMap<String, CooldownEntry>) -> Result<(), String> {
    if entries.is_empty() {
        return Ok(());
    }
    let mut client = state.client().await.map_err(|e| e.to_string())?;
    let fail = |e: tokio_postgres::Error| state.query_error(e).to_string();
    let tx = client.transaction().await.map_err(fail)?;
    for (name, entry) in entries {
        let updated_at = i64::try_from(entry.updated_at).unwrap_or(i64::MAX);
        tx.execute(
            "INSERT INTO cooldowns (name, entry, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO UPDATE SET entry = EXCLUDED.entry, updated_at = EXCLUDED.updated_at \
             WHERE cooldowns.updated_at <= EXCLUDED.updated_at",
            &[name, &Json(entry), &updated_at],
        )
        .await
        .map_err(fail)?;
        let payload = serde_json::to_string(&Announcement {
            origin: state.replica().to_string(),
            name: name.clone(),
            entry: entry.clone(),
        })
        .map_err(|e| e.to_string())?;
        tx.execute("SELECT pg_notify($1, $2)", &[&CHANNEL, &payload])
            .await
            .map_err(fail)?;
    }
    tx.commit().await.map_err(fail)
}

/// Every committed entry, for a (re)connecting listener and `state migrate-from-files`.
pub async fn read_all(state: &PgState) -> Result<BTreeMap<String, CooldownEntry>, String> {
    let client = state.client().await.map_err(|e| e.to_string())?;
    let rows = client
        .query("SELECT name, entry FROM cooldowns", &[])
        .await
        .map_err(|e| state.query_error(e).to_string())?;
    Ok(rows
        .iter()
        .filter_map(|row| {
            let Json(entry): Json<CooldownEntry> = row.try_get(1).ok()?;
            Some((row.get::<_, String>(0), entry))
        })
        .collect())
}

async fn listener_loop(state: Weak<PgState>, store: Weak<CooldownStore>) {
    loop {
        {
            let (Some(state), Some(_)) = (state.upgrade(), store.upgrade()) else {
                return;
            };
            if let Err(e) = listen(&state, &store).await {
                tracing::debug!("cooldown listener: {e}");
            }
        }
        tokio::time::sleep(RETRY_PERIOD).await;
    }
}

/// One connection's life: `LISTEN`, catch up with the table, then apply announcements until
/// the connection ends.
async fn listen(state: &PgState, store: &Weak<CooldownStore>) -> Result<(), String> {
    let (client, mut connection) = state.connect_dedicated().await.map_err(|e| e.to_string())?;
    let (sender, mut notes) = mpsc::unbounded_channel();
    let driver = tokio::spawn(async move {
        while let Some(message) = std::future::poll_fn(|cx| connection.poll_message(cx)).await {
            match message {
                Ok(AsyncMessage::Notification(note)) => {
                    if sender.send(note.payload().to_string()).is_err() {
                        return;
                    }
                }
                Ok(_) => {}
                Err(_) => return,
            }
        }
    });
    let result = async {
        // The schema exists before LISTEN matters; the pooled client runs the migrations.
        drop(state.client().await.map_err(|e| e.to_string())?);
        client
            .batch_execute(&format!("LISTEN {CHANNEL}"))
            .await
            .map_err(|e| e.to_string())?;
        let all = read_all(state).await?;
        match store.upgrade() {
            Some(store) => store.apply_remote(&all),
            None => return Ok(()),
        }
        while let Some(payload) = notes.recv().await {
            let Ok(note) = serde_json::from_str::<Announcement>(&payload) else {
                continue;
            };
            if note.origin == state.replica() {
                continue;
            }
            let Some(store) = store.upgrade() else {
                return Ok(());
            };
            store.apply_remote(&BTreeMap::from([(note.name, note.entry)]));
        }
        Err("the listen connection ended".to_string())
    }
    .await;
    driver.abort();
    result
}
