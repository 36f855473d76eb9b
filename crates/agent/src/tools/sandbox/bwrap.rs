//! The bubblewrap command line for one sandboxed `exec` (a pure function of the plan, so the
//! argument list is unit-tested without running anything).
//!
//! What the command sees:
//! - a fresh root with only the system folders bound read-only (`/usr`, `/etc`, `/opt`, the
//!   `/bin`-style links…): no home folders, no state dir, nothing else of the host;
//! - the workspace bound read-write at its own path (the working directory);
//! - a private, empty `/tmp` and `/var/tmp`, a minimal `/dev`, a fresh `/proc`;
//! - new PID, IPC, UTS and (unless the agent's config allows network) network namespaces,
//!   a new session (`setsid`, so it cannot reach the caller's terminal), and death with its
//!   parent, so killing `bwrap` takes the whole PID namespace down;
//! - `RLIMIT_NPROC` (`pidsLimit`) set through `prlimit`, so a fork bomb runs out of processes.
//!
//! The kernel ignores `RLIMIT_NPROC` for uid 0. When clawgate itself runs as root (CI
//! containers), the sandbox therefore runs the command as `nobody` (uid 65534) through
//! `setpriv`, keeping only `CAP_DAC_OVERRIDE` and `CAP_FOWNER` so the root-owned workspace stays
//! writable; no user namespace is created then (a namespace mapping only uid 0 could not switch
//! to `nobody`). As any other user, bubblewrap runs unprivileged in a new user namespace with
//! every capability dropped.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// System folders exposed read-only (when they exist); everything else of the host is absent.
pub const SYSTEM_PATHS: &[&str] = &[
    "/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc", "/opt", "/nix",
];

/// The uid/gid the command runs as when clawgate runs as root.
pub const NOBODY: u32 = 65534;

/// Everything that decides the argument list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BwrapPlan {
    pub workspace: PathBuf,
    pub network: bool,
    pub pids_limit: u32,
    /// clawgate runs as uid 0 (see the module header).
    pub as_root: bool,
    /// System folders to expose: `(path, Some(link target))` for symlinks such as
    /// `/bin -> usr/bin`, `(path, None)` for folders bound read-only.
    pub system: Vec<(PathBuf, Option<PathBuf>)>,
    /// Extra files to bind read-only at their own path (the real `resolv.conf` when
    /// `/etc/resolv.conf` is a link into `/run` and network is allowed).
    pub extra_ro: Vec<PathBuf>,
}

impl BwrapPlan {
    /// A plan for this host: which system folders exist and which are links.
    pub fn for_host(workspace: &Path, network: bool, pids_limit: u32, as_root: bool) -> Self {
        let mut system = Vec::new();
        for p in SYSTEM_PATHS {
            let path = Path::new(p);
            match std::fs::symlink_metadata(path) {
                Ok(m) if m.file_type().is_symlink() => {
                    if let Ok(target) = std::fs::read_link(path) {
                        system.push((path.to_path_buf(), Some(target)));
                    }
                }
                Ok(m) if m.is_dir() => system.push((path.to_path_buf(), None)),
                _ => {}
            }
        }
        let mut extra_ro = Vec::new();
        if network {
            // systemd-resolved hosts link resolv.conf into /run, which the sandbox lacks.
            let resolv = Path::new("/etc/resolv.conf");
            if let Ok(real) = std::fs::canonicalize(resolv)
                && !real.starts_with("/etc")
                && !SYSTEM_PATHS.iter().any(|s| real.starts_with(s))
            {
                extra_ro.push(real);
            }
        }
        BwrapPlan {
            workspace: workspace.to_path_buf(),
            network,
            pids_limit,
            as_root,
            system,
            extra_ro,
        }
    }

