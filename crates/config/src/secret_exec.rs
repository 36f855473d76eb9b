//! Running a `source: "exec"` secret provider the way OpenClaw does, once per provider at load
//! (never on a request): the command must be an absolute path to a regular file that is not a
//! symlink, owned by the user clawgate runs as, not writable by group or others, and inside
//! `trustedDirs` when those are given. It runs in its own directory with an empty environment
//! plus `passEnv` (taken from the loader's environment) and `env`, reads
//! `{"protocolVersion":1,"provider":"<alias>","ids":[…]}` on stdin and prints
//! `{"protocolVersion":1,"values":{"<id>":"<secret>"},"errors":{…}}`; with `jsonOnly: false` and
//! a single id, plain text is the value. `timeoutMs` (default 5 s) bounds the whole run,
//! `noOutputTimeoutMs` (default: `timeoutMs`) a silence on stdout, `maxOutputBytes` (default
//! 1 MiB) the output; the process group is killed when one is exceeded. stderr is discarded and
//! stdout is never quoted in a message, so a secret cannot reach a log.
//!
//! Hand-written on `std::process` plus `wait-timeout`: the config crate is synchronous, and a
//! reader thread with `recv_timeout` is all the two deadlines need.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use wait_timeout::ChildExt;

use crate::env::EnvVars;
use crate::schema::secrets::ExecSecretProvider;
use crate::secret_file::expand_home;

const DEFAULT_TIMEOUT_MS: u64 = 5_000;
const DEFAULT_MAX_OUTPUT_BYTES: u64 = 1024 * 1024;
/// OpenClaw's cap on the request written to stdin.
const MAX_REQUEST_BYTES: usize = 262_144;

/// What one run returned: values and per-id errors (the provider's own `errors` map, reduced
/// to OpenClaw's safe codes).
#[derive(Debug, Default)]
pub struct ExecValues {
    pub values: BTreeMap<String, serde_json::Value>,
    pub errors: BTreeMap<String, String>,
}

/// Runs the provider for `ids` and parses its answer. The error names the provider and what
/// went wrong, never the output.
pub fn run_exec_provider(
    alias: &str,
    provider: &ExecSecretProvider,
    ids: &[String],
    env: &EnvVars,
    home: Option<&Path>,
) -> Result<ExecValues, String> {
    let command = expand_home(&provider.command, home);
    check_command(&command, &provider.trusted_dirs, home)?;
    let request = serde_json::json!({"protocolVersion": 1, "provider": alias, "ids": ids});
    let request = request.to_string();
    if request.len() > MAX_REQUEST_BYTES {
        return Err(format!(
            "exec provider \"{alias}\": the request exceeds {MAX_REQUEST_BYTES} bytes"
        ));
    }
    let mut cmd = Command::new(&command);
    cmd.args(&provider.args)
        .env_clear()
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    if let Some(dir) = command.parent() {
        cmd.current_dir(dir);
    }
    for name in &provider.pass_env {
        if let Some(value) = env.get(name) {
            cmd.env(name, value);
        }
    }
    cmd.envs(&provider.env);
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
    let mut child = cmd.spawn().map_err(|e| {
        format!(
            "exec provider \"{alias}\": cannot run {}: {e}",
            command.display()
        )
    })?;
    let limits = Limits {
        total: Duration::from_millis(provider.timeout_ms.unwrap_or(DEFAULT_TIMEOUT_MS)),
        idle: Duration::from_millis(
            provider
                .no_output_timeout_ms
                .or(provider.timeout_ms)
                .unwrap_or(DEFAULT_TIMEOUT_MS),
        ),
        max_output: provider
            .max_output_bytes
            .unwrap_or(DEFAULT_MAX_OUTPUT_BYTES) as usize,
    };
    let stdout = collect_output(&mut child, request, &limits).map_err(|e| {
        kill(&mut child);
        format!("exec provider \"{alias}\" {e}")
    })?;
    parse_values(alias, ids, &stdout, provider.json_only)
}

struct Limits {
    total: Duration,
    idle: Duration,
    max_output: usize,
}

