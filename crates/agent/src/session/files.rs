//! [`FileSessions`]: the session backend over the state dir. The index lives in memory (loaded
//! once, then kept current with other processes by reading only the journal's new lines) and
//! one writer thread persists it: `touch`es are coalesced per key and appended to the journal
//! in batches, `upsert`s wait for their batch to be on disk, and the journal is folded into
//! `sessions.json` when it has grown as long as the map (see [`SessionStore`]). Transcript
//! opens, appends and fsyncs run on tokio's blocking pool. Nothing here blocks an async worker.
//!
//! The writer is a thread rather than a tokio task so the backend works whatever runtime (or
//! none) built it; it folds the journal and exits when the backend is dropped.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;
use tokio::sync::oneshot;

use crate::error::AgentError;
use crate::session::backend::{SessionBackend, TranscriptHandle};
use crate::session::policy::{MaintenanceMode, MaintenancePolicy, maintenance_victims};
use crate::session::store::{COMPACT_MIN_LINES, JournalOp, SessionStore, SnapshotId, apply};
use crate::session::{
    LoadedTranscript, SessionEntry, SessionHeader, TranscriptEntry, TranscriptWriter,
    entry_transcript_path, load_transcript,
};

/// A maintenance pass runs at most this often unless the index passes its high-water mark.
const MAINTENANCE_PERIOD_MS: u64 = 60 * 60 * 1000;

#[derive(Debug, Default)]
struct IndexState {
    loaded: bool,
    map: BTreeMap<String, SessionEntry>,
    snapshot: Option<SnapshotId>,
    offset: u64,
    journal_lines: u64,
    /// Keys changed here and not yet in the journal, with the change's generation: lines from
    /// other processes never overwrite them.
    dirty: HashMap<String, u64>,
    generation: u64,
    last_maintenance_ms: Option<u64>,
}

#[derive(Debug)]
struct Shared {
    store: SessionStore,
    state: Mutex<IndexState>,
    /// Sessions whose transcript is open in this process (never pruned).
    open: Mutex<HashSet<String>>,
    /// Rows maintenance must keep (the agent's main session).
    protected: Vec<String>,
    maintenance: MaintenancePolicy,
    pending_maintenance: AtomicU64,
}

enum Msg {
    Write {
        key: String,
        entry: Option<Box<SessionEntry>>,
        generation: u64,
        done: Option<oneshot::Sender<Result<(), String>>>,
    },
    Maintain(u64),
    Flush(oneshot::Sender<Result<(), String>>),
}

/// Sessions of one agent as files under the state dir.
#[derive(Debug)]
pub struct FileSessions {
    shared: Arc<Shared>,
    sender: Mutex<Option<mpsc::Sender<Msg>>>,
    writer: Mutex<Option<std::thread::JoinHandle<()>>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    match m.lock() {
        Ok(g) => g,
        Err(poisoned) => poisoned.into_inner(),
    }
}

fn blocking_failed(e: tokio::task::JoinError) -> AgentError {
    AgentError::io(
        PathBuf::from("sessions"),
        std::io::Error::other(e.to_string()),
    )
}

fn writer_failed(message: String) -> AgentError {
    AgentError::io(PathBuf::from("sessions"), std::io::Error::other(message))
}

impl FileSessions {
    /// `protected` are keys maintenance never removes (the agent's main session).
    pub fn new(
        store: SessionStore,
        maintenance: MaintenancePolicy,
        protected: Vec<String>,
    ) -> Self {
        let shared = Arc::new(Shared {
            store,
            state: Mutex::new(IndexState::default()),
            open: Mutex::new(HashSet::new()),
            protected,
            maintenance,
            pending_maintenance: AtomicU64::new(0),
        });
        let (sender, receiver) = mpsc::channel();
        let worker = shared.clone();
        let writer = std::thread::Builder::new()
            .name("clawgate-sessions".into())
            .spawn(move || writer_loop(&worker, &receiver))
            .ok();
        FileSessions {
            shared,
            sender: Mutex::new(Some(sender)),
            writer: Mutex::new(writer),
        }
    }