    /// Arguments for `bwrap` that run `sh -c command` inside.
    pub fn args(&self, command: &str) -> Vec<OsString> {
        let mut a: Vec<OsString> = Vec::new();
        let mut push = |items: &[&str]| a.extend(items.iter().map(OsString::from));
        push(&["--new-session", "--die-with-parent"]);
        if self.as_root {
            // No user namespace (see the module header); every other namespace.
            push(&[
                "--unshare-ipc",
                "--unshare-pid",
                "--unshare-uts",
                "--unshare-cgroup-try",
            ]);
            if !self.network {
                push(&["--unshare-net"]);
            }
        } else {
            push(&["--unshare-all"]);
            if self.network {
                push(&["--share-net"]);
            }
            push(&["--cap-drop", "ALL"]);
        }
        for (path, link) in &self.system {
            match link {
                Some(target) => {
                    a.push("--symlink".into());
                    a.push(target.into());
                    a.push(path.into());
                }
                None => {
                    a.push("--ro-bind".into());
                    a.push(path.into());
                    a.push(path.into());
                }
            }
        }
        for file in &self.extra_ro {
            a.push("--ro-bind".into());
            a.push(file.into());
            a.push(file.into());
        }
        let mut push = |items: &[&str]| a.extend(items.iter().map(OsString::from));
        push(&[
            "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp", "--dir", "/var", "--tmpfs",
            "/var/tmp",
        ]);
        a.push("--bind".into());
        a.push(self.workspace.as_os_str().into());
        a.push(self.workspace.as_os_str().into());
        a.push("--chdir".into());
        a.push(self.workspace.as_os_str().into());
        a.push("--".into());
        if self.as_root {
            let keep = "+dac_override,+fowner";
            for s in [
                "setpriv".to_string(),
                format!("--reuid={NOBODY}"),
                format!("--regid={NOBODY}"),
                "--clear-groups".to_string(),
                format!("--inh-caps=-all,{keep}"),
                format!("--ambient-caps=-all,{keep}"),
                format!("--bounding-set=-all,{keep}"),
                "--no-new-privs".to_string(),
                "--".to_string(),
            ] {
                a.push(s.into());
            }
        }
        a.push("prlimit".into());
        a.push(format!("--nproc={}", self.pids_limit).into());
        a.push("--core=0".into());
        a.push("--".into());
        a.push("sh".into());
        a.push("-c".into());
        a.push(command.into());
        a
    }

    /// `PATH` inside the sandbox: the host's entries that the sandbox can see.
    pub fn path_env(&self, host_path: Option<&std::ffi::OsStr>) -> OsString {
        let visible = |dir: &Path| {
            dir.is_absolute()
                && (self.system.iter().any(|(p, _)| dir.starts_with(p))
                    || dir.starts_with(&self.workspace))
        };
        let kept: Vec<PathBuf> = host_path
            .map(|p| std::env::split_paths(p).filter(|d| visible(d)).collect())
            .unwrap_or_default();
        if kept.is_empty() {
            return "/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin".into();
        }
        std::env::join_paths(kept).unwrap_or_else(|_| "/usr/bin:/bin".into())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn plan(as_root: bool, network: bool) -> BwrapPlan {
        BwrapPlan {
            workspace: "/w/ws".into(),
            network,
            pids_limit: 64,
            as_root,
            system: vec![
                ("/usr".into(), None),
                ("/bin".into(), Some("usr/bin".into())),
            ],
            extra_ro: Vec::new(),
        }
    }

    fn strings(args: Vec<OsString>) -> Vec<String> {
        args.into_iter().map(|a| a.into_string().unwrap()).collect()
    }

    #[test]
    fn unprivileged_plan_unshares_everything_and_drops_caps() {
        let a = strings(plan(false, false).args("echo hi"));
        let joined = a.join(" ");
        assert!(joined.starts_with("--new-session --die-with-parent --unshare-all --cap-drop ALL"));
        assert!(!a.contains(&"--share-net".to_string()));
        assert!(joined.contains("--ro-bind /usr /usr --symlink usr/bin /bin"));
        assert!(joined.contains("--tmpfs /tmp"));
        assert!(joined.contains("--bind /w/ws /w/ws --chdir /w/ws --"));
        assert!(joined.ends_with("-- prlimit --nproc=64 --core=0 -- sh -c echo hi"));
        assert!(!joined.contains("setpriv"));
    }

    #[test]
    fn network_is_shared_only_when_allowed() {
        let a = strings(plan(false, true).args("x"));
        assert!(a.contains(&"--share-net".to_string()));
        let root_off = strings(plan(true, false).args("x"));
        assert!(root_off.contains(&"--unshare-net".to_string()));
        let root_on = strings(plan(true, true).args("x"));
        assert!(!root_on.contains(&"--unshare-net".to_string()));
    }

    #[test]
    fn root_plan_switches_to_nobody_without_a_user_namespace() {
        let a = strings(plan(true, false).args("id"));
        assert!(
            !a.iter()
                .any(|s| s.starts_with("--unshare-all") || s == "--unshare-user")
        );
        let joined = a.join(" ");
        assert!(joined.contains("setpriv --reuid=65534 --regid=65534 --clear-groups"));
        assert!(joined.contains("--no-new-privs -- prlimit --nproc=64"));
    }

    #[test]
    fn path_keeps_only_visible_entries() {
        let p = plan(false, false);
        let path = p.path_env(Some(std::ffi::OsStr::new(
            "/root/.cargo/bin:/usr/local/bin:/bin:/w/ws/bin:relative",
        )));
        assert_eq!(path, OsString::from("/usr/local/bin:/bin:/w/ws/bin"));
        let fallback = p.path_env(Some(std::ffi::OsStr::new("/home/me/bin")));
        assert!(fallback.to_string_lossy().contains("/usr/bin"));
    }
}
