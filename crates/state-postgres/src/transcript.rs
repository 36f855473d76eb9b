//! [`PgTranscript`]: an open transcript on the shared database, holding its session's lease.
//! Each line is one `transcript_lines` row numbered `seq` (1 is the header), committed before
//! `append` returns; loading concatenates the rows and parses them with the agent's own
//! transcript parser, so both backends read a transcript the same way.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use clawgate_agent::AgentError;
use clawgate_agent::session::{
    LoadedTranscript, SessionHeader, TranscriptEntry, TranscriptHandle, parse_transcript,
};

use crate::lease::{self, Lease};
use crate::sessions::{Shared, agent_error};

#[derive(Debug)]
pub(crate) struct PgTranscript {
    shared: Arc<Shared>,
    lease: Lease,
    session_id: String,
    next_seq: i64,
    lost: Arc<AtomicBool>,
    renewal: tokio::task::JoinHandle<()>,
}

impl PgTranscript {
    /// Loads the transcript (writing `header` as line 1 when it has none) under `lease`,
    /// which the caller holds, and starts renewing the lease.
    pub(crate) async fn open(
        shared: Arc<Shared>,
        lease: Lease,
        span: Duration,
        session_id: &str,
        header: SessionHeader,
    ) -> Result<(Self, LoadedTranscript), AgentError> {
        let state = &shared.state;
        let client = state.client().await.map_err(agent_error)?;
        let rows = client
            .query(
                "SELECT seq, line FROM transcript_lines \
                 WHERE agent_id = $1 AND session_id = $2 ORDER BY seq",
                &[&shared.agent, &session_id],
            )
            .await
            .map_err(|e| agent_error(state.query_error(e)))?;
        drop(client);
        let mut bytes = Vec::new();
        let mut last_seq = 0i64;
        for row in &rows {
            last_seq = row.get(0);
            bytes.extend_from_slice(row.get::<_, &str>(1).as_bytes());
            bytes.push(b'\n');
        }
        let name = format!("postgres:{}/{session_id}", shared.agent);
        let loaded = parse_transcript(&bytes, Path::new(&name));
        let lost = Arc::new(AtomicBool::new(false));
        let renewal = lease::spawn_renewal(state.clone(), lease.clone(), span, lost.clone());
        let mut transcript = PgTranscript {
            shared: shared.clone(),
            lease,
            session_id: session_id.to_string(),
            next_seq: last_seq + 1,
            lost,
            renewal,
        };
        if rows.is_empty() {
            let line = serde_json::to_string(&header).map_err(|e| AgentError::Corrupt {
                path: name.clone().into(),
                message: e.to_string(),
            })?;
            transcript.insert(&line).await?;
        }
        Ok((transcript, loaded))
    }

    /// Inserts the next line while the lease is ours; committed when this returns.
    async fn insert(&mut self, line: &str) -> Result<(), AgentError> {
        let shared = &self.shared;
        let state = &shared.state;
        if self.lost.load(Ordering::SeqCst) {
            return Err(self.lost_error());
        }
        let client = state.client().await.map_err(agent_error)?;
        let inserted = client
            .execute(
                "INSERT INTO transcript_lines (agent_id, session_id, seq, line) \
                 SELECT $1, $2, $3, $4 WHERE EXISTS ( \
                   SELECT 1 FROM session_leases \
                   WHERE agent_id = $1 AND session_key = $5 AND holder = $6)",
                &[
                    &shared.agent,
                    &self.session_id,
                    &self.next_seq,
                    &line,
                    &self.lease.key,
                    &self.lease.holder,
                ],
            )
            .await;
        match inserted {
            Ok(1) => {
                self.next_seq += 1;
                Ok(())
            }
            Ok(_) => {
                self.lost.store(true, Ordering::SeqCst);
                Err(self.lost_error())
            }
            Err(e) if e.code() == Some(&tokio_postgres::error::SqlState::UNIQUE_VIOLATION) => {
                self.lost.store(true, Ordering::SeqCst);
                Err(self.lost_error())
            }
            Err(e) => Err(agent_error(state.query_error(e))),
        }
    }

    fn lost_error(&self) -> AgentError {
        AgentError::SessionBusy {
            key: self.lease.key.clone(),
            holder: "another replica took the lease after it expired here".into(),
            waited_secs: 0,
        }
    }
}

#[async_trait]
impl TranscriptHandle for PgTranscript {
    async fn append(&mut self, entry: &TranscriptEntry) -> Result<(), AgentError> {
        let line = entry.to_json().to_string();
        self.insert(&line).await
    }

    /// Every append is already a committed row (durable as the server's `synchronous_commit`).
    async fn sync(&mut self) -> Result<(), AgentError> {
        Ok(())
    }

    fn name(&self) -> String {
        format!("postgres:{}/{}", self.shared.agent, self.session_id)
    }
}

impl Drop for PgTranscript {
    fn drop(&mut self) {
        self.renewal.abort();
        self.shared
            .open
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&self.lease.key);
        lease::release(self.shared.state.clone(), self.lease.clone());
    }
}
