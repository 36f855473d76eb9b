//! The `exec` sandbox, run for real under bubblewrap (`scripts/setup-dev` installs it): escape
//! attempts (write outside the workspace, read `~/.ssh`, open a socket, leave processes
//! behind, fork-bomb) are each refused or cleaned up; a missing or broken bubblewrap refuses
//! `exec` with a message; the modes and the network switch have their effect.

use std::path::Path;
use std::time::Duration;

use clawgate_agent::tools::exec::ExecTool;
use clawgate_agent::{
    ExecApprovalSettings, ExecAsk, ExecSecurity, SandboxMode, SandboxSettings, Tool, ToolContext,
    ToolOutput, ToolSettings, Workspace,
};
use serde_json::json;

/// A context whose approvals let everything through: these tests are about the sandbox.
pub fn sandbox_ctx(dir: &Path, sandbox: SandboxSettings) -> ToolContext {
    let settings = ToolSettings {
        exec_timeout: Duration::from_secs(20),
        exec_output_cap: 64 * 1024,
        exec_approvals: ExecApprovalSettings {
            security: ExecSecurity::Full,
            ask: ExecAsk::Off,
            ..ExecApprovalSettings::default()
        },
        sandbox,
        ..ToolSettings::default()
    };
    ToolContext::new(Workspace::new(dir.join("ws")).unwrap(), settings)
}

async fn exec(ctx: &ToolContext, command: &str) -> ToolOutput {
    ExecTool.run(json!({"command": command}), ctx).await
}

/// A number no other test (or run) uses, for finding our processes in `/proc`.
pub fn marker() -> u64 {
    7_000_000 + (uuid::Uuid::new_v4().as_u128() % 1_000_000) as u64
}

/// Host pids whose command line contains `needle`.
pub fn processes_with(needle: &str) -> Vec<u32> {
    let mut found = Vec::new();
    let me = std::process::id();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        if pid == me {
            continue;
        }
        let Ok(raw) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let cmdline = String::from_utf8_lossy(&raw).replace('\0', " ");
        if cmdline.contains(needle) {
            found.push(pid);
        }
    }
    found
}

