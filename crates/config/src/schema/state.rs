//! The `state` section (clawgate's own, not OpenClaw's): where shared state lives. `files`
//! (the default) keeps sessions and cooldowns under the state dir, right for one machine;
//! `postgres` keeps them in one PostgreSQL database shared by several gateway replicas
//! (`docs/scaling.md`). The URL is substituted like every string (`${PG_URL}`) and is shown
//! with its password masked in every message.

use serde::Serialize;

use crate::decode::{Decode, Decoder, ObjectReader, in_range, redact_url, string_enum};
use crate::diagnostic::JsonPath;
use crate::source::{Node, NodeKind};

/// The longest `state.leaseSeconds`: an hour (a dead replica blocks a session that long).
const MAX_LEASE_SECONDS: u64 = 3600;

string_enum! {
    /// `state.backend`.
    pub enum StateBackend {
        /// Files under the state dir (one machine).
        Files = "files",
        /// One PostgreSQL database shared by every replica.
        Postgres = "postgres",
    }
}

/// `state`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StateConfig {
    pub backend: Option<StateBackend>,
    /// `postgres://user:password@host:port/db`.
    pub url: Option<String>,
    /// How long a session's turn lease lasts without renewal (default 30).
    pub lease_seconds: Option<u64>,
}

impl StateConfig {
    /// The backend in effect: `files` unless `postgres` is asked for.
    pub fn backend(&self) -> StateBackend {
        self.backend.unwrap_or(StateBackend::Files)
    }
}

impl Serialize for StateConfig {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("backend", self.backend().as_str())?;
        if let Some(url) = &self.url {
            map.serialize_entry("url", &redact_url(url))?;
        }
        if let Some(lease) = self.lease_seconds {
            map.serialize_entry("leaseSeconds", &lease)?;
        }
        map.end()
    }
}

fn postgres_url(node: &Node, path: &JsonPath, cx: &mut Decoder) -> Option<String> {
    let NodeKind::String(text) = &node.kind else {
        cx.expected(node, path, "a postgres:// URL string");
        return None;
    };
    let text = text.trim();
    let scheme_ok = text.starts_with("postgres://") || text.starts_with("postgresql://");
    let host = text
        .split_once("://")
        .map(|(_, rest)| rest.rsplit('@').next().unwrap_or(rest))
        .unwrap_or("");
    if scheme_ok && !host.is_empty() && !host.starts_with('/') {
        return Some(text.to_string());
    }
    let found = format!("string \"{}\"", redact_url(text));
    cx.error(
        path,
        &node.pos,
        format!(
            "expected a PostgreSQL URL like \"postgres://clawgate:secret@db:5432/clawgate\", \
             found {found}"
        ),
    );
    None
}

impl Decode for StateConfig {
    fn decode(node: &Node, path: &JsonPath, cx: &mut Decoder) -> Option<Self> {
        let mut o = ObjectReader::new(node, path, cx)?;
        let backend_node = o.node("backend");
        let config = Self {
            backend: backend_node
                .as_ref()
                .and_then(|(n, p)| StateBackend::decode(n, p, cx)),
            url: o.field_with("url", cx, postgres_url),
            lease_seconds: o.field_with("leaseSeconds", cx, |n, p, cx| {
                in_range(n, p, cx, 1, MAX_LEASE_SECONDS)
            }),
        };
        if config.backend == Some(StateBackend::Postgres)
            && config.url.is_none()
            && let Some((n, p)) = &backend_node
        {
            cx.error(
                p,
                &n.pos,
                "backend \"postgres\" needs state.url (postgres://user:password@host:port/db)",
            );
        }
        if config.backend() == StateBackend::Files
            && (config.url.is_some() || config.lease_seconds.is_some())
        {
            cx.warn(
                path,
                &node.pos,
                "state.url and state.leaseSeconds are only used with backend \"postgres\"; \
                 ignored with \"files\"",
            );
        }
        o.finish(cx);
        Some(config)
    }
}
