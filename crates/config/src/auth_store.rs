//! Reading OpenClaw's auth-profile store (where an OpenClaw user's hosted keys live), read-only,
//! at load. The layouts, as OpenClaw's source has them:
//!
//! * 2026.8 and later: the shared store is in the state database
//!   `<state>/state/openclaw.sqlite`, table `config_machine_state`, key `authProfiles.store`
//!   (JSON `{version, profiles}`), with `authProfiles.state` (`order`, usage) beside it, when
//!   the key `auth.sharedStore` says `{"location":"state-db"}`;
//! * otherwise (2026.6–2026.7, and 2026.8+ installs that kept it there) the shared store is the
//!   main agent's database `<main agent dir>/openclaw-agent.sqlite`, tables
//!   `auth_profile_store` / `auth_profile_state`, row `primary`;
//! * each agent may have its own `<state>/agents/<id>/agent/openclaw-agent.sqlite` with the same
//!   tables; its profiles and per-provider `order` win over the shared store's;
//! * up to 2026.5: `<main agent dir>/auth-profiles.json` and `<state>/agents/<id>/agent/
//!   auth-profiles.json` (same JSON shape), with `auth-state.json` beside each for the `order`
//!   override, read only when no database holds a profile (current OpenClaw ignores these
//!   files once migrated).
//!
//! The main agent dir is `$OPENCLAW_AGENT_DIR`, else `<state>/agents/main/agent`. Databases are
//! opened read-only with a busy timeout (OpenClaw may be running and writing): a database with a
//! live `-wal` file is read through SQLite's normal read-only WAL protocol (it uses the `-shm`
//! index OpenClaw keeps); one without is opened `immutable`, so reading creates no file.
//! `rusqlite` with its bundled SQLite: no system library needed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, OptionalExtension};
use serde_json::Value;

use crate::refs::normalize_provider_id;

/// How long a read waits for OpenClaw's writer (OpenClaw's own readers wait similarly).
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// OpenClaw's id for the shared main agent.
pub const MAIN_AGENT_ID: &str = "main";

/// The credential types OpenClaw stores.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialKind {
    ApiKey,
    Token,
    OAuth,
}

impl CredentialKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ApiKey => "api_key",
            Self::Token => "token",
            Self::OAuth => "oauth",
        }
    }
}

/// One stored profile: its secret (key, token or OAuth access token) and expiry.
#[derive(Clone, PartialEq)]
pub struct StoredCredential {
    pub id: String,
    /// Normalised provider id.
    pub provider: String,
    pub kind: CredentialKind,
    /// `None` when the profile has no usable secret (why: `problem`).
    pub secret: Option<String>,
    /// Epoch ms; tokens and OAuth access tokens may expire.
    pub expires: Option<Value>,
    /// Why the secret is missing (e.g. a secret ref clawgate does not follow).
    pub problem: Option<String>,
}

/// Never prints the secret.
impl std::fmt::Debug for StoredCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredCredential")
            .field("id", &self.id)
            .field("provider", &self.provider)
            .field("kind", &self.kind)
            .field("has_secret", &self.secret.is_some())
            .field("expires", &self.expires)
            .finish()
    }
}

/// The merged store one agent sees.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AuthStore {
    /// In store order (shared first, the agent's own after; an agent profile replaces a shared
    /// one with the same id in place).
    pub profiles: Vec<StoredCredential>,
    /// Per provider (normalised): `models auth order set`'s override.
    pub order: BTreeMap<String, Vec<String>>,
    /// The files the profiles came from.
    pub sources: Vec<PathBuf>,
}

impl AuthStore {
    pub fn profile(&self, id: &str) -> Option<&StoredCredential> {
        self.profiles.iter().find(|p| p.id == id)
    }

    fn merge(&mut self, other: AuthStore) {
        for p in other.profiles {
            match self.profiles.iter_mut().find(|q| q.id == p.id) {
                Some(q) => *q = p,
                None => self.profiles.push(p),
            }
        }
        self.order.extend(other.order);
        self.sources.extend(other.sources);
    }
}

/// Where OpenClaw keeps its state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenClawDirs {
    /// `$OPENCLAW_STATE_DIR`, else `~/.openclaw`.
    pub state_dir: PathBuf,
    /// `$OPENCLAW_AGENT_DIR`, else `<state>/agents/main/agent`.
    pub main_agent_dir: PathBuf,
}

impl OpenClawDirs {
    pub fn agent_dir(&self, agent_id: &str) -> PathBuf {
        if agent_id == MAIN_AGENT_ID {
            return self.main_agent_dir.clone();
        }
        self.state_dir.join("agents").join(agent_id).join("agent")
    }

    pub fn state_database(&self) -> PathBuf {
        self.state_dir.join("state").join("openclaw.sqlite")
    }
}

/// The provider id a stored credential counts for (`*-plan` variants use the base provider's
/// profiles, as OpenClaw's auth lookups do).
pub fn auth_provider_id(raw: &str) -> String {
    let id = normalize_provider_id(raw);
    match id.strip_suffix("-plan") {
        Some(base) if !base.is_empty() => base.to_string(),
        _ => id,
    }
}