    pub fn store(&self) -> &SessionStore {
        &self.shared.store
    }

    fn send(&self, msg: Msg) -> Result<(), AgentError> {
        match lock(&self.sender).as_ref() {
            Some(sender) => sender
                .send(msg)
                .map_err(|_| writer_failed("the session writer has stopped".into())),
            None => Err(writer_failed("the session writer has stopped".into())),
        }
    }

    /// Sets the row in memory and hands it to the writer; `wait` makes it durable first.
    async fn write(
        &self,
        key: &str,
        entry: Option<SessionEntry>,
        wait: bool,
    ) -> Result<(), AgentError> {
        self.ensure_loaded().await?;
        let generation = {
            let mut state = lock(&self.shared.state);
            state.generation += 1;
            let generation = state.generation;
            match &entry {
                Some(e) => {
                    state.map.insert(key.to_string(), e.clone());
                }
                None => {
                    state.map.remove(key);
                }
            }
            state.dirty.insert(key.to_string(), generation);
            generation
        };
        let (done, receiver) = if wait {
            let (tx, rx) = oneshot::channel();
            (Some(tx), Some(rx))
        } else {
            (None, None)
        };
        self.send(Msg::Write {
            key: key.to_string(),
            entry: entry.map(Box::new),
            generation,
            done,
        })?;
        if let Some(receiver) = receiver {
            receiver
                .await
                .map_err(|_| writer_failed("the session writer has stopped".into()))?
                .map_err(writer_failed)?;
        }
        Ok(())
    }

    /// Loads the index on first use and catches up with other processes' changes.
    async fn ensure_loaded(&self) -> Result<(), AgentError> {
        let shared = self.shared.clone();
        tokio::task::spawn_blocking(move || refresh(&shared))
            .await
            .map_err(blocking_failed)?
    }
}

/// Brings the in-memory index up to date with the files (a first load, a new snapshot written
/// by another process, or journal lines appended since the last look).
fn refresh(shared: &Shared) -> Result<(), AgentError> {
    let store = &shared.store;
    let mut state = lock(&shared.state);
    let snapshot = store.snapshot_id();
    if !state.loaded || snapshot != state.snapshot {
        let disk = store.read_all()?;
        let mine: Vec<(String, Option<SessionEntry>)> = state
            .dirty
            .keys()
            .map(|k| (k.clone(), state.map.get(k).cloned()))
            .collect();
        state.map = disk.map;
        for (key, entry) in mine {
            apply(&mut state.map, JournalOp { key, entry });
        }
        state.snapshot = disk.snapshot;
        state.offset = disk.offset;
        state.journal_lines = disk.journal_lines;
        state.loaded = true;
        return Ok(());
    }
    let (ops, offset) = store.read_journal_from(state.offset)?;
    state.journal_lines += ops.len() as u64;
    state.offset = offset;
    for op in ops {
        if !state.dirty.contains_key(&op.key) {
            apply(&mut state.map, op);
        }
    }
    Ok(())
}

fn writer_loop(shared: &Shared, receiver: &mpsc::Receiver<Msg>) {
    while let Ok(first) = receiver.recv() {
        let mut batch = vec![first];
        while let Ok(more) = receiver.try_recv() {
            batch.push(more);
        }
        let mut ops: Vec<(JournalOp, u64)> = Vec::new();
        let mut waiters = Vec::new();
        let mut flushes = Vec::new();
        let mut maintain = None;
        for msg in batch {
            match msg {
                Msg::Write {
                    key,
                    entry,
                    generation,
                    done,
                } => {
                    // Coalesce: only the newest change of a key is written.
                    ops.retain(|(op, _)| op.key != key);
                    let entry = entry.map(|e| *e);
                    ops.push((JournalOp { key, entry }, generation));
                    waiters.extend(done);
                }
                Msg::Maintain(now) => maintain = Some(now),
                Msg::Flush(done) => flushes.push(done),
            }
        }
        let result = persist(shared, ops).map_err(|e| e.to_string());
        if let Err(e) = &result {
            tracing::error!("session index not written: {e}");
        }
        for waiter in waiters {
            let _ = waiter.send(result.clone());
        }
        if let Some(now) = maintain
            && let Err(e) = run_maintenance(shared, now)
        {
            tracing::error!("session maintenance failed: {e}");
        }
        // A flush also waits for the maintenance queued before it.
        for waiter in flushes {
            let _ = waiter.send(result.clone());
        }
    }
    // The backend was dropped: leave a complete `sessions.json` behind.
    if let Err(e) = fold(shared) {
        tracing::error!("session index not folded on shutdown: {e}");
    }
}

