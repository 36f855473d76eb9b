//! The `exec` sandbox: what a running command can touch. (Whether a command may run at all is
//! decided before, by the tool policy and the exec approvals; see `exec_approval`.)
//!
//! On Linux commands run under bubblewrap (`bwrap`, see [`bwrap`] for the exact view). The
//! sandbox is on by default; where it cannot run (no `bwrap`, a kernel or container that forbids
//! the namespaces it needs, another OS) `exec` is refused with a message saying how to install
//! it or how to opt out. Opting out is explicit only: OpenClaw's `sandbox.mode: "off"` (or
//! `"non-main"`, which leaves the main session unsandboxed). macOS `sandbox-exec` may come later.
//!
//! Whether bubblewrap works here is learnt once per (binary, network, uid) by running `true`
//! through the same wrappers; the answer is cached for the process.

pub mod bwrap;

use std::collections::HashMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Mutex, OnceLock};

pub use bwrap::BwrapPlan;

/// OpenClaw's `agents.defaults.sandbox.mode` / `agents.list[].sandbox.mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SandboxMode {
    /// Never sandbox: commands run with clawgate's own rights (explicit opt-out).
    Off,
    /// Sandbox every session except the agent's main one.
    NonMain,
    /// Sandbox every session (clawgate's default; OpenClaw's default is `off`).
    #[default]
    All,
}

impl SandboxMode {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "off" => Some(SandboxMode::Off),
            "non-main" => Some(SandboxMode::NonMain),
            "all" => Some(SandboxMode::All),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SandboxMode::Off => "off",
            SandboxMode::NonMain => "non-main",
            SandboxMode::All => "all",
        }
    }

    /// Whether a command of this session runs sandboxed.
    pub fn applies(self, main_session: bool) -> bool {
        match self {
            SandboxMode::Off => false,
            SandboxMode::NonMain => !main_session,
            SandboxMode::All => true,
        }
    }
}

/// How `exec` is sandboxed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SandboxSettings {
    pub mode: SandboxMode,
    /// Network inside the sandbox (`sandbox.docker.network` other than `"none"`).
    pub network: bool,
    /// `RLIMIT_NPROC` inside the sandbox (`sandbox.docker.pidsLimit`).
    pub pids_limit: u32,
    /// The `bwrap` binary; `None` looks it up in `PATH`.
    pub bwrap: Option<PathBuf>,
}

impl Default for SandboxSettings {
    fn default() -> Self {
        SandboxSettings {
            mode: SandboxMode::All,
            network: false,
            pids_limit: 256,
            bwrap: None,
        }
    }
}

/// The config key that opts out, for messages.
pub const OPT_OUT_HINT: &str = "set agents.defaults.sandbox.mode (or the agent's sandbox.mode) \
     to \"off\" to run commands without a sandbox, with clawgate's own rights";

/// A `bwrap` command line ready to spawn (with `process_group` and stdio still to set). The
/// host is looked at (which system folders exist) on the blocking pool.
pub async fn sandboxed_command(
    settings: &SandboxSettings,
    workspace: &Path,
    command: &str,
    bwrap: &Path,
) -> tokio::process::Command {
    let (ws, network, pids) = (
        workspace.to_path_buf(),
        settings.network,
        settings.pids_limit,
    );
    let plan =
        tokio::task::spawn_blocking(move || BwrapPlan::for_host(&ws, network, pids, is_root()))
            .await
            .unwrap_or_else(|_| BwrapPlan::for_host(workspace, network, pids, is_root()));
    let mut cmd = tokio::process::Command::new(bwrap);
    cmd.args(plan.args(command));
    cmd.env_clear();
    for (key, value) in sandbox_env(&plan) {
        cmd.env(key, value);
    }
    cmd
}