fn non_blank(v: Option<&Value>) -> Option<String> {
    v.and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// A secret ref inside the store (`keyRef`/`tokenRef`): env refs are followed (`env` is the
/// loader's environment); others are reported, not followed.
fn from_ref(
    reference: Option<&Value>,
    env: &crate::env::EnvVars,
) -> Option<Result<String, String>> {
    let r = reference?.as_object()?;
    let source = r.get("source").and_then(Value::as_str)?;
    let id = r.get("id").and_then(Value::as_str)?;
    Some(match source {
        "env" => env
            .non_empty(id)
            .map(str::to_string)
            .ok_or_else(|| format!("its secret ref names env {id}, which is not set")),
        other => Err(format!(
            "its secret is a \"{other}\" ref in the profile store, which clawgate does not follow"
        )),
    })
}

fn parse_credential(id: &str, raw: &Value, env: &crate::env::EnvVars) -> Option<StoredCredential> {
    let obj = raw.as_object()?;
    let kind = match non_blank(obj.get("type").or_else(|| obj.get("mode"))).as_deref() {
        Some("api_key") => CredentialKind::ApiKey,
        Some("token") => CredentialKind::Token,
        Some("oauth") => CredentialKind::OAuth,
        _ => return None,
    };
    let provider = non_blank(obj.get("provider"))
        .or_else(|| id.split_once(':').map(|(p, _)| p.to_string()))?;
    let (literal, reference) = match kind {
        CredentialKind::ApiKey => (non_blank(obj.get("key")), obj.get("keyRef")),
        CredentialKind::Token => (non_blank(obj.get("token")), obj.get("tokenRef")),
        CredentialKind::OAuth => (non_blank(obj.get("access")), None),
    };
    let (secret, problem) = match (literal, from_ref(reference, env)) {
        (Some(s), _) => (Some(s), None),
        (None, Some(Ok(s))) => (Some(s), None),
        (None, Some(Err(e))) => (None, Some(e)),
        (None, None) => (None, Some("it holds no secret".to_string())),
    };
    Some(StoredCredential {
        id: id.to_string(),
        provider: auth_provider_id(&provider),
        kind,
        secret,
        expires: obj.get("expires").cloned(),
        problem,
    })
}

/// Parses a store (`{version, profiles, order?}`) and, separately, a state (`{order}`).
fn parse_store(
    store: Option<&Value>,
    state: Option<&Value>,
    source: &Path,
    env: &crate::env::EnvVars,
) -> AuthStore {
    let mut out = AuthStore::default();
    if let Some(profiles) = store
        .and_then(|s| s.get("profiles"))
        .and_then(Value::as_object)
    {
        out.profiles = profiles
            .iter()
            .filter_map(|(id, raw)| parse_credential(id, raw, env))
            .collect();
    }
    for holder in [store, state].into_iter().flatten() {
        if let Some(order) = holder.get("order").and_then(Value::as_object) {
            for (provider, ids) in order {
                let ids: Vec<String> = ids
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|v| non_blank(Some(v)))
                    .collect();
                if !ids.is_empty() {
                    out.order.insert(auth_provider_id(provider), ids);
                }
            }
        }
    }
    if !out.profiles.is_empty() || !out.order.is_empty() {
        out.sources.push(source.to_path_buf());
    }
    out
}

/// Opens a database without writing anything next to it (see the module docs).
fn open_read_only(path: &Path) -> Result<Connection, String> {
    let wal = PathBuf::from(format!("{}-wal", path.display()));
    let live_wal = std::fs::metadata(&wal).is_ok_and(|m| m.len() > 0);
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
        | OpenFlags::SQLITE_OPEN_URI
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let uri = url::Url::from_file_path(path)
        .map_err(|()| format!("{} is not an absolute path", path.display()))?;
    let uri = if live_wal {
        format!("{uri}?mode=ro")
    } else {
        format!("{uri}?mode=ro&immutable=1")
    };
    let conn = Connection::open_with_flags(&uri, flags)
        .map_err(|e| format!("cannot open {} read-only: {e}", path.display()))?;
    conn.busy_timeout(BUSY_TIMEOUT)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(conn)
}

fn table_exists(conn: &Connection, table: &str) -> Result<bool, rusqlite::Error> {
    conn.query_row(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1",
        [table],
        |_| Ok(()),
    )
    .optional()
    .map(|row| row.is_some())
}

/// One JSON cell, `None` when the table or row is absent.
fn json_cell(
    conn: &Connection,
    sql: &str,
    table: &str,
    key: &str,
) -> Result<Option<Value>, String> {
    let read = || -> Result<Option<String>, rusqlite::Error> {
        if !table_exists(conn, table)? {
            return Ok(None);
        }
        conn.query_row(sql, [key], |row| row.get::<_, String>(0))
            .optional()
    };
    match read() {
        Ok(Some(text)) => serde_json::from_str(&text)
            .map(Some)
            .map_err(|_| format!("{table}[{key}] does not hold valid JSON")),
        Ok(None) => Ok(None),
        Err(e) => Err(format!("cannot read {table}: {e}")),
    }
}

