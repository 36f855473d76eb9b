//! `<state>/cooldowns.json`: survives restarts, tolerates corrupt and torn files, leaves no
//! temp files, writes nothing when nothing changed, and keeps entries written by another
//! process (a real second process: this test binary re-run in a child mode).

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use clawgate_providers::FailureKind;
use clawgate_router::{
    Availability, CancellationToken, Clock, CooldownKey, CooldownSchedule, CooldownStore, Penalty,
    ProviderSet, ProviderTarget, RouterConfig, SystemClock, cooldown_file_path,
};

use crate::fake::*;

const CHILD_DIR_ENV: &str = "CLAWGATE_ROUTER_TEST_CHILD_DIR";
const CHILD_NAME_ENV: &str = "CLAWGATE_ROUTER_TEST_CHILD_NAME";
const WRITES_PER_PROCESS: usize = 40;

fn files_in(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

fn open(dir: &Path) -> CooldownStore {
    CooldownStore::open(dir, CooldownSchedule::default())
}

#[tokio::test]
async fn cooldowns_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let dead = FakeProvider::always("local", Script::FailBeforeStream(refused()));
    let alive = FakeProvider::always("hosted", Script::Events(answer("ok")));
    let set: ProviderSet = [dead.clone(), alive.clone()]
        .into_iter()
        .map(|p| ProviderTarget::new(p))
        .collect();
    let chain = chain(&["local/q", "hosted/s"]);
    {
        let (router, _) = router_over(set.clone(), open(dir.path()), RouterConfig::default());
        router
            .call(request(), &chain, &CancellationToken::new())
            .await
            .unwrap();
    }
    assert_eq!(dead.call_count(), 1);
    // a new process: new store on the same dir, same moment
    let restarted = open(dir.path());
    assert_eq!(restarted.load_warning(), None);
    assert!(matches!(
        restarted.availability("local", 1, T0 + 1_000),
        Availability::Blocked { .. }
    ));
    let (router, _) = router_over(set, restarted, RouterConfig::default());
    let stream = router
        .call(request(), &chain, &CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(stream.answered_by(), &cand("hosted/s"));
    assert_eq!(
        dead.call_count(),
        1,
        "the restarted router skipped the dead provider"
    );
}

#[test]
fn corrupt_file_is_a_warning_that_starts_empty_and_is_repaired_on_write() {
    let dir = tempfile::tempdir().unwrap();
    let path = cooldown_file_path(dir.path());
    std::fs::write(&path, "{ this is not json").unwrap();
    let store = open(dir.path());
    assert!(
        store.load_warning().unwrap().contains("corrupt"),
        "{:?}",
        store.load_warning()
    );
    assert!(store.snapshot().is_empty());
    store.record_failure(
        &CooldownKey::provider("p"),
        &FailureKind::Timeout,
        Penalty::Cooldown,
        T0,
    );
    store.flush();
    let reopened = open(dir.path());
    assert_eq!(reopened.load_warning(), None);
    assert_eq!(
        reopened
            .entry(&CooldownKey::provider("p"))
            .unwrap()
            .error_count,
        1
    );
}

#[test]
fn torn_file_is_tolerated() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    store.record_failure(
        &CooldownKey::provider("p"),
        &FailureKind::Timeout,
        Penalty::Cooldown,
        T0,
    );
    store.flush();
    let path = cooldown_file_path(dir.path());
    let full = std::fs::read(&path).unwrap();
    std::fs::write(&path, &full[..full.len() / 2]).unwrap();
    let reopened = open(dir.path());
    assert!(reopened.load_warning().is_some());
    assert!(reopened.snapshot().is_empty());
    // an empty file and a wrong version are tolerated the same way
    std::fs::write(&path, "").unwrap();
    assert!(open(dir.path()).load_warning().is_some());
    std::fs::write(&path, r#"{"version": 99, "entries": {}}"#).unwrap();
    assert!(open(dir.path()).load_warning().unwrap().contains("version"));
}

#[test]
fn writes_are_atomic_and_leave_no_temp_files() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    for n in 0..50 {
        store.record_failure(
            &CooldownKey::api_key("p", n % 3),
            &FailureKind::RateLimit { retry_after: None },
            Penalty::Cooldown,
            T0 + n as u64,
        );
    }
    store.record_success("p", 1, T0 + 100);
    store.flush();
    let expected: BTreeSet<String> = ["cooldowns.json", "cooldowns.lock"]
        .map(String::from)
        .into();
    assert_eq!(files_in(dir.path()), expected);
    let text = std::fs::read_to_string(cooldown_file_path(dir.path())).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(json["version"], 1);
    assert_eq!(json["entries"]["p#key0"]["errorCount"], 17);
    assert_eq!(json["entries"]["p#key1"]["errorCount"], 0);
}