/// The environment inside: no secrets from clawgate's environment (API keys, tokens), only a
/// `PATH` the sandbox can use, a `HOME` in the private `/tmp`, and the locale.
fn sandbox_env(plan: &BwrapPlan) -> Vec<(OsString, OsString)> {
    let mut env: Vec<(OsString, OsString)> = vec![
        (
            "PATH".into(),
            plan.path_env(std::env::var_os("PATH").as_deref()),
        ),
        ("HOME".into(), "/tmp".into()),
        ("TMPDIR".into(), "/tmp".into()),
        ("TERM".into(), "dumb".into()),
    ];
    for key in ["LANG", "LC_ALL", "LC_CTYPE"] {
        if let Some(v) = std::env::var_os(key) {
            env.push((key.into(), v));
        }
    }
    env
}

fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// Finds `bwrap` and checks once that it can start a sandbox here. `Err` is the message the
/// model (and the user) get: what is wrong and how to fix it or opt out.
pub async fn ready(settings: &SandboxSettings, workspace: &Path) -> Result<PathBuf, String> {
    if !cfg!(target_os = "linux") {
        return Err(format!(
            "exec is unavailable: clawgate sandboxes commands with bubblewrap, which exists on \
             Linux only (macOS sandbox-exec support may come later); {OPT_OUT_HINT}"
        ));
    }
    let configured = settings.bwrap.clone();
    let found = tokio::task::spawn_blocking(move || find_bwrap(configured.as_deref()))
        .await
        .ok()
        .flatten();
    let Some(bwrap) = found else {
        return Err(format!(
            "exec is unavailable: the sandbox needs bubblewrap (`bwrap`), which is not \
             installed. Install it (Debian/Ubuntu: `apt install bubblewrap`, Fedora: `dnf install \
             bubblewrap`, Arch: `pacman -S bubblewrap`), or {OPT_OUT_HINT}"
        ));
    };
    let key = (bwrap.clone(), settings.network, is_root());
    if let Some(known) = probe_cache().lock().ok().and_then(|c| c.get(&key).cloned()) {
        return known.map(|()| bwrap);
    }
    let outcome = probe(settings, workspace, &bwrap).await;
    if let Ok(mut cache) = probe_cache().lock() {
        cache.insert(key, outcome.clone());
    }
    outcome.map(|()| bwrap)
}

type ProbeKey = (PathBuf, bool, bool);

fn probe_cache() -> &'static Mutex<HashMap<ProbeKey, Result<(), String>>> {
    static CACHE: OnceLock<Mutex<HashMap<ProbeKey, Result<(), String>>>> = OnceLock::new();
    CACHE.get_or_init(|| Mutex::new(HashMap::new()))
}

async fn probe(settings: &SandboxSettings, workspace: &Path, bwrap: &Path) -> Result<(), String> {
    let mut cmd = sandboxed_command(settings, workspace, "exit 0", bwrap).await;
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let output = match cmd.output().await {
        Ok(o) => o,
        Err(e) => return Err(format!("exec is unavailable: could not start bwrap: {e}")),
    };
    if output.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    let detail = stderr.trim();
    let detail = if detail.is_empty() {
        format!("exit status {}", output.status)
    } else {
        detail.chars().take(400).collect()
    };
    Err(format!(
        "exec is unavailable: bubblewrap is installed but cannot start a sandbox here ({detail}). \
         It needs user namespaces (or root): check `sysctl kernel.unprivileged_userns_clone` \
         and, on Ubuntu 24.04+, `kernel.apparmor_restrict_unprivileged_userns`; in Docker give \
         the container `--cap-add SYS_ADMIN --security-opt seccomp=unconfined --security-opt \
         apparmor=unconfined`; it also needs `setpriv` and `prlimit` (util-linux). Or \
         {OPT_OUT_HINT}"
    ))
}

fn find_bwrap(configured: Option<&Path>) -> Option<PathBuf> {
    if let Some(p) = configured {
        return p.is_file().then(|| p.to_path_buf());
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join("bwrap"))
        .find(|candidate| candidate.is_file())
}