const STATE_SQL: &str = "SELECT value_json FROM config_machine_state WHERE state_key = ?1";
const AGENT_STORE_SQL: &str = "SELECT store_json FROM auth_profile_store WHERE store_key = ?1";
const AGENT_STATE_SQL: &str = "SELECT state_json FROM auth_profile_state WHERE state_key = ?1";

/// The shared store in the state database, when `auth.sharedStore` puts it there.
fn read_state_db(path: &Path, env: &crate::env::EnvVars) -> Result<Option<AuthStore>, String> {
    if !path.is_file() {
        return Ok(None);
    }
    let conn = open_read_only(path)?;
    let location = json_cell(&conn, STATE_SQL, "config_machine_state", "auth.sharedStore")
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let in_state_db = location
        .as_ref()
        .and_then(|l| l.get("location"))
        .and_then(Value::as_str)
        == Some("state-db");
    if !in_state_db {
        return Ok(None);
    }
    let cell = |key| {
        json_cell(&conn, STATE_SQL, "config_machine_state", key)
            .map_err(|e| format!("{}: {e}", path.display()))
    };
    let (store, state) = (cell("authProfiles.store")?, cell("authProfiles.state")?);
    Ok(Some(parse_store(store.as_ref(), state.as_ref(), path, env)))
}

/// An agent database's store (`auth_profile_store` / `auth_profile_state`, row `primary`).
fn read_agent_db(path: &Path, env: &crate::env::EnvVars) -> Result<Option<AuthStore>, String> {
    if !path.is_file() {
        return Ok(None);
    }
    let conn = open_read_only(path)?;
    let cell = |sql, table| {
        json_cell(&conn, sql, table, "primary").map_err(|e| format!("{}: {e}", path.display()))
    };
    let store = cell(AGENT_STORE_SQL, "auth_profile_store")?;
    let state = cell(AGENT_STATE_SQL, "auth_profile_state")?;
    Ok(Some(parse_store(store.as_ref(), state.as_ref(), path, env)))
}

fn read_json(path: &Path) -> Result<Option<Value>, String> {
    if !path.is_file() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    // The parser's message may quote the file (a key): report only where it failed.
    serde_json::from_str(&text).map(Some).map_err(|e| {
        format!(
            "{} is not valid JSON (line {}, column {})",
            path.display(),
            e.line(),
            e.column()
        )
    })
}

/// An agent dir's `auth-profiles.json` and its `auth-state.json` (the order override).
fn read_json_dir(dir: &Path, env: &crate::env::EnvVars) -> Result<Option<AuthStore>, String> {
    let file = dir.join("auth-profiles.json");
    let Some(store) = read_json(&file)? else {
        return Ok(None);
    };
    let state = read_json(&dir.join("auth-state.json"))?;
    Ok(Some(parse_store(Some(&store), state.as_ref(), &file, env)))
}

/// The store agent `agent_id` sees, or `None` when OpenClaw has none. Problems reading one
/// file are returned beside what the other files gave.
pub fn read_auth_store(
    dirs: &OpenClawDirs,
    agent_id: &str,
    env: &crate::env::EnvVars,
) -> (Option<AuthStore>, Vec<String>) {
    let mut problems = Vec::new();
    let mut take = |result: Result<Option<AuthStore>, String>| match result {
        Ok(store) => store,
        Err(e) => {
            problems.push(e);
            None
        }
    };
    let main_db = dirs.main_agent_dir.join("openclaw-agent.sqlite");
    let agent_db = dirs.agent_dir(agent_id).join("openclaw-agent.sqlite");
    let shared = take(read_state_db(&dirs.state_database(), env))
        .or_else(|| take(read_agent_db(&main_db, env)));
    let mut dbs: Vec<AuthStore> = shared.into_iter().collect();
    // The agent's own database, unless it is the shared one just read.
    let shared_is_main_db = dbs.iter().any(|s| s.sources.contains(&main_db));
    if !(agent_db == main_db && shared_is_main_db)
        && let Some(own) = take(read_agent_db(&agent_db, env))
    {
        dbs.push(own);
    }
    let mut merged = AuthStore::default();
    let any_db = !dbs.is_empty();
    for store in dbs {
        merged.merge(store);
    }
    if merged.profiles.is_empty() {
        let mut agent_dirs = vec![dirs.main_agent_dir.clone()];
        let own = dirs.agent_dir(agent_id);
        if !agent_dirs.contains(&own) {
            agent_dirs.push(own);
        }
        let mut from_json = AuthStore::default();
        for dir in agent_dirs {
            if let Some(store) = take(read_json_dir(&dir, env)) {
                from_json.merge(store);
            }
        }
        if !from_json.profiles.is_empty() {
            // The databases' order overrides still apply to the JSON profiles.
            from_json.order.extend(std::mem::take(&mut merged.order));
            return (Some(from_json), problems);
        }
    }
    let found = any_db && (!merged.profiles.is_empty() || !merged.order.is_empty());
    (found.then_some(merged), problems)
}