/// Waits (up to 20 s) for every process matching `needle` to be gone; returns the survivors.
/// Killing is asynchronous (SIGKILL, then the PID namespace is torn down), so the check polls;
/// it asserts the outcome, never how long it took.
pub async fn survivors(needle: &str) -> Vec<u32> {
    for _ in 0..400 {
        let left = processes_with(needle);
        if left.is_empty() {
            return left;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    processes_with(needle)
}

#[tokio::test]
async fn commands_run_in_the_workspace_with_a_private_tmp_and_no_secrets_in_env() {
    let dir = tempfile::tempdir().unwrap();
    let c = sandbox_ctx(dir.path(), SandboxSettings::default());
    let ws = c.workspace.root().to_path_buf();
    std::fs::write(ws.join("in.txt"), "from the host\n").unwrap();
    let tmp_name = format!("clawgate-sandbox-tmp-{}", marker());
    let out = exec(
        &c,
        &format!("pwd; cat in.txt; echo made > out.txt; echo t > /tmp/{tmp_name}; cat /tmp/{tmp_name}; env"),
    )
    .await;
    assert!(!out.is_error, "{}", out.content);
    assert!(out.content.contains(&ws.display().to_string()));
    assert!(out.content.contains("from the host"));
    assert_eq!(
        std::fs::read_to_string(ws.join("out.txt")).unwrap(),
        "made\n"
    );
    // The sandbox's /tmp is its own.
    assert!(out.content.contains("\nt\n"));
    assert!(!Path::new("/tmp").join(&tmp_name).exists());
    // clawgate's environment (cargo sets CARGO_MANIFEST_DIR for this test) does not leak.
    assert!(
        !out.content.contains("CARGO_MANIFEST_DIR"),
        "{}",
        out.content
    );
    assert!(out.content.contains("HOME=/tmp"));
}

#[tokio::test]
async fn writes_outside_the_workspace_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let c = sandbox_ctx(dir.path(), SandboxSettings::default());
    let outside = dir.path().join("outside");
    std::fs::create_dir(&outside).unwrap();
    std::fs::write(outside.join("keep.txt"), "original").unwrap();
    let name = format!("clawgate-escape-{}", marker());
    let targets = [
        outside.join("keep.txt"),
        outside.join("new.txt"),
        Path::new("/etc").join(&name),
        Path::new("/usr").join(&name),
        Path::new("/var/tmp").join(&name),
        c.workspace.root().join("../escaped.txt"),
    ];
    for target in &targets {
        let out = exec(&c, &format!("echo pwned > '{}'", target.display())).await;
        // The system folders are read-only; /var/tmp and /tmp are the sandbox's own, so a
        // write there "works" but lands nowhere on the host.
        if target.starts_with("/etc") || target.starts_with("/usr") {
            assert!(out.is_error, "{}: {}", target.display(), out.content);
        }
    }
    assert_eq!(
        std::fs::read_to_string(outside.join("keep.txt")).unwrap(),
        "original"
    );
    for target in &targets[1..] {
        assert!(!target.exists(), "{} was created", target.display());
    }
    assert_eq!(
        std::fs::read_dir(&outside).unwrap().count(),
        1,
        "nothing new next to keep.txt"
    );
    assert!(!dir.path().join("escaped.txt").exists());
    // A symlink planted in the workspace does not lead out either.
    std::os::unix::fs::symlink(&outside, c.workspace.root().join("door")).unwrap();
    let out = exec(&c, "cat door/keep.txt; echo x > door/via-link.txt").await;
    assert!(out.is_error);
    assert!(!out.content.contains("original"));
    assert!(!outside.join("via-link.txt").exists());
}

#[tokio::test]
async fn home_folders_and_ssh_keys_are_invisible() {
    let dir = tempfile::tempdir().unwrap();
    let c = sandbox_ctx(dir.path(), SandboxSettings::default());
    let home = dir.path().join("home");
    std::fs::create_dir_all(home.join(".ssh")).unwrap();
    std::fs::write(home.join(".ssh/id_ed25519"), "FAKE-PRIVATE-KEY").unwrap();
    let key = home.join(".ssh/id_ed25519");
    let out = exec(
        &c,
        &format!(
            "cat '{}'; HOME='{}'; cat \"$HOME/.ssh/id_ed25519\"; ls /root /home; cat ~/.ssh/id_ed25519",
            key.display(),
            home.display()
        ),
    )
    .await;
    assert!(out.is_error);
    assert!(!out.content.contains("FAKE-PRIVATE-KEY"), "{}", out.content);
    assert!(out.content.contains("No such file"), "{}", out.content);
}

#[tokio::test]
async fn sockets_reach_nothing_unless_network_is_allowed() {
    let dir = tempfile::tempdir().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let connect = format!("bash -c 'exec 3<>/dev/tcp/127.0.0.1/{port}' && echo connected");
    let closed = sandbox_ctx(dir.path(), SandboxSettings::default());
    let out = exec(&closed, &connect).await;
    assert!(out.is_error, "{}", out.content);
    assert!(!out.content.contains("connected"));
    let accepted = tokio::time::timeout(Duration::from_millis(200), listener.accept()).await;
    assert!(accepted.is_err(), "the host listener got a connection");
    let open = sandbox_ctx(
        dir.path(),
        SandboxSettings {
            network: true,
            ..SandboxSettings::default()
        },
    );
    let (out, accepted) = tokio::join!(exec(&open, &connect), listener.accept());
    assert!(!out.is_error, "{}", out.content);
    assert!(out.content.contains("connected"));
    assert!(accepted.is_ok());
}

#[tokio::test]
async fn a_timeout_kills_every_process_the_command_started() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = sandbox_ctx(dir.path(), SandboxSettings::default());
    c.settings.exec_timeout = Duration::from_secs(1);
    let m = marker();
    let out = exec(
        &c,
        &format!(
            "sleep {m}1 & setsid sleep {m}2 & (nohup sleep {m}3 >/dev/null 2>&1 &); \
             setsid sh -c 'sleep {m}4' & sleep {m}5"
        ),
    )
    .await;
    assert!(
        out.is_error && out.content.contains("timed out"),
        "{}",
        out.content
    );
    assert_eq!(survivors(&m.to_string()).await, Vec::<u32>::new());
}

#[tokio::test]
async fn background_processes_end_with_the_command() {
    let dir = tempfile::tempdir().unwrap();
    let c = sandbox_ctx(dir.path(), SandboxSettings::default());
    let m = marker();
    let out = exec(
        &c,
        &format!("setsid sleep {m} >/dev/null 2>&1 & echo left it running"),
    )
    .await;
    assert!(!out.is_error, "{}", out.content);
    assert_eq!(survivors(&m.to_string()).await, Vec::<u32>::new());
}

