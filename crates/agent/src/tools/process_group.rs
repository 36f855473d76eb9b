//! Running `exec`'s child in a process group of its own, with output caps and a timeout, and
//! killing the whole group (`SIGKILL` to the group) when the timeout passes, when the turn is
//! aborted (the future is dropped: the guard's `Drop` kills), and after the child exits (so
//! helpers it left behind in its group do not linger).
//!
//! Under the sandbox the child is `bwrap`, started with `--die-with-parent` and a PID
//! namespace: killing it takes down every process inside, including ones that started their
//! own session or process group. Without the sandbox (`sandbox.mode: "off"`) only the group is
//! killed; a process that calls `setsid` escapes it.

use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use tokio::io::{AsyncRead, AsyncReadExt};

/// How a run ended.
#[derive(Debug)]
pub enum RunEnd {
    Exited {
        status: ExitStatus,
        stdout: Captured,
        stderr: Captured,
    },
    TimedOut,
    SpawnFailed(std::io::Error),
}

/// Bytes kept (at most the cap) and the total seen.
#[derive(Debug, Default)]
pub struct Captured {
    pub kept: Vec<u8>,
    pub total: usize,
}

/// Kills the process group when dropped (unless disarmed after a clean exit and cleanup).
struct GroupGuard {
    pgid: Option<Pid>,
}

impl GroupGuard {
    fn kill(&self) {
        if let Some(pgid) = self.pgid {
            // ESRCH (the group is already gone) is the normal case after a clean exit.
            let _ = killpg(pgid, Signal::SIGKILL);
        }
    }
}

impl Drop for GroupGuard {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Spawn `cmd` in a new process group and wait for it, keeping `cap` bytes of each stream.
pub async fn run_in_group(
    mut cmd: tokio::process::Command,
    timeout: Duration,
    cap: usize,
) -> RunEnd {
    cmd.process_group(0)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => return RunEnd::SpawnFailed(e),
    };
    let guard = GroupGuard {
        pgid: child
            .id()
            .and_then(|id| i32::try_from(id).ok())
            .map(Pid::from_raw),
    };
    let stdout = child.stdout.take();
    let stderr = child.stderr.take();
    let wait_then_clean = async {
        let status = child.wait().await;
        // Leftovers in the group would keep the pipes open; the child is reaped, so the
        // group id cannot have been reused while members remain.
        guard.kill();
        status
    };
    let work = async {
        tokio::join!(
            read_capped(stdout, cap),
            read_capped(stderr, cap),
            wait_then_clean
        )
    };
    match tokio::time::timeout(timeout, work).await {
        Ok((stdout, stderr, Ok(status))) => RunEnd::Exited {
            status,
            stdout,
            stderr,
        },
        Ok((_, _, Err(e))) => RunEnd::SpawnFailed(e),
        Err(_) => {
            guard.kill();
            RunEnd::TimedOut
        }
    }
}

/// Keeps reading past the cap so the child never blocks on a full pipe.
async fn read_capped<R: AsyncRead + Unpin>(reader: Option<R>, cap: usize) -> Captured {
    let Some(mut reader) = reader else {
        return Captured::default();
    };
    let mut out = Captured::default();
    let mut buf = [0u8; 8192];
    loop {
        match reader.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                out.total += n;
                let room = cap.saturating_sub(out.kept.len());
                out.kept.extend_from_slice(&buf[..n.min(room)]);
            }
        }
    }
    out
}
