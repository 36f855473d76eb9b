//! The cooldown store's durable writes, off the request path. Recording a failure changes the
//! in-memory state and wakes this writer; a thread of its own then does the read-merge-write
//! under the file lock, with its fsyncs (`cooldown_file`), so no async worker waits on the
//! disk. Wakes that arrive while a write runs are folded into the next one: every write takes
//! all the entries changed so far, so a burst of failures costs one or two writes, not one
//! each. The file is still only ever replaced atomically; what is written is the same as
//! before, just written a moment later. [`CooldownWriter::flush`] waits until everything
//! changed before it is on disk, and dropping the writer flushes (the store's last changes
//! are written when it goes away).
//!
//! A plain thread rather than a tokio task: the store is also used outside a runtime (the
//! CLI's `models status --reset`), and the work is blocking file I/O anyway.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use crate::cooldown::{FileSeen, State, locked};
use crate::cooldown_file;

/// What the store and its writer share.
#[derive(Debug, Default)]
pub(crate) struct Shared {
    pub state: Mutex<State>,
    pub seen: Mutex<FileSeen>,
    /// One read-merge-write at a time (the inline fallback may run on several threads).
    write_guard: Mutex<()>,
}

impl Shared {
    pub fn new(state: State, seen: FileSeen) -> Self {
        Self {
            state: Mutex::new(state),
            seen: Mutex::new(seen),
            write_guard: Mutex::new(()),
        }
    }
}

enum Command {
    /// Something changed: write the dirty entries.
    Write,
    /// Write what is dirty, then answer.
    Flush(Sender<()>),
}

/// The writer thread of one store with a state dir.
#[derive(Debug)]
pub(crate) struct CooldownWriter {
    dir: PathBuf,
    shared: Arc<Shared>,
    commands: Option<Sender<Command>>,
    thread: Option<JoinHandle<()>>,
}

impl CooldownWriter {
    /// Starts the thread. When the OS refuses a thread, writes happen on the caller's thread
    /// instead (slower, never lost).
    pub fn start(dir: PathBuf, shared: Arc<Shared>) -> Self {
        let (commands, received) = mpsc::channel();
        let thread_shared = shared.clone();
        let thread_dir = dir.clone();
        match std::thread::Builder::new()
            .name("cooldown-writer".into())
            .spawn(move || run(&thread_dir, &thread_shared, &received))
        {
            Ok(thread) => Self {
                dir,
                shared,
                commands: Some(commands),
                thread: Some(thread),
            },
            Err(error) => {
                tracing::warn!("no cooldown writer thread ({error}); writing inline");
                Self {
                    dir,
                    shared,
                    commands: None,
                    thread: None,
                }
            }
        }
    }

    /// Asks for the dirty entries to be written; returns at once.
    pub fn request_write(&self) {
        match &self.commands {
            Some(commands) if commands.send(Command::Write).is_ok() => {}
            _ => write_dirty(&self.dir, &self.shared),
        }
    }

    /// Returns once every change made before the call is written (or its write failed).
    pub fn flush(&self) {
        let (done, wait) = mpsc::channel();
        match &self.commands {
            Some(commands) if commands.send(Command::Flush(done)).is_ok() => {
                let _ = wait.recv();
            }
            _ => write_dirty(&self.dir, &self.shared),
        }
    }
}

impl Drop for CooldownWriter {
    /// Closes the channel; the thread writes what is still dirty and ends.
    fn drop(&mut self) {
        self.commands.take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn run(dir: &Path, shared: &Shared, commands: &Receiver<Command>) {
    while let Ok(first) = commands.recv() {
        // Everything queued behind the first wake is covered by the same write.
        let mut waiting = Vec::new();
        let mut pending = Some(first);
        while let Some(command) = pending {
            if let Command::Flush(done) = command {
                waiting.push(done);
            }
            pending = commands.try_recv().ok();
        }
        write_dirty(dir, shared);
        for done in waiting {
            let _ = done.send(());
        }
    }
    // The store is gone: its last changes still go to disk.
    write_dirty(dir, shared);
}

/// Writes the changed entries: read-merge-write under the file lock, so entries written by
/// other processes are kept, and merges the result back into memory (entries changed since
/// keep their in-memory version). Failures are logged, never fatal (cooldowns are an
/// optimisation); the entries stay dirty and are written with the next change.
fn write_dirty(dir: &Path, shared: &Shared) {
    let _one_writer = locked(&shared.write_guard);
    let (entries, dirty) = {
        let mut state = locked(&shared.state);
        if state.dirty.is_empty() {
            return;
        }
        let dirty = std::mem::take(&mut state.dirty);
        (state.entries.clone(), dirty)
    };
    match cooldown_file::merge_and_write(dir, &entries, &dirty) {
        Ok(merged) => {
            locked(&shared.seen).stamp = cooldown_file::stamp(dir);
            let mut state = locked(&shared.state);
            let still_dirty = state.dirty.clone();
            cooldown_file::merge_into(&mut state.entries, &merged, |name| {
                !still_dirty.contains(name)
            });
        }
        Err(error) => {
            tracing::warn!(
                "could not write cooldown state in {}: {error}",
                dir.display()
            );
            locked(&shared.state).dirty.extend(dirty);
        }
    }
}
