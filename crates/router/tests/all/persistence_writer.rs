//! The cooldown store's writer thread: recording a failure never waits for the disk (the file
//! lock held by someone else does not stall the caller), a dropped store still writes its last
//! changes, and a process killed with SIGKILL in the middle of its writes leaves a file that
//! loads cleanly with every entry it had flushed.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use clawgate_providers::FailureKind;
use clawgate_router::{
    Availability, CooldownKey, CooldownSchedule, CooldownStore, Penalty, cooldown_file_path,
};
use fs4::fs_std::FileExt;

use crate::fake::T0;

const KILL_CHILD_DIR_ENV: &str = "CLAWGATE_ROUTER_TEST_KILL_CHILD_DIR";

fn open(dir: &Path) -> CooldownStore {
    CooldownStore::open(dir, CooldownSchedule::default())
}

fn timeout_failure(store: &CooldownStore, provider: &str) {
    store.record_failure(
        &CooldownKey::provider(provider),
        &FailureKind::Timeout,
        Penalty::Cooldown,
        T0,
    );
}

#[test]
fn recording_a_failure_does_not_wait_for_the_file_lock() {
    let dir = tempfile::tempdir().unwrap();
    // Another process's write in progress: its lock on the state dir's lock file.
    let lock = std::fs::File::create(dir.path().join("cooldowns.lock")).unwrap();
    FileExt::lock_exclusive(&lock).unwrap();
    let store = std::sync::Arc::new(open(dir.path()));
    let (recorded, returned) = mpsc::channel();
    let caller = store.clone();
    std::thread::spawn(move || {
        timeout_failure(&caller, "p");
        recorded.send(()).unwrap();
    });
    // Not a timing figure: a deadlock guard. Before the writer thread, this call blocked on
    // the lock for as long as it was held (here: forever).
    returned
        .recv_timeout(Duration::from_secs(60))
        .expect("record_failure returned while another process held the file lock");
    assert!(matches!(
        store.availability("p", 1, T0 + 1),
        Availability::Blocked { .. }
    ));
    assert!(
        !cooldown_file_path(dir.path()).exists(),
        "nothing written while the lock is held"
    );
    FileExt::unlock(&lock).unwrap();
    store.flush();
    let reopened = open(dir.path());
    assert_eq!(
        reopened
            .entry(&CooldownKey::provider("p"))
            .unwrap()
            .error_count,
        1
    );
}

#[test]
fn a_dropped_store_writes_its_last_changes() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = open(dir.path());
        for n in 0..20 {
            timeout_failure(&store, &format!("p{n}"));
        }
    }
    let reopened = open(dir.path());
    assert_eq!(reopened.load_warning(), None);
    assert_eq!(reopened.snapshot().len(), 20);
}

#[test]
fn a_store_killed_mid_writes_leaves_a_loadable_file_with_every_flushed_entry() {
    // Child mode: record and flush without end, saying after each flush what is on disk.
    if let Ok(dir) = std::env::var(KILL_CHILD_DIR_ENV) {
        let store = open(Path::new(&dir));
        for n in 0.. {
            // two changes, one flush: both are written (together or one after the other)
            timeout_failure(&store, &format!("p{n}"));
            timeout_failure(&store, &format!("q{n}"));
            store.flush();
            println!("flushed {n}");
        }
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "persistence_writer::a_store_killed_mid_writes_leaves_a_loadable_file_with_every_flushed_entry",
            "--exact",
            "--test-threads=1",
            "--nocapture",
        ])
        .env(KILL_CHILD_DIR_ENV, dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut last_flushed = None;
    for line in lines.by_ref() {
        if let Some(n) = line.unwrap().strip_prefix("flushed ") {
            last_flushed = Some(n.parse::<u32>().unwrap());
            if last_flushed >= Some(30) {
                break;
            }
        }
    }
    child.kill().unwrap(); // SIGKILL, in the middle of the writer's next writes
    child.wait().unwrap();
    for line in lines {
        if let Some(n) = line.unwrap().strip_prefix("flushed ") {
            last_flushed = Some(n.parse::<u32>().unwrap());
        }
    }
    let last_flushed = last_flushed.expect("the child flushed");
    let reopened = open(dir.path());
    assert_eq!(reopened.load_warning(), None, "the file is whole");
    let entries = reopened.snapshot();
    for n in 0..=last_flushed {
        assert!(entries.contains_key(&format!("p{n}")), "lost flushed p{n}");
        assert!(entries.contains_key(&format!("q{n}")), "lost flushed q{n}");
    }
}
