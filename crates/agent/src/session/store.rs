//! The session index on disk: `sessions.json` (OpenClaw's map from session key to
//! [`SessionEntry`], a snapshot written atomically) plus `sessions.journal.jsonl`, the rows
//! changed since that snapshot, one JSON line per change. A turn appends one line (its row) to
//! the journal instead of rewriting the whole map, so what a turn writes does not grow with the
//! number of sessions; the journal is folded into a new snapshot once it holds as many lines as
//! the map has rows (at least [`COMPACT_MIN_LINES`]), which keeps the amortised cost per change
//! constant too. The snapshot is complete whenever the journal is empty: a clean shutdown folds
//! it, so OpenClaw (which reads only `sessions.json`) sees every row.
//!
//! Readers replay the journal over the snapshot; a torn last journal line (a crash mid-write) is
//! skipped, and the next append starts on a fresh line. Writers hold `sessions.json.lock`.
//! An empty or unreadable `sessions.json` is an error that names the file and points to
//! `clawgate sessions repair`: it never reads as "no sessions".
//!
//! Paths in messages are relative to the state dir, so an error body or a chat reply does not
//! reveal where the state lives.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use fs4::fs_std::FileExt;
use serde::{Deserialize, Serialize};

use crate::error::AgentError;
pub use crate::session::entry::SessionEntry;

/// The journal is folded into the snapshot once it has this many lines, or as many as the map
/// has rows if that is more.
pub const COMPACT_MIN_LINES: u64 = 1_000;
const SNAPSHOT: &str = "sessions.json";
const JOURNAL: &str = "sessions.journal.jsonl";
const LOCK: &str = "sessions.json.lock";

/// What the index files were written with, for tests and benchmarks (bytes of journal lines
/// and snapshots, and how many snapshots were written).
#[derive(Debug, Default)]
pub struct IndexStats {
    pub bytes_written: AtomicU64,
    pub snapshot_writes: AtomicU64,
    pub journal_appends: AtomicU64,
}

/// One change in the journal: a row set or a row removed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct JournalOp {
    pub key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entry: Option<SessionEntry>,
}

/// Which `sessions.json` a reader replayed the journal onto (a new snapshot is a new file).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SnapshotId {
    dev: u64,
    ino: u64,
}

/// The map read from disk, and where the journal was read up to.
#[derive(Debug, Default)]
pub(crate) struct DiskIndex {
    pub map: BTreeMap<String, SessionEntry>,
    pub snapshot: Option<SnapshotId>,
    pub offset: u64,
    pub journal_lines: u64,
}

/// The index files of one agent (`<state>/agents/<agentId>/sessions`).
#[derive(Debug, Clone)]
pub struct SessionStore {
    dir: PathBuf,
    durable: bool,
    root: PathBuf,
    stats: Arc<IndexStats>,
}

/// Holds `sessions.json.lock` (exclusive) while alive.
pub(crate) struct IndexLock(File);

impl Drop for IndexLock {
    fn drop(&mut self) {
        let _ = FileExt::unlock(&self.0);
    }
}

impl SessionStore {
    /// `dir` is `<state>/agents/<agentId>/sessions`. `durable` fsyncs journal appends and
    /// snapshots.
    pub fn new(dir: impl Into<PathBuf>, durable: bool) -> Self {
        let dir = dir.into();
        // Messages name files relative to the state dir, three levels up.
        let root = dir
            .ancestors()
            .nth(3)
            .filter(|_| dir.ends_with("sessions"))
            .unwrap_or(&dir)
            .to_path_buf();
        SessionStore {
            dir,
            durable,
            root,
            stats: Arc::default(),
        }
    }

