//! Reading a `source: "file"` secret provider's file with OpenClaw's safety rules: an absolute
//! path (`~/` expands to the home directory), a regular file that is not a symlink and not
//! hard-linked, owned by the user clawgate runs as, readable and writable by that user only
//! (mode `0600` or stricter), and no larger than `maxBytes` (default 1 MiB). A file that
//! breaks a rule is refused with the rule it broke; its content never appears in a message.
//! A local regular file cannot block, so OpenClaw's `timeoutMs` has nothing to bound here (the
//! schema lists it as ignored).

use std::io::Read;
use std::path::{Path, PathBuf};

use crate::schema::secrets::FileSecretMode;

/// OpenClaw's default `maxBytes`.
pub const DEFAULT_MAX_BYTES: u64 = 1024 * 1024;

/// `~/x` → `<home>/x`; anything else as written.
pub fn expand_home(path: &Path, home: Option<&Path>) -> PathBuf {
    match (path.strip_prefix("~"), home) {
        (Ok(rest), Some(home)) => home.join(rest),
        _ => path.to_path_buf(),
    }
}

/// What a file provider holds: one value (`singleValue`) or a JSON object (`json`).
#[derive(Debug, Clone)]
pub enum FilePayload {
    Single(String),
    Json(serde_json::Value),
}

/// Checks the file and reads it. The error is a sentence naming the file and the broken rule.
pub fn read_secret_file(
    path: &Path,
    mode: FileSecretMode,
    max_bytes: u64,
) -> Result<FilePayload, String> {
    if !path.is_absolute() {
        return Err(format!("{} must be an absolute path", path.display()));
    }
    let meta = std::fs::symlink_metadata(path)
        .map_err(|e| format!("{} is not readable: {e}", path.display()))?;
    if meta.file_type().is_symlink() {
        return Err(format!("{} must not be a symlink", path.display()));
    }
    if !meta.is_file() {
        return Err(format!("{} must be a regular file", path.display()));
    }
    check_owner_and_mode(path, &meta)?;
    if meta.len() > max_bytes {
        return Err(format!(
            "{} is larger than maxBytes ({max_bytes})",
            path.display()
        ));
    }
    let mut text = String::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(max_bytes + 1).read_to_string(&mut text))
        .map_err(|e| format!("{} is not readable as UTF-8 text: {e}", path.display()))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    match mode {
        FileSecretMode::SingleValue => {
            let value = text
                .strip_suffix("\r\n")
                .or_else(|| text.strip_suffix('\n'))
                .unwrap_or(text);
            Ok(FilePayload::Single(value.to_string()))
        }
        FileSecretMode::Json => match serde_json::from_str::<serde_json::Value>(text) {
            Ok(value @ serde_json::Value::Object(_)) => Ok(FilePayload::Json(value)),
            Ok(_) => Err(format!("{} does not hold a JSON object", path.display())),
            // The parser's message can quote the file's text: say only where it failed.
            Err(e) => Err(format!(
                "{} is not valid JSON (line {}, column {})",
                path.display(),
                e.line(),
                e.column()
            )),
        },
    }
}

#[cfg(unix)]
fn check_owner_and_mode(path: &Path, meta: &std::fs::Metadata) -> Result<(), String> {
    use std::os::unix::fs::MetadataExt;
    if meta.nlink() > 1 {
        return Err(format!("{} must not be hard-linked", path.display()));
    }
    let uid = nix::unistd::geteuid().as_raw();
    if meta.uid() != uid {
        return Err(format!(
            "{} must be owned by the user clawgate runs as (uid {uid})",
            path.display()
        ));
    }
    if meta.mode() & 0o077 != 0 {
        return Err(format!(
            "{} permissions are too open (mode {:o}); chmod 600 it",
            path.display(),
            meta.mode() & 0o777
        ));
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_owner_and_mode(_path: &Path, _meta: &std::fs::Metadata) -> Result<(), String> {
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn write(dir: &Path, name: &str, text: &str, mode: u32) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
        p
    }

    #[test]
    fn reads_json_and_single_values() {
        let dir = tempfile::tempdir().unwrap();
        let json = write(dir.path(), "s.json", "{\"a\":{\"b\":\"v\"}}", 0o600);
        match read_secret_file(&json, FileSecretMode::Json, DEFAULT_MAX_BYTES).unwrap() {
            FilePayload::Json(v) => assert_eq!(v.pointer("/a/b").unwrap(), "v"),
            other => panic!("{other:?}"),
        }
        let single = write(dir.path(), "k", "sk-secret\n", 0o400);
        match read_secret_file(&single, FileSecretMode::SingleValue, DEFAULT_MAX_BYTES).unwrap() {
            FilePayload::Single(v) => assert_eq!(v, "sk-secret"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn refuses_open_permissions_symlinks_and_big_files() {
        let dir = tempfile::tempdir().unwrap();
        let open = write(dir.path(), "open", "x", 0o644);
        let err = read_secret_file(&open, FileSecretMode::SingleValue, 10).unwrap_err();
        assert!(err.contains("too open (mode 644)"), "{err}");
        let ok = write(dir.path(), "ok", "0123456789abc", 0o600);
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&ok, &link).unwrap();
        let err = read_secret_file(&link, FileSecretMode::SingleValue, 100).unwrap_err();
        assert!(err.contains("must not be a symlink"), "{err}");
        let err = read_secret_file(&ok, FileSecretMode::SingleValue, 5).unwrap_err();
        assert!(err.contains("larger than maxBytes (5)"), "{err}");
        let bad = write(dir.path(), "bad.json", "{\"k\": \"sk-leak\"", 0o600);
        let err = read_secret_file(&bad, FileSecretMode::Json, 100).unwrap_err();
        assert!(
            err.contains("not valid JSON") && !err.contains("sk-leak"),
            "{err}"
        );
    }
}