/// Appends `ops` to the journal under the index lock, then folds the journal when due.
fn persist(shared: &Shared, ops: Vec<(JournalOp, u64)>) -> Result<(), AgentError> {
    if ops.is_empty() {
        return Ok(());
    }
    let store = &shared.store;
    let _guard = store.lock_exclusive()?;
    refresh(shared)?;
    let lines: Vec<JournalOp> = ops.iter().map(|(op, _)| op.clone()).collect();
    let len = store.append_journal(&lines)?;
    let mut state = lock(&shared.state);
    state.offset = len;
    state.journal_lines += lines.len() as u64;
    for (op, generation) in &ops {
        if state.dirty.get(&op.key) == Some(generation) {
            state.dirty.remove(&op.key);
        }
    }
    let due = state.snapshot.is_none()
        || state.journal_lines >= COMPACT_MIN_LINES.max(state.map.len() as u64);
    if due {
        let id = store.write_snapshot(&state.map)?;
        state.snapshot = id;
        state.offset = 0;
        state.journal_lines = 0;
    }
    Ok(())
}

/// Writes the whole map as `sessions.json` if the journal holds anything.
fn fold(shared: &Shared) -> Result<(), AgentError> {
    let store = &shared.store;
    if !lock(&shared.state).loaded {
        return Ok(());
    }
    let _guard = store.lock_exclusive()?;
    refresh(shared)?;
    let mut state = lock(&shared.state);
    if state.journal_lines == 0 && state.snapshot.is_some() {
        return Ok(());
    }
    state.snapshot = store.write_snapshot(&state.map)?;
    state.offset = 0;
    state.journal_lines = 0;
    Ok(())
}

/// One maintenance pass (see [`maintenance_victims`]): `warn` logs, `enforce` removes the rows
/// and archives their transcripts as `<file>.deleted.<ms>` (as OpenClaw does), and deletes
/// archives older than `pruneAfter`. A row whose session is locked by some process is kept.
fn run_maintenance(shared: &Shared, now_ms: u64) -> Result<(), AgentError> {
    let store = &shared.store;
    let policy = &shared.maintenance;
    let _guard = store.lock_exclusive()?;
    refresh(shared)?;
    let open = lock(&shared.open).clone();
    let victims = {
        let mut state = lock(&shared.state);
        state.last_maintenance_ms = Some(now_ms);
        let protected = |key: &str| open.contains(key) || shared.protected.iter().any(|p| p == key);
        maintenance_victims(&state.map, policy, now_ms, &protected)
    };
    if policy.mode == MaintenanceMode::Enforce {
        purge_archives(store.dir(), now_ms.saturating_sub(policy.prune_after_ms));
    }
    if victims.is_empty() {
        return Ok(());
    }
    if policy.mode == MaintenanceMode::Warn {
        tracing::warn!(
            sessions = victims.len(),
            "session maintenance (mode warn) would remove {} session(s) older than \
             session.maintenance.pruneAfter or beyond maxEntries {}; set mode \"enforce\" to \
             remove them",
            victims.len(),
            policy.max_entries
        );
        return Ok(());
    }
    let mut removed = Vec::new();
    for key in victims {
        let entry = lock(&shared.state).map.get(&key).cloned();
        let Some(entry) = entry else { continue };
        if archive_transcript(store, &entry, now_ms) {
            removed.push(JournalOp { key, entry: None });
        }
    }
    if removed.is_empty() {
        return Ok(());
    }
    let len = store.append_journal(&removed)?;
    let mut state = lock(&shared.state);
    for op in &removed {
        state.map.remove(&op.key);
    }
    state.offset = len;
    state.journal_lines += removed.len() as u64;
    tracing::info!(
        sessions = removed.len(),
        "session maintenance removed {} session(s); their transcripts are kept as \
         <file>.deleted.<ms> until session.maintenance.pruneAfter has passed again",
        removed.len()
    );
    Ok(())
}