    pub fn for_agent(state_dir: &Path, agent_id: &str) -> Self {
        SessionStore::new(crate::session::sessions_dir(state_dir, agent_id), true)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn durable(&self) -> bool {
        self.durable
    }

    pub fn path(&self) -> PathBuf {
        self.dir.join(SNAPSHOT)
    }

    pub fn journal_path(&self) -> PathBuf {
        self.dir.join(JOURNAL)
    }

    pub fn stats(&self) -> &IndexStats {
        &self.stats
    }

    /// `path` as messages show it: relative to the state dir.
    pub fn display(&self, path: &Path) -> PathBuf {
        path.strip_prefix(&self.root)
            .map(Path::to_path_buf)
            .unwrap_or_else(|_| path.file_name().map(PathBuf::from).unwrap_or_default())
    }

    pub(crate) fn io(&self, path: &Path, source: std::io::Error) -> AgentError {
        AgentError::io(self.display(path), source)
    }

    pub(crate) fn corrupt(&self, path: &Path, message: impl Into<String>) -> AgentError {
        AgentError::Corrupt {
            path: self.display(path),
            message: message.into(),
        }
    }

    /// All rows (snapshot and journal); no index at all is an empty store.
    pub fn load(&self) -> Result<BTreeMap<String, SessionEntry>, AgentError> {
        Ok(self.read_all()?.map)
    }

    pub fn get(&self, key: &str) -> Result<Option<SessionEntry>, AgentError> {
        Ok(self.load()?.remove(key))
    }

    /// The snapshot with the journal replayed onto it.
    pub(crate) fn read_all(&self) -> Result<DiskIndex, AgentError> {
        let (map, snapshot) = self.read_snapshot()?;
        let mut index = DiskIndex {
            map,
            snapshot,
            ..DiskIndex::default()
        };
        let (ops, offset) = self.read_journal_from(0)?;
        index.journal_lines = ops.len() as u64;
        index.offset = offset;
        for op in ops {
            apply(&mut index.map, op);
        }
        Ok(index)
    }

    pub(crate) fn snapshot_id(&self) -> Option<SnapshotId> {
        snapshot_id(&self.path())
    }

    /// `sessions.json` strictly: missing is empty, empty or unreadable is an error.
    pub(crate) fn read_snapshot(
        &self,
    ) -> Result<(BTreeMap<String, SessionEntry>, Option<SnapshotId>), AgentError> {
        let path = self.path();
        let mut file = match File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok((BTreeMap::new(), None));
            }
            Err(e) => return Err(self.io(&path, e)),
        };
        let id = file.metadata().ok().map(|m| id_of(&m));
        let mut text = String::new();
        file.read_to_string(&mut text)
            .map_err(|e| self.io(&path, e))?;
        if text.trim().is_empty() {
            return Err(self.corrupt(
                &path,
                format!(
                    "the session index is empty ({} bytes), so every session would be lost; \
                     run `clawgate sessions repair` to rebuild it from the transcripts",
                    text.len()
                ),
            ));
        }
        let map = serde_json::from_str(&text).map_err(|e| {
            self.corrupt(
                &path,
                format!(
                    "not a session map ({e}); run `clawgate sessions repair` to rebuild it \
                     from the transcripts"
                ),
            )
        })?;
        Ok((map, id))
    }

    /// Journal changes from byte `offset` on, and the offset after the last whole line. A
    /// line that does not parse (a torn write) is skipped with a warning.
    pub(crate) fn read_journal_from(
        &self,
        offset: u64,
    ) -> Result<(Vec<JournalOp>, u64), AgentError> {
        let path = self.journal_path();
        let mut file = match File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((Vec::new(), 0)),
            Err(e) => return Err(self.io(&path, e)),
        };
        let len = file.metadata().map_err(|e| self.io(&path, e))?.len();
        if len <= offset {
            return Ok((Vec::new(), len.min(offset)));
        }
        let mut bytes = Vec::with_capacity((len - offset) as usize);
        file.seek(SeekFrom::Start(offset))
            .and_then(|_| file.read_to_end(&mut bytes))
            .map_err(|e| self.io(&path, e))?;
        let whole = bytes.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
        let mut ops = Vec::new();
        for line in bytes[..whole].split(|b| *b == b'\n') {
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            match serde_json::from_slice::<JournalOp>(line) {
                Ok(op) => ops.push(op),
                Err(e) => tracing::warn!(
                    "{}: unreadable journal line skipped ({e})",
                    self.display(&path).display()
                ),
            }
        }
        Ok((ops, offset + whole as u64))
    }

    pub(crate) fn lock_exclusive(&self) -> Result<IndexLock, AgentError> {
        std::fs::create_dir_all(&self.dir).map_err(|e| self.io(&self.dir, e))?;
        let path = self.dir.join(LOCK);
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| self.io(&path, e))?;
        file.lock_exclusive().map_err(|e| self.io(&path, e))?;
        Ok(IndexLock(file))
    }

    /// Appends changes as whole lines in one write (fsynced when durable); returns the
    /// journal's length after it. Call with the lock held.
    pub(crate) fn append_journal(&self, ops: &[JournalOp]) -> Result<u64, AgentError> {
        let path = self.journal_path();
        let mut file = OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .open(&path)
            .map_err(|e| self.io(&path, e))?;
        let len = file.metadata().map_err(|e| self.io(&path, e))?.len();
        let mut text = String::new();
        if len > 0 {
            // A torn line from a crash must not swallow the first new line.
            let mut last = [0u8; 1];
            file.seek(SeekFrom::Start(len - 1))
                .and_then(|_| file.read_exact(&mut last))
                .map_err(|e| self.io(&path, e))?;
            if last[0] != b'\n' {
                text.push('\n');
            }
        }
        for op in ops {
            let line = serde_json::to_string(op).map_err(|e| self.corrupt(&path, e.to_string()))?;
            text.push_str(&line);
            text.push('\n');
        }
        file.write_all(text.as_bytes())
            .map_err(|e| self.io(&path, e))?;
        if self.durable {
            file.sync_data().map_err(|e| self.io(&path, e))?;
        }
        self.stats
            .bytes_written
            .fetch_add(text.len() as u64, Ordering::Relaxed);
        self.stats.journal_appends.fetch_add(1, Ordering::Relaxed);
        Ok(len + text.len() as u64)
    }

    /// Writes `map` as the new `sessions.json` (temp file, fsync, rename) and empties the
    /// journal it contains. Call with the lock held.
    pub(crate) fn write_snapshot(
        &self,
        map: &BTreeMap<String, SessionEntry>,
    ) -> Result<Option<SnapshotId>, AgentError> {
        let path = self.path();
        let mut text =
            serde_json::to_string_pretty(map).map_err(|e| self.corrupt(&path, e.to_string()))?;
        text.push('\n');
        self.write_atomically(&path, text.as_bytes())?;
        // Only now may the journal go: a crash before this leaves it to be replayed again,
        // which changes nothing (every line holds a whole row).
        let journal = self.journal_path();
        match OpenOptions::new().write(true).open(&journal) {
            Ok(file) => {
                file.set_len(0).map_err(|e| self.io(&journal, e))?;
                if self.durable {
                    let _ = file.sync_all();
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(self.io(&journal, e)),
        }
        self.stats
            .bytes_written
            .fetch_add(text.len() as u64, Ordering::Relaxed);
        self.stats.snapshot_writes.fetch_add(1, Ordering::Relaxed);
        Ok(self.snapshot_id())
    }

    /// Temp file in the same folder, fsync when durable, rename over `path`, fsync the folder.
    pub(crate) fn write_atomically(&self, path: &Path, bytes: &[u8]) -> Result<(), AgentError> {
        std::fs::create_dir_all(&self.dir).map_err(|e| self.io(&self.dir, e))?;
        let mut tmp =
            tempfile::NamedTempFile::new_in(&self.dir).map_err(|e| self.io(&self.dir, e))?;
        tmp.write_all(bytes).map_err(|e| self.io(path, e))?;
        if self.durable {
            tmp.as_file().sync_all().map_err(|e| self.io(path, e))?;
        }
        tmp.persist(path).map_err(|e| self.io(path, e.error))?;
        if self.durable
            && let Ok(dir) = File::open(&self.dir)
        {
            let _ = dir.sync_all();
        }
        Ok(())
    }
}

/// Applies one journal change to a map.
pub(crate) fn apply(map: &mut BTreeMap<String, SessionEntry>, op: JournalOp) {
    match op.entry {
        Some(entry) => {
            map.insert(op.key, entry);
        }
        None => {
            map.remove(&op.key);
        }
    }
}

fn snapshot_id(path: &Path) -> Option<SnapshotId> {
    std::fs::metadata(path).ok().map(|m| id_of(&m))
}

#[cfg(unix)]
fn id_of(meta: &std::fs::Metadata) -> SnapshotId {
    use std::os::unix::fs::MetadataExt;
    SnapshotId {
        dev: meta.dev(),
        ino: meta.ino(),
    }
}

#[cfg(not(unix))]
fn id_of(meta: &std::fs::Metadata) -> SnapshotId {
    let nanos = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos() as u64);
    SnapshotId {
        dev: meta.len(),
        ino: nanos,
    }
}
