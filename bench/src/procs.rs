//! Every process the harness starts (mock-upstream, the gateway, LiteLLM, oha, the llama.cpp
//! server) goes through [`Spawned`]: its own process group, registered in a global list, and
//! killed with its whole group (SIGKILL) when the guard drops, so an error, a panic or a
//! Ctrl-C (see [`install_signal_cleanup`]) never leaves a server running. SIGKILL, not
//! SIGTERM: the gateway drains open streams for 30 s on SIGTERM and we want nothing of it.
//!
//! Also here: finding the binaries, picking free ports, waiting for health, and reading a
//! process tree's resident memory from `/proc` (the memory figure).

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;

/// Process groups of the children still alive (for the signal handler).
static LIVE_GROUPS: Mutex<Vec<i32>> = Mutex::new(Vec::new());

fn kill_group(pgid: i32) {
    let _ = killpg(Pid::from_raw(pgid), Signal::SIGKILL);
}

/// Kills every registered child group (on SIGINT/SIGTERM/SIGHUP), then exits with 130.
pub fn install_signal_cleanup() -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    std::thread::Builder::new()
        .name("signal-cleanup".into())
        .spawn(move || {
            runtime.block_on(async {
                use tokio::signal::unix::{SignalKind, signal};
                let (Ok(mut int), Ok(mut term), Ok(mut hup)) = (
                    signal(SignalKind::interrupt()),
                    signal(SignalKind::terminate()),
                    signal(SignalKind::hangup()),
                ) else {
                    return;
                };
                tokio::select! {
                    _ = int.recv() => {}
                    _ = term.recv() => {}
                    _ = hup.recv() => {}
                }
                let groups = LIVE_GROUPS.lock().map(|g| g.clone()).unwrap_or_default();
                for pgid in groups {
                    kill_group(pgid);
                }
                eprintln!("clawgate-bench: interrupted; stopped every process it had started");
                std::process::exit(130);
            });
        })?;
    Ok(())
}

/// A child process in its own group, killed (with the group) on drop.
pub struct Spawned {
    pub name: String,
    child: Child,
    lines: Option<mpsc::Receiver<String>>,
}

impl Spawned {
    /// Starts `command` in a new process group. Stdout is kept as lines (readable with
    /// [`Spawned::next_line`]) when `capture_stdout`; otherwise it goes to `log` (or nowhere).
    pub fn start(
        name: &str,
        mut command: Command,
        capture_stdout: bool,
        log: Option<&Path>,
    ) -> anyhow::Result<Self> {
        command.process_group(0).stdin(Stdio::null());
        let (out, err) = match log {
            Some(path) => {
                let file = std::fs::File::create(path)?;
                (Stdio::from(file.try_clone()?), Stdio::from(file))
            }
            None => (Stdio::null(), Stdio::null()),
        };
        command.stderr(err);
        command.stdout(if capture_stdout { Stdio::piped() } else { out });
        let mut child = command
            .spawn()
            .with_context(|| format!("starting {name} ({command:?})"))?;
        if let Ok(mut groups) = LIVE_GROUPS.lock() {
            groups.push(child.id() as i32);
        }
        let lines = match child.stdout.take() {
            Some(stdout) => {
                let (tx, rx) = mpsc::channel();
                // Drain stdout for the life of the child, so it never blocks on a full pipe.
                std::thread::spawn(move || {
                    for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                        let _ = tx.send(line);
                    }
                });
                Some(rx)
            }
            None => None,
        };
        Ok(Self {
            name: name.to_string(),
            child,
            lines,
        })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The next stdout line, waiting at most `timeout`.
    pub fn next_line(&self, timeout: Duration) -> anyhow::Result<String> {
        let Some(rx) = &self.lines else {
            bail!("{}: stdout not captured", self.name)
        };
        rx.recv_timeout(timeout)
            .with_context(|| format!("{}: no output line within {timeout:?}", self.name))
    }

    /// Fails when the process has exited.
    pub fn check_alive(&mut self) -> anyhow::Result<()> {
        if let Some(status) = self.child.try_wait()? {
            bail!("{} exited during the run ({status})", self.name);
        }
        Ok(())
    }