/// The suffix of an archived transcript: `.deleted.<unix ms>`.
const ARCHIVE_MARK: &str = ".deleted.";

/// Archives a pruned session's transcript (renamed to `<file>.deleted.<now_ms>`) and deletes its
/// lock file, unless some process holds the lock.
fn archive_transcript(store: &SessionStore, entry: &SessionEntry, now_ms: u64) -> bool {
    use fs4::fs_std::FileExt;
    let dir = store.dir();
    let lock_path = dir.join(format!("{}.lock", entry.session_id));
    let lock_file = match std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
    {
        Ok(f) => f,
        Err(_) => return false,
    };
    if !matches!(lock_file.try_lock_exclusive(), Ok(true)) {
        return false;
    }
    let transcript = entry_transcript_path(dir, entry);
    let inside = transcript.starts_with(dir);
    let mut archived = transcript.clone().into_os_string();
    archived.push(format!("{ARCHIVE_MARK}{now_ms}"));
    if inside
        && let Err(e) = std::fs::rename(&transcript, &archived)
        && e.kind() != std::io::ErrorKind::NotFound
    {
        let _ = FileExt::unlock(&lock_file);
        return false;
    }
    let _ = std::fs::remove_file(&lock_path);
    let _ = FileExt::unlock(&lock_file);
    true
}

/// Deletes transcripts archived before `cutoff_ms` (the archive's own stamp, not its mtime:
/// a transcript is archived long after its last write).
fn purge_archives(dir: &std::path::Path, cutoff_ms: u64) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.filter_map(Result::ok) {
        let name = entry.file_name();
        let Some(stamp) = name
            .to_str()
            .and_then(|n| n.rsplit_once(ARCHIVE_MARK))
            .and_then(|(_, ms)| ms.parse::<u64>().ok())
        else {
            continue;
        };
        if stamp < cutoff_ms
            && let Err(e) = std::fs::remove_file(entry.path())
            && e.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!("could not delete an archived transcript: {e}");
        }
    }
}

/// Error paths as messages show them: relative to the state dir.
fn relative(store: &SessionStore, error: AgentError) -> AgentError {
    match error {
        AgentError::Io { path, source } => AgentError::Io {
            path: store.display(&path),
            source,
        },
        AgentError::Corrupt { path, message } => AgentError::Corrupt {
            path: store.display(&path),
            message,
        },
        AgentError::SessionLocked { key, path } => AgentError::SessionLocked {
            key,
            path: store.display(&path),
        },
        other => other,
    }
}

#[async_trait]
impl SessionBackend for FileSessions {
    async fn get(&self, key: &str) -> Result<Option<SessionEntry>, AgentError> {
        self.ensure_loaded().await?;
        Ok(lock(&self.shared.state).map.get(key).cloned())
    }

    async fn upsert(&self, key: &str, entry: SessionEntry) -> Result<(), AgentError> {
        self.write(key, Some(entry), true).await
    }

    fn touch(&self, key: &str, entry: SessionEntry) {
        let generation = {
            let mut state = lock(&self.shared.state);
            state.generation += 1;
            let generation = state.generation;
            state.map.insert(key.to_string(), entry.clone());
            state.dirty.insert(key.to_string(), generation);
            generation
        };
        let _ = self.send(Msg::Write {
            key: key.to_string(),
            entry: Some(Box::new(entry)),
            generation,
            done: None,
        });
    }

    async fn list(&self) -> Result<Vec<(String, SessionEntry)>, AgentError> {
        self.ensure_loaded().await?;
        Ok(lock(&self.shared.state)
            .map
            .iter()
            .map(|(k, e)| (k.clone(), e.clone()))
            .collect())
    }