fn kill(child: &mut Child) {
    #[cfg(unix)]
    if let Ok(pid) = i32::try_from(child.id()) {
        let _ = nix::sys::signal::killpg(
            nix::unistd::Pid::from_raw(pid),
            nix::sys::signal::Signal::SIGKILL,
        );
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// Feeds stdin, gathers stdout within the limits and waits for a zero exit.
fn collect_output(child: &mut Child, request: String, limits: &Limits) -> Result<String, String> {
    let started = Instant::now();
    if let Some(mut stdin) = child.stdin.take() {
        // A command that never reads its input must not block the load.
        std::thread::spawn(move || {
            let _ = stdin.write_all(request.as_bytes());
        });
    }
    let Some(mut stdout) = child.stdout.take() else {
        return Err("has no stdout".to_string());
    };
    let (sender, chunks) = mpsc::channel::<Vec<u8>>();
    std::thread::spawn(move || {
        let mut buf = [0u8; 8192];
        while let Ok(n) = stdout.read(&mut buf) {
            if n == 0 || sender.send(buf[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    let mut out = Vec::new();
    let mut last_output = started;
    loop {
        let now = Instant::now();
        let total_left = limits.total.saturating_sub(now - started);
        let idle_left = limits.idle.saturating_sub(now - last_output);
        match chunks.recv_timeout(total_left.min(idle_left)) {
            Ok(chunk) => {
                out.extend_from_slice(&chunk);
                last_output = Instant::now();
                if out.len() > limits.max_output {
                    return Err(format!(
                        "printed more than maxOutputBytes ({})",
                        limits.max_output
                    ));
                }
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
            Err(mpsc::RecvTimeoutError::Timeout) if total_left <= idle_left => {
                return Err(format!("timed out after {}ms", limits.total.as_millis()));
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                return Err(format!(
                    "produced no output for {}ms",
                    limits.idle.as_millis()
                ));
            }
        }
    }
    let left = limits.total.saturating_sub(started.elapsed());
    let status = match child.wait_timeout(left) {
        Ok(Some(status)) => status,
        Ok(None) => return Err(format!("timed out after {}ms", limits.total.as_millis())),
        Err(e) => return Err(format!("could not be waited for: {e}")),
    };
    if !status.success() {
        let code = status
            .code()
            .map_or_else(|| "a signal".to_string(), |c| c.to_string());
        return Err(format!("exited with code {code}"));
    }
    String::from_utf8(out).map_err(|_| "printed output that is not UTF-8".to_string())
}

/// OpenClaw's command-path rules.
fn check_command(command: &Path, trusted: &[PathBuf], home: Option<&Path>) -> Result<(), String> {
    let shown = command.display();
    if !command.is_absolute() {
        return Err(format!("command {shown} must be an absolute path"));
    }
    let meta = std::fs::symlink_metadata(command)
        .map_err(|e| format!("command {shown} is not readable: {e}"))?;
    if meta.file_type().is_symlink() {
        return Err(format!("command {shown} must not be a symlink"));
    }
    if !meta.is_file() {
        return Err(format!("command {shown} must be a file"));
    }
    if !trusted.is_empty()
        && !trusted
            .iter()
            .any(|dir| command.starts_with(expand_home(dir, home)))
    {
        return Err(format!("command {shown} is outside trustedDirs"));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if meta.mode() & 0o022 != 0 {
            return Err(format!(
                "command {shown} permissions are too open (writable by group or others)"
            ));
        }
        let uid = nix::unistd::geteuid().as_raw();
        if meta.uid() != uid {
            return Err(format!(
                "command {shown} must be owned by the user clawgate runs as (uid {uid})"
            ));
        }
    }
    Ok(())
}

/// The codes a provider may report per id that OpenClaw passes on.
fn safe_code(entry: &serde_json::Value) -> Option<&'static str> {
    match entry.get("code").and_then(serde_json::Value::as_str) {
        Some("NOT_FOUND") => Some("NOT_FOUND"),
        Some("AMBIGUOUS_DUPLICATE_KEY") => Some("AMBIGUOUS_DUPLICATE_KEY"),
        _ => None,
    }
}

fn parse_values(
    alias: &str,
    ids: &[String],
    stdout: &str,
    json_only: bool,
) -> Result<ExecValues, String> {
    let trimmed = stdout.trim();
    if trimmed.is_empty() {
        return Err(format!("exec provider \"{alias}\" returned empty stdout"));
    }
    let single = (!json_only && ids.len() == 1).then(|| ids[0].clone());
    let parsed: serde_json::Value = match (serde_json::from_str(trimmed), &single) {
        (Ok(v), _) => v,
        (Err(_), Some(id)) => {
            let mut out = ExecValues::default();
            out.values.insert(id.clone(), trimmed.into());
            return Ok(out);
        }
        (Err(_), None) => return Err(format!("exec provider \"{alias}\" returned invalid JSON")),
    };
    let obj = match (parsed, &single) {
        (serde_json::Value::Object(obj), _) => obj,
        (serde_json::Value::String(s), Some(id)) => {
            let mut out = ExecValues::default();
            out.values.insert(id.clone(), s.into());
            return Ok(out);
        }
        _ => {
            return Err(format!(
                "exec provider \"{alias}\" response must be an object"
            ));
        }
    };
    if obj
        .get("protocolVersion")
        .and_then(serde_json::Value::as_u64)
        != Some(1)
    {
        return Err(format!(
            "exec provider \"{alias}\" protocolVersion must be 1"
        ));
    }
    let Some(values) = obj.get("values").and_then(serde_json::Value::as_object) else {
        return Err(format!(
            "exec provider \"{alias}\" response missing \"values\""
        ));
    };
    let errors = obj.get("errors").and_then(serde_json::Value::as_object);
    let mut out = ExecValues::default();
    for id in ids {
        if let Some(entry) = errors.and_then(|e| e.get(id)) {
            let code = safe_code(entry).map_or_else(String::new, |c| format!(" ({c})"));
            out.errors.insert(
                id.clone(),
                format!("exec provider \"{alias}\" failed for id \"{id}\"{code}"),
            );
        } else if let Some(value) = values.get(id) {
            out.values.insert(id.clone(), value.clone());
        } else {
            out.errors.insert(
                id.clone(),
                format!("exec provider \"{alias}\" response missing id \"{id}\""),
            );
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_protocol_and_plain_text() {
        let ids = vec!["a".to_string(), "b".to_string()];
        let out = parse_values(
            "v",
            &ids,
            r#"{"protocolVersion":1,"values":{"a":"sk-1"},"errors":{"b":{"code":"NOT_FOUND","message":"x"}}}"#,
            true,
        )
        .unwrap();
        assert_eq!(out.values["a"], "sk-1");
        assert_eq!(
            out.errors["b"],
            "exec provider \"v\" failed for id \"b\" (NOT_FOUND)"
        );
        let one = vec!["k".to_string()];
        let plain = parse_values("v", &one, "sk-plain\n", false).unwrap();
        assert_eq!(plain.values["k"], "sk-plain");
        let err = parse_values("v", &one, "sk-plain", true).unwrap_err();
        assert_eq!(err, "exec provider \"v\" returned invalid JSON");
        let err =
            parse_values("v", &one, r#"{"protocolVersion":2,"values":{}}"#, true).unwrap_err();
        assert!(err.contains("protocolVersion must be 1"), "{err}");
    }
}