    /// Waits for the process to end by itself (oha) and returns its stdout (captured with
    /// `capture_stdout`), killing it after `timeout`.
    pub fn wait_output(mut self, timeout: Duration) -> anyhow::Result<String> {
        let deadline = Instant::now() + timeout;
        let status = loop {
            if let Some(status) = self.child.try_wait()? {
                break status;
            }
            if Instant::now() > deadline {
                bail!("{} did not finish within {timeout:?}", self.name);
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        if !status.success() {
            bail!("{} failed ({status})", self.name);
        }
        let mut text = String::new();
        if let Some(rx) = &self.lines {
            // The reader thread ends at EOF, which closes the channel.
            while let Ok(line) = rx.recv_timeout(Duration::from_secs(5)) {
                text.push_str(&line);
                text.push('\n');
            }
        }
        Ok(text)
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        let pgid = self.child.id() as i32;
        kill_group(pgid);
        let _ = self.child.wait();
        if let Ok(mut groups) = LIVE_GROUPS.lock() {
            groups.retain(|g| *g != pgid);
        }
    }
}

/// A command, pinned to `cpus` with `taskset -c` when given.
pub fn command(program: &Path, cpus: Option<&str>) -> Command {
    match cpus {
        Some(list) => {
            let mut c = Command::new("taskset");
            c.arg("-c").arg(list).arg(program);
            c
        }
        None => Command::new(program),
    }
}

/// A loopback port that was free a moment ago.
pub fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// One `GET path` on a fresh connection: true on a 2xx status line.
pub fn http_get_ok(port: u16, path: &str) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let _ = stream.set_nodelay(true);
    let head = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    if stream.write_all(head.as_bytes()).is_err() {
        return false;
    }
    let mut buf = [0u8; 16];
    let mut got = 0;
    while got < 12 {
        match stream.read(&mut buf[got..]) {
            Ok(0) | Err(_) => return false,
            Ok(n) => got += n,
        }
    }
    buf.starts_with(b"HTTP/1.1 2") || buf.starts_with(b"HTTP/1.0 2")
}

/// Polls `GET path` every `every` until it answers 2xx; the time from `since` to that answer.
pub fn wait_healthy(
    process: &mut Spawned,
    port: u16,
    path: &str,
    since: Instant,
    every: Duration,
    timeout: Duration,
) -> anyhow::Result<Duration> {
    loop {
        if http_get_ok(port, path) {
            return Ok(since.elapsed());
        }
        process.check_alive()?;
        if since.elapsed() > timeout {
            bail!("{} not healthy within {timeout:?}", process.name);
        }
        std::thread::sleep(every);
    }
}

/// A binary next to this one (same target profile), if it exists.
pub fn sibling_binary(name: &str) -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let candidate = exe.parent()?.join(name);
    candidate.exists().then_some(candidate)
}

/// A program on `PATH` or in `~/.cargo/bin`.
pub fn find_program(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let home_cargo = std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo/bin"));
    std::env::split_paths(&path)
        .chain(home_cargo)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

/// The live tier's directory (`$CLAWGATE_LIVE_DIR`, default `~/.cache/clawgate-live`).
pub fn live_dir() -> PathBuf {
    match std::env::var_os("CLAWGATE_LIVE_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => {
            let home = std::env::var_os("HOME").unwrap_or_default();
            PathBuf::from(home).join(".cache/clawgate-live")
        }
    }
}

fn status_kb(pid: u32, key: &str) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = text.lines().find(|l| l.starts_with(key))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn children_of(pid: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|p| {
            std::fs::read_to_string(format!("/proc/{p}/stat"))
                .ok()
                .and_then(|s| {
                    // Field 4 (ppid) follows the `(comm)` field, which may hold spaces.
                    let rest = s.rsplit_once(')')?.1;
                    rest.split_whitespace().nth(1)?.parse::<u32>().ok()
                })
                == Some(pid)
        })
        .collect()
}

/// VmRSS of `pid` and all its descendants, in KiB (LiteLLM may fork workers).
pub fn tree_rss_kb(pid: u32) -> u64 {
    tree_status_kb(pid, "VmRSS:")
}

/// RssAnon of `pid` and all its descendants, in KiB: the part of the resident set that is the
/// program's own heap and stacks, as opposed to pages of its executable and libraries, which
/// the kernel can drop and read back.
pub fn tree_anon_kb(pid: u32) -> u64 {
    tree_status_kb(pid, "RssAnon:")
}

fn tree_status_kb(pid: u32, key: &str) -> u64 {
    let mut total = status_kb(pid, key).unwrap_or(0);
    for child in children_of(pid) {
        total += tree_status_kb(child, key);
    }
    total
}
