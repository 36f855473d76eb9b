//! The gateway's own token, for a config that names none. OpenClaw's gateway makes one at
//! first start for the same reason: agents that can write files or run commands, and the
//! Control UI, must never be served to whoever can reach the port. It lives in the state dir
//! (`gateway-token`, mode 0600), so every start and every `clawgate dashboard` agree on it.
//! It is created at gateway start (never on the request path) and never written into a config
//! file: clawgate does not write the user's config behind their back.

use std::io::Write;
use std::path::{Path, PathBuf};

/// File name under the state dir.
pub const GATEWAY_TOKEN_FILE: &str = "gateway-token";

pub fn gateway_token_path(state_dir: &Path) -> PathBuf {
    state_dir.join(GATEWAY_TOKEN_FILE)
}

/// The token in `<state_dir>/gateway-token`, made (two v4 UUIDs: 244 random bits, as hex) when the file does
/// not exist. An empty or unreadable file is an error that says what to do; the file is never
/// overwritten, so a token handed out before stays valid.
pub fn load_or_create(state_dir: &Path) -> Result<String, String> {
    let path = gateway_token_path(state_dir);
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            let token = text.trim();
            if token.is_empty() {
                return Err(format!(
                    "{GATEWAY_TOKEN_FILE} in the state directory is empty: delete it and clawgate \
                     makes a new one, or set gateway.auth.token"
                ));
            }
            return Ok(token.to_string());
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(format!("could not read {GATEWAY_TOKEN_FILE}: {e}")),
    }
    let token = new_token();
    write_private(state_dir, &path, &token)
        .map_err(|e| format!("could not create {GATEWAY_TOKEN_FILE}: {e}"))?;
    Ok(token)
}

/// Two v4 UUIDs' random bits (244 of them) as 64 hex digits.
fn new_token() -> String {
    let a = uuid::Uuid::new_v4().simple().to_string();
    let b = uuid::Uuid::new_v4().simple().to_string();
    format!("{a}{b}")
}

/// Writes `token` to `path` readable by the owner only, atomically, and never over a file
/// another process created meanwhile (that one's token wins).
fn write_private(state_dir: &Path, path: &Path, token: &str) -> std::io::Result<()> {
    std::fs::create_dir_all(state_dir)?;
    let mut builder = tempfile::Builder::new();
    builder.prefix(".gateway-token.");
    #[cfg(unix)]
    builder.permissions(private());
    let mut temp = builder.tempfile_in(state_dir)?;
    temp.write_all(token.as_bytes())?;
    temp.write_all(b"\n")?;
    temp.as_file().sync_all()?;
    match temp.persist_noclobber(path) {
        Ok(_) => Ok(()),
        Err(e) if e.error.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e.error),
    }
}

#[cfg(unix)]
fn private() -> std::fs::Permissions {
    use std::os::unix::fs::PermissionsExt;
    std::fs::Permissions::from_mode(0o600)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn made_once_private_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let first = load_or_create(dir.path()).unwrap();
        assert_eq!(first.len(), 64);
        assert!(first.chars().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(load_or_create(dir.path()).unwrap(), first);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(gateway_token_path(dir.path()))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn an_empty_file_is_an_error_not_a_new_token() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(gateway_token_path(dir.path()), "\n").unwrap();
        let error = load_or_create(dir.path()).unwrap_err();
        assert!(error.contains("empty"), "{error}");
        assert_eq!(
            std::fs::read_to_string(gateway_token_path(dir.path())).unwrap(),
            "\n"
        );
    }
}
