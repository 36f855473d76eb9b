//! The on-disk form of the cooldown store: `<state>/cooldowns.json`, one small JSON object.
//! Writes are read-merge-write under an exclusive lock on `<state>/cooldowns.lock` (`fs4`),
//! so two clawgate processes on one state dir keep each other's entries (per entry, the one
//! changed last wins). The data file is replaced atomically: a temp file in the same dir
//! (`tempfile`, removed on any error), fsync, rename over the old file, fsync the dir. The
//! lock lives on a separate file because renaming replaces the data file's inode.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use fs4::fs_std::FileExt;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::cooldown::CooldownEntry;

const DATA_FILE: &str = "cooldowns.json";
const LOCK_FILE: &str = "cooldowns.lock";
const FORMAT_VERSION: u32 = 1;

#[derive(Debug, Serialize, Deserialize)]
struct FileBody {
    version: u32,
    #[serde(default)]
    entries: BTreeMap<String, CooldownEntry>,
}

/// Why a cooldown file could not be used (the store then starts empty).
#[derive(Debug, Error)]
pub enum FileProblem {
    #[error("cannot read {path}: {source}")]
    Unreadable { path: PathBuf, source: io::Error },
    #[error("{path} is corrupt ({detail}); starting with no cooldowns")]
    Corrupt { path: PathBuf, detail: String },
}

/// Modification time and size of the data file: enough to notice another process's write.
pub type Stamp = (Option<std::time::SystemTime>, u64);

pub fn stamp(state_dir: &Path) -> Option<Stamp> {
    let meta = fs::metadata(data_path(state_dir)).ok()?;
    Some((meta.modified().ok(), meta.len()))
}

pub fn data_path(state_dir: &Path) -> PathBuf {
    state_dir.join(DATA_FILE)
}

/// Reads the entries; a missing file is empty, not a problem.
pub fn read(state_dir: &Path) -> Result<BTreeMap<String, CooldownEntry>, FileProblem> {
    let path = data_path(state_dir);
    let text = match fs::read(&path) {
        Ok(bytes) => bytes,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(BTreeMap::new()),
        Err(source) => return Err(FileProblem::Unreadable { path, source }),
    };
    let body: FileBody = serde_json::from_slice(&text).map_err(|error| FileProblem::Corrupt {
        path: path.clone(),
        detail: error.to_string(),
    })?;
    if body.version != FORMAT_VERSION {
        return Err(FileProblem::Corrupt {
            path,
            detail: format!("unknown version {}", body.version),
        });
    }
    Ok(body.entries)
}

/// Merges `incoming` into `base`: an incoming entry wins when it is newer, or equally new and
/// `wins_tie(name)`.
pub fn merge_into(
    base: &mut BTreeMap<String, CooldownEntry>,
    incoming: &BTreeMap<String, CooldownEntry>,
    wins_tie: impl Fn(&str) -> bool,
) {
    for (name, entry) in incoming {
        let take = match base.get(name) {
            None => true,
            Some(current) => {
                entry.updated_at > current.updated_at
                    || (entry.updated_at == current.updated_at && wins_tie(name))
            }
        };
        if take {
            base.insert(name.clone(), entry.clone());
        }
    }
}

/// Under the lock: reads what is on disk, merges `memory` in (entries in `dirty` win ties),
/// writes the result atomically and returns it.
pub fn merge_and_write(
    state_dir: &Path,
    memory: &BTreeMap<String, CooldownEntry>,
    dirty: &BTreeSet<String>,
) -> io::Result<BTreeMap<String, CooldownEntry>> {
    fs::create_dir_all(state_dir)?;
    let lock = OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(state_dir.join(LOCK_FILE))?;
    FileExt::lock_exclusive(&lock)?;
    let result = (|| -> io::Result<BTreeMap<String, CooldownEntry>> {
        let mut merged = read(state_dir).unwrap_or_else(|problem| {
            tracing::warn!("overwriting unusable cooldown state: {problem}");
            BTreeMap::new()
        });
        merge_into(&mut merged, memory, |name| dirty.contains(name));
        write_atomically(state_dir, &merged)?;
        Ok(merged)
    })();
    let unlocked = FileExt::unlock(&lock);
    let merged = result?;
    unlocked?;
    Ok(merged)
}

fn write_atomically(state_dir: &Path, entries: &BTreeMap<String, CooldownEntry>) -> io::Result<()> {
    let body = FileBody {
        version: FORMAT_VERSION,
        entries: entries.clone(),
    };
    let mut text = serde_json::to_vec_pretty(&body).map_err(io::Error::other)?;
    text.push(b'\n');
    let mut temp = tempfile::Builder::new()
        .prefix(".cooldowns.")
        .suffix(".tmp")
        .tempfile_in(state_dir)?;
    temp.write_all(&text)?;
    temp.as_file().sync_all()?;
    temp.persist(data_path(state_dir))
        .map_err(|error| error.error)?;
    // Make the rename itself durable. Directories cannot be opened for fsync everywhere;
    // that only weakens durability, never correctness, so it is not an error.
    if let Ok(dir) = File::open(state_dir) {
        let _ = dir.sync_all();
    }
    Ok(())
}