#[test]
fn nothing_is_written_when_nothing_changed() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let store = open(&state);
    store.record_success("p", 0, T0);
    store.record_failure(
        &CooldownKey::provider("p"),
        &FailureKind::Format,
        Penalty::None,
        T0,
    );
    store.flush();
    assert!(!state.exists(), "no change, no state dir, no file");
    store.record_failure(
        &CooldownKey::provider("p"),
        &FailureKind::Timeout,
        Penalty::Cooldown,
        T0,
    );
    store.flush();
    let path = cooldown_file_path(&state);
    assert!(path.exists());
    store.record_success("p", 0, T0 + 1); // clears: a write
    store.flush();
    let cleared = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, "sentinel").unwrap();
    store.record_success("p", 0, T0 + 2); // already clean: no write
    store.flush();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "sentinel");
    assert!(cleared.contains("\"errorCount\": 0"));
}

#[test]
fn two_stores_in_one_process_keep_each_others_entries() {
    let dir = tempfile::tempdir().unwrap();
    let handles: Vec<_> = (0..2)
        .map(|t| {
            let dir = dir.path().to_path_buf();
            std::thread::spawn(move || {
                let store = open(&dir);
                for i in 0..25 {
                    let key = CooldownKey::provider(&format!("thread{t}-{i}"));
                    store.record_failure(&key, &FailureKind::Timeout, Penalty::Cooldown, T0 + i);
                }
            })
        })
        .collect();
    for handle in handles {
        handle.join().unwrap();
    }
    let merged = open(dir.path()).snapshot();
    assert_eq!(merged.len(), 50, "{:?}", merged.keys().collect::<Vec<_>>());
}

/// Records failures for keys named after this process (and one shared key), each write a
/// separate read-merge-write under the lock.
fn hammer(dir: &Path, name: &str) {
    let store = open(dir);
    let clock = SystemClock;
    for i in 0..WRITES_PER_PROCESS {
        let own = CooldownKey::provider(&format!("{name}-{i}"));
        store.record_failure(
            &own,
            &FailureKind::ServerError,
            Penalty::Cooldown,
            clock.now_ms(),
        );
        let shared = CooldownKey::api_key("shared", i % 2);
        store.record_failure(
            &shared,
            &FailureKind::Overloaded,
            Penalty::Cooldown,
            clock.now_ms(),
        );
        // One read-merge-write per round, interleaved with the other process's.
        store.flush();
    }
}

#[test]
fn two_processes_on_one_state_dir_keep_each_others_entries() {
    // Child mode: this same test, re-run by the parent below in another process.
    if let (Ok(dir), Ok(name)) = (std::env::var(CHILD_DIR_ENV), std::env::var(CHILD_NAME_ENV)) {
        hammer(Path::new(&dir), &name);
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let exe = std::env::current_exe().unwrap();
    let children: Vec<_> = ["child1", "child2"]
        .iter()
        .map(|name| {
            Command::new(&exe)
                .args([
                    "persistence::two_processes_on_one_state_dir_keep_each_others_entries",
                    "--exact",
                    "--test-threads=1",
                    "--nocapture",
                ])
                .env(CHILD_DIR_ENV, dir.path())
                .env(CHILD_NAME_ENV, name)
                .output_spawn()
        })
        .collect();
    hammer(dir.path(), "parent");
    for child in children {
        let output = child.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(output.status.success(), "child failed: {stdout}");
        // the child really ran the test (in child mode), not zero tests
        assert!(stdout.contains("1 passed"), "{stdout}");
    }
    let store = open(dir.path());
    assert_eq!(store.load_warning(), None);
    let entries = store.snapshot();
    for name in ["parent", "child1", "child2"] {
        for i in 0..WRITES_PER_PROCESS {
            assert!(
                entries.contains_key(&format!("{name}-{i}")),
                "lost {name}-{i}"
            );
        }
    }
    assert!(entries.contains_key("shared#key0") && entries.contains_key("shared#key1"));
    assert_eq!(entries.len(), 3 * WRITES_PER_PROCESS + 2);
    let expected: BTreeSet<String> = ["cooldowns.json", "cooldowns.lock"]
        .map(String::from)
        .into();
    assert_eq!(files_in(dir.path()), expected);
}

trait SpawnPiped {
    fn output_spawn(&mut self) -> std::process::Child;
}

impl SpawnPiped for Command {
    fn output_spawn(&mut self) -> std::process::Child {
        self.stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    }
}

#[test]
fn a_running_store_picks_up_another_processes_cooldowns_at_most_once_a_second() {
    let dir = tempfile::tempdir().unwrap();
    let ours = open(dir.path());
    let theirs = open(dir.path());
    ours.refresh_if_changed(T0); // nothing on disk yet
    theirs.record_failure(
        &CooldownKey::provider("a"),
        &FailureKind::Timeout,
        Penalty::Cooldown,
        T0,
    );
    theirs.flush();
    ours.refresh_if_changed(T0 + 1_000);
    assert!(matches!(
        ours.availability("a", 1, T0 + 1_000),
        Availability::Blocked { .. }
    ));
    // a second change within the second is not looked for yet...
    theirs.record_failure(
        &CooldownKey::provider("b"),
        &FailureKind::Timeout,
        Penalty::Cooldown,
        T0,
    );
    theirs.flush();
    ours.refresh_if_changed(T0 + 1_500);
    assert_eq!(ours.entry(&CooldownKey::provider("b")), None);
    // ...but is picked up once it has passed
    ours.refresh_if_changed(T0 + 2_000);
    assert!(ours.entry(&CooldownKey::provider("b")).is_some());
}
