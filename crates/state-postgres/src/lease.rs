//! A session's turn lock across replicas: a `session_leases` row naming its holder and an
//! expiry. Taken when the row is absent or expired, renewed by a task while the transcript is
//! open, deleted when it closes. A replica that dies stops renewing, so the session is free
//! again one lease after its last renewal. Appends are fenced twice: they insert only while
//! the row still names their holder, and the transcript's `(session, seq)` key refuses a second
//! writer's line with the same number.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::state::{PgState, StateError};

/// One held lease.
#[derive(Debug, Clone)]
pub(crate) struct Lease {
    pub agent: String,
    pub key: String,
    pub holder: String,
}

/// Takes the lease of `key` if it is free or expired; `Ok(None)` names no one when another
/// holder still has it (the caller waits and tries again).
pub(crate) async fn try_acquire(
    state: &PgState,
    lease: &Lease,
    span: Duration,
) -> Result<Option<String>, StateError> {
    let client = state.client().await?;
    let rows = client
        .query(
            "INSERT INTO session_leases (agent_id, session_key, holder, expires_at) \
             VALUES ($1, $2, $3, now() + make_interval(secs => $4)) \
             ON CONFLICT (agent_id, session_key) DO UPDATE \
               SET holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at \
               WHERE session_leases.expires_at < now() \
             RETURNING holder",
            &[&lease.agent, &lease.key, &lease.holder, &span.as_secs_f64()],
        )
        .await
        .map_err(|e| state.query_error(e))?;
    if !rows.is_empty() {
        return Ok(None);
    }
    let holder = client
        .query_opt(
            "SELECT holder FROM session_leases WHERE agent_id = $1 AND session_key = $2",
            &[&lease.agent, &lease.key],
        )
        .await
        .map_err(|e| state.query_error(e))?
        .map(|row| row.get::<_, String>(0))
        .unwrap_or_default();
    Ok(Some(holder))
}

/// Renews the lease every third of its span until dropped; sets `lost` when another holder
/// took it (after an outage longer than the lease).
pub(crate) fn spawn_renewal(
    state: Arc<PgState>,
    lease: Lease,
    span: Duration,
    lost: Arc<AtomicBool>,
) -> tokio::task::JoinHandle<()> {
    let tasks = state.clone();
    tasks.spawn(async move {
        loop {
            tokio::time::sleep(span / 3).await;
            let Ok(client) = state.client().await else {
                continue;
            };
            let renewed = client
                .execute(
                    "UPDATE session_leases SET expires_at = now() + make_interval(secs => $4) \
                     WHERE agent_id = $1 AND session_key = $2 AND holder = $3",
                    &[&lease.agent, &lease.key, &lease.holder, &span.as_secs_f64()],
                )
                .await;
            match renewed {
                Ok(0) => {
                    tracing::warn!(session = %lease.key, "session lease lost to another replica");
                    lost.store(true, Ordering::SeqCst);
                    return;
                }
                Ok(_) => {}
                Err(e) => {
                    state.query_error(e);
                }
            }
        }
    })
}

/// Deletes the lease row if it is still ours (on a task: called from `Drop`).
pub(crate) fn release(state: Arc<PgState>, lease: Lease) {
    let tasks = state.clone();
    tasks.spawn(async move {
        let Ok(client) = state.client().await else {
            return;
        };
        let _ = client
            .execute(
                "DELETE FROM session_leases \
                 WHERE agent_id = $1 AND session_key = $2 AND holder = $3",
                &[&lease.agent, &lease.key, &lease.holder],
            )
            .await;
    });
}