    async fn remove(&self, key: &str) -> Result<Option<SessionEntry>, AgentError> {
        let existing = self.get(key).await?;
        if existing.is_some() {
            self.write(key, None, true).await?;
        }
        Ok(existing)
    }

    async fn open_transcript(
        &self,
        key: &str,
        entry: &SessionEntry,
        header: SessionHeader,
    ) -> Result<(Box<dyn TranscriptHandle>, LoadedTranscript), AgentError> {
        let shared = self.shared.clone();
        let key = key.to_string();
        let entry = entry.clone();
        tokio::task::spawn_blocking(move || {
            let store = &shared.store;
            let dir = store.dir().to_path_buf();
            let path = entry_transcript_path(&dir, &entry);
            let writer = TranscriptWriter::open(&dir, path, &entry.session_id, &key, || header)
                .map_err(|e| relative(store, e))?;
            let loaded = load_transcript(writer.path()).map_err(|e| relative(store, e))?;
            lock(&shared.open).insert(key.clone());
            let name = store.display(writer.path()).display().to_string();
            let handle = FileTranscript {
                writer: Arc::new(Mutex::new(writer)),
                shared: shared.clone(),
                key,
                name,
                durable: store.durable(),
            };
            Ok::<_, AgentError>((Box::new(handle) as Box<dyn TranscriptHandle>, loaded))
        })
        .await
        .map_err(blocking_failed)?
    }

    fn maintain(&self, now_ms: u64) {
        let due = {
            let state = lock(&self.shared.state);
            let over = state.map.len() >= self.shared.maintenance.high_water();
            let periodic = state
                .last_maintenance_ms
                .is_none_or(|last| now_ms.saturating_sub(last) >= MAINTENANCE_PERIOD_MS);
            over || periodic
        };
        // One queued pass is enough.
        if due
            && self
                .shared
                .pending_maintenance
                .swap(now_ms, Ordering::SeqCst)
                != now_ms
        {
            let _ = self.send(Msg::Maintain(now_ms));
        }
    }

    async fn flush(&self) -> Result<(), AgentError> {
        let (tx, rx) = oneshot::channel();
        self.send(Msg::Flush(tx))?;
        rx.await
            .map_err(|_| writer_failed("the session writer has stopped".into()))?
            .map_err(writer_failed)
    }
}

impl Drop for FileSessions {
    fn drop(&mut self) {
        // Closing the channel lets the writer fold the journal and exit.
        lock(&self.sender).take();
        if let Some(writer) = lock(&self.writer).take() {
            let _ = writer.join();
        }
    }
}

/// An open transcript: the session's lock is held while this lives.
#[derive(Debug)]
struct FileTranscript {
    writer: Arc<Mutex<TranscriptWriter>>,
    shared: Arc<Shared>,
    key: String,
    name: String,
    durable: bool,
}

impl FileTranscript {
    async fn blocking<F>(&self, f: F) -> Result<(), AgentError>
    where
        F: FnOnce(&mut TranscriptWriter) -> Result<(), AgentError> + Send + 'static,
    {
        let writer = self.writer.clone();
        let shared = self.shared.clone();
        tokio::task::spawn_blocking(move || {
            let mut guard = lock(&writer);
            f(&mut guard).map_err(|e| relative(&shared.store, e))
        })
        .await
        .map_err(blocking_failed)?
    }
}

#[async_trait]
impl TranscriptHandle for FileTranscript {
    async fn append(&mut self, entry: &TranscriptEntry) -> Result<(), AgentError> {
        let entry = entry.clone();
        self.blocking(move |w| w.append(&entry)).await
    }

    async fn sync(&mut self) -> Result<(), AgentError> {
        if !self.durable {
            return Ok(());
        }
        self.blocking(TranscriptWriter::sync).await
    }

    fn name(&self) -> String {
        self.name.clone()
    }
}

impl Drop for FileTranscript {
    fn drop(&mut self) {
        lock(&self.shared.open).remove(&self.key);
    }
}