#[tokio::test]
async fn an_aborted_turn_kills_the_sandbox() {
    let dir = tempfile::tempdir().unwrap();
    let c = sandbox_ctx(dir.path(), SandboxSettings::default());
    let m = marker();
    let task = tokio::spawn({
        let c = c.clone();
        async move { exec(&c, &format!("sleep {m}")).await }
    });
    // Wait until the command really runs, then drop the tool call as a cancelled turn would.
    let mut started = false;
    for _ in 0..400 {
        if processes_with(&format!("sleep {m}")).len() >= 2 {
            started = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(started, "the command never started");
    task.abort();
    assert!(task.await.unwrap_err().is_cancelled());
    assert_eq!(survivors(&m.to_string()).await, Vec::<u32>::new());
}

#[tokio::test]
async fn a_fork_bomb_runs_out_of_processes_and_is_cleaned_up() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = sandbox_ctx(
        dir.path(),
        SandboxSettings {
            pids_limit: 24,
            ..SandboxSettings::default()
        },
    );
    c.settings.exec_timeout = Duration::from_secs(10);
    let m = marker();
    // Each function call forks a pipeline of two more, in the background, forever.
    let out = exec(
        &c,
        &format!("# bomb {m}\nb() {{ b | b & }}; b; sleep 1; echo bomb done"),
    )
    .await;
    assert!(
        out.content.contains("fork") || out.content.contains("Resource temporarily unavailable"),
        "the process limit was never hit: {}",
        out.content
    );
    assert_eq!(survivors(&format!("bomb {m}")).await, Vec::<u32>::new());
}

#[tokio::test]
async fn a_missing_bubblewrap_refuses_exec_with_a_way_out() {
    let dir = tempfile::tempdir().unwrap();
    let c = sandbox_ctx(
        dir.path(),
        SandboxSettings {
            bwrap: Some(dir.path().join("no-such-bwrap")),
            ..SandboxSettings::default()
        },
    );
    let out = exec(&c, "touch ran.txt").await;
    assert!(out.is_error);
    assert!(
        out.content.contains("apt install bubblewrap"),
        "{}",
        out.content
    );
    assert!(out.content.contains("sandbox.mode"), "{}", out.content);
    assert!(
        !c.workspace.root().join("ran.txt").exists(),
        "ran unsandboxed"
    );
}

#[tokio::test]
async fn a_bubblewrap_that_cannot_start_is_detected() {
    let dir = tempfile::tempdir().unwrap();
    let fake = dir.path().join("bwrap");
    std::fs::write(
        &fake,
        "#!/bin/sh\necho 'bwrap: Creating new namespace failed: Operation not permitted' >&2\nexit 1\n",
    )
    .unwrap();
    std::fs::set_permissions(&fake, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let c = sandbox_ctx(
        dir.path(),
        SandboxSettings {
            bwrap: Some(fake),
            ..SandboxSettings::default()
        },
    );
    let out = exec(&c, "touch ran.txt").await;
    assert!(out.is_error);
    assert!(
        out.content.contains("cannot start a sandbox here"),
        "{}",
        out.content
    );
    assert!(
        out.content.contains("Operation not permitted"),
        "{}",
        out.content
    );
    assert!(!c.workspace.root().join("ran.txt").exists());
}

#[tokio::test]
async fn mode_off_and_non_main_decide_who_is_sandboxed() {
    let dir = tempfile::tempdir().unwrap();
    let outside = dir.path().join("outside.txt");
    std::fs::write(&outside, "host file").unwrap();
    let read_outside = format!("cat '{}'", outside.display());
    let mut off = sandbox_ctx(
        dir.path(),
        SandboxSettings {
            mode: SandboxMode::Off,
            ..SandboxSettings::default()
        },
    );
    let out = exec(&off, &read_outside).await;
    assert!(out.content.contains("host file"), "{}", out.content);
    // `off` still kills what the command leaves in its process group.
    off.settings.exec_timeout = Duration::from_secs(1);
    let m = marker();
    let out = exec(&off, &format!("sleep {m}1 & sleep {m}2")).await;
    assert!(out.content.contains("timed out"));
    assert_eq!(survivors(&m.to_string()).await, Vec::<u32>::new());

    let mut non_main = sandbox_ctx(
        dir.path(),
        SandboxSettings {
            mode: SandboxMode::NonMain,
            ..SandboxSettings::default()
        },
    );
    non_main.main_session = true;
    assert!(
        exec(&non_main, &read_outside)
            .await
            .content
            .contains("host file")
    );
    non_main.main_session = false;
    let out = exec(&non_main, &read_outside).await;
    assert!(
        out.is_error && !out.content.contains("host file"),
        "{}",
        out.content
    );
}
