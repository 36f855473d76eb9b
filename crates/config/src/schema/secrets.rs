//! Secrets as OpenClaw writes them: a value is a literal string or a SecretRef
//! `{source: "env"|"file"|"exec", provider?, id}`, and the `secrets` section names the providers
//! refs point at (`secrets.providers.<alias>`, `secrets.defaults.<source>`). The grammar (alias
//! and id patterns, limits) is OpenClaw's `ref-contract` and config schema; resolving a ref is
//! `crate::secret_values`' job at load. `source: "store"` (OpenClaw's own encrypted store) and
//! plugin-integration exec providers are rejected with a message saying so.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Serialize;

use crate::decode::{Decode, Decoder, ObjectReader, in_range, string_enum};
use crate::diagnostic::JsonPath;
use crate::source::{Node, NodeKind, Pos};

/// The provider alias a ref without `provider` uses (unless `secrets.defaults` names another).
pub const DEFAULT_SECRET_PROVIDER: &str = "default";
/// OpenClaw's cap on `timeoutMs` / `noOutputTimeoutMs` (2 minutes).
const MAX_TIMEOUT_MS: u64 = 120_000;
/// OpenClaw's cap on `maxBytes` / `maxOutputBytes` (20 MiB).
const MAX_BYTES: u64 = 20 * 1024 * 1024;

string_enum! {
    /// Where a SecretRef's value comes from.
    pub enum SecretSource { Env = "env", File = "file", Exec = "exec" }
}

/// `{source, provider, id}`. `provider` is kept as written (`None` = the source's default).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SecretRef {
    pub source: SecretSource,
    pub provider: Option<String>,
    pub id: String,
}

impl SecretRef {
    /// OpenClaw's label `source:provider:id` (names a secret, never shows it).
    pub fn label(&self, provider: &str) -> String {
        format!("{}:{provider}:{}", self.source.as_str(), self.id)
    }
}

/// A secret: a literal string or a SecretRef. Serialises (and debug-prints) redacted, so a
/// secret can never leak through `config show` or a log line.
#[derive(Clone, PartialEq, Eq)]
pub enum SecretInput {
    Literal(String),
    Ref(SecretRef),
}

impl SecretInput {
    /// An env-backed ref with the default provider (tests, programmatic configs).
    pub fn env(id: impl Into<String>) -> Self {
        Self::Ref(SecretRef {
            source: SecretSource::Env,
            provider: None,
            id: id.into(),
        })
    }
}

impl std::fmt::Debug for SecretInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Literal(v) => write!(f, "Literal({:?})", crate::decode::redact(v)),
            Self::Ref(r) => write!(f, "Ref({r:?})"),
        }
    }
}

impl Serialize for SecretInput {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Literal(v) => s.serialize_str(&crate::decode::redact(v)),
            Self::Ref(r) => {
                let mut v = serde_json::json!({"source": r.source.as_str(), "id": r.id});
                if let (Some(p), Some(obj)) = (&r.provider, v.as_object_mut()) {
                    obj.insert("provider".into(), p.clone().into());
                }
                v.serialize(s)
            }
        }
    }
}

/// `^[a-z][a-z0-9_-]{0,63}$`.
pub fn is_provider_alias(alias: &str) -> bool {
    let mut chars = alias.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase())
        && alias.len() <= 64
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
}

/// `^[A-Z][A-Z0-9_]{0,127}$` (env ids, `passEnv` names, env allowlists).
pub fn is_env_id(id: &str) -> bool {
    let mut chars = id.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_uppercase())
        && id.len() <= 128
        && chars.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

/// `"value"` or an absolute JSON pointer (`/providers/openai/apiKey`, `~0`/`~1` escapes).
pub fn is_file_id(id: &str) -> bool {
    if id == "value" {
        return true;
    }
    let Some(rest) = id.strip_prefix('/') else {
        return false;
    };
    rest.split('/').all(|segment| {
        let mut chars = segment.chars();
        while let Some(c) = chars.next() {
            if c == '~' && !matches!(chars.next(), Some('0' | '1')) {
                return false;
            }
        }
        true
    })
}

/// `^[A-Za-z0-9][A-Za-z0-9._:/#-]{0,255}$` without `.` or `..` path segments.
pub fn is_exec_id(id: &str) -> bool {
    let mut chars = id.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphanumeric())
        && id.len() <= 256
        && chars.all(|c| c.is_ascii_alphanumeric() || "._:/#-".contains(c))
        && id.split('/').all(|s| s != "." && s != "..")
}

fn check_ref_id(source: SecretSource, id: &str) -> Result<(), &'static str> {
    let ok = match source {
        // clawgate has always accepted any variable name here; OpenClaw's stricter pattern is
        // applied to the names it checks elsewhere (allowlists, passEnv).
        SecretSource::Env => !id.trim().is_empty(),
        SecretSource::File => is_file_id(id),
        SecretSource::Exec => is_exec_id(id),
    };
    if ok {
        return Ok(());
    }
    Err(match source {
        SecretSource::Env => "a non-empty variable name",
        SecretSource::File => {
            "an absolute JSON pointer (\"/providers/openai/apiKey\") or \"value\" \
             (singleValue mode)"
        }
        SecretSource::Exec => {
            "an id matching [A-Za-z0-9][A-Za-z0-9._:/#-]{0,255} without \".\" or \"..\" \
             segments (e.g. \"vault/openai/api-key\")"
        }
    })
}

impl Decode for SecretInput {
    fn decode(node: &Node, path: &JsonPath, cx: &mut Decoder) -> Option<Self> {
        match &node.kind {
            NodeKind::String(s) => Some(Self::Literal(s.clone())),
            NodeKind::Object(_) => {
                let mut o = ObjectReader::new(node, path, cx)?;
                let source_node = o.node("source");
                let source = match source_node {
                    None => {
                        cx.error(path, &node.pos, "missing required key \"source\"");
                        None
                    }
                    Some((n, p)) => match n.as_str() {
                        Some("store") => {
                            cx.error(
                                &p,
                                &n.pos,
                                "secret source \"store\" (OpenClaw's encrypted secret store) is \
                                 not supported by clawgate; use \"env\", \"file\" or \"exec\"",
                            );
                            None
                        }
                        _ => SecretSource::decode(n, &p, cx),
                    },
                };
                let provider = o.field_with("provider", cx, |n, p, cx| {
                    let alias = String::decode(n, p, cx)?;
                    if is_provider_alias(&alias) {
                        return Some(alias);
                    }
                    cx.expected(n, p, "a provider alias matching [a-z][a-z0-9_-]{0,63}");
                    None
                });
                let id_node = node.get("id");
                let id: Option<String> = o.required("id", cx);
                o.finish(cx);
                let (source, id) = (source?, id?);
                if let (Err(what), Some(n)) = (check_ref_id(source, &id), id_node) {
                    cx.expected(n, &path.key("id"), what);
                    return None;
                }
                let reference = SecretRef {
                    source,
                    provider,
                    id,
                };
                cx.secret_refs.push(SecretSite {
                    reference: reference.clone(),
                    path: path.clone(),
                    pos: node.pos.clone(),
                });
                Some(Self::Ref(reference))
            }
            _ => {
                cx.expected(
                    node,
                    path,
                    "a string or a secret ref {source: \"env\"|\"file\"|\"exec\", provider?, id}",
                );
                None
            }
        }
    }
}

/// Where the config names a SecretRef (for errors that point at it).
#[derive(Debug, Clone)]
pub struct SecretSite {
    pub reference: SecretRef,
    pub path: JsonPath,
    pub pos: Pos,
}

string_enum! {
    /// `secrets.providers.<alias>.mode` of a file provider.
    pub enum FileSecretMode { Json = "json", SingleValue = "singleValue" }
}

/// One `secrets.providers.<alias>`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "source", rename_all = "camelCase")]
pub enum SecretProviderConfig {
    #[serde(rename = "env")]
    Env {
        /// Only these variables may be read through this provider.
        #[serde(skip_serializing_if = "Option::is_none")]
        allowlist: Option<Vec<String>>,
    },
    #[serde(rename = "file", rename_all = "camelCase")]
    File {
        path: PathBuf,
        mode: FileSecretMode,
        #[serde(skip_serializing_if = "Option::is_none")]
        max_bytes: Option<u64>,
    },
    #[serde(rename = "exec", rename_all = "camelCase")]
    Exec(ExecSecretProvider),
}

/// An exec provider: a command that prints `{protocolVersion: 1, values: {id: secret}}` for
/// the request `{protocolVersion: 1, provider, ids}` it reads on stdin.
#[derive(Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExecSecretProvider {
    pub command: PathBuf,
    pub args: Vec<String>,
    pub timeout_ms: Option<u64>,
    pub no_output_timeout_ms: Option<u64>,
    pub max_output_bytes: Option<u64>,
    /// Default true: the output must be the JSON protocol (false also takes plain text for a
    /// single id).
    pub json_only: bool,
    /// Values are not shown (they may be tokens the command needs).
    #[serde(serialize_with = "names_only")]
    pub env: BTreeMap<String, String>,
    pub pass_env: Vec<String>,
    pub trusted_dirs: Vec<PathBuf>,
}

fn names_only<S: serde::Serializer>(
    env: &BTreeMap<String, String>,
    s: S,
) -> Result<S::Ok, S::Error> {
    env.keys()
        .map(|k| (k.as_str(), "***"))
        .collect::<BTreeMap<_, _>>()
        .serialize(s)
}

impl std::fmt::Debug for ExecSecretProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExecSecretProvider")
            .field("command", &self.command)
            .field("args", &self.args)
            .field("env", &self.env.keys().collect::<Vec<_>>())
            .field("pass_env", &self.pass_env)
            .finish_non_exhaustive()
    }
}

/// The `secrets` section.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SecretsConfig {
    /// In file order.
    #[serde(serialize_with = "crate::schema::pairs_as_map")]
    pub providers: Vec<(String, SecretProviderConfig)>,
    /// `secrets.defaults.<source>`: the alias a ref without `provider` uses.
    pub defaults: BTreeMap<String, String>,
}

impl SecretsConfig {
    /// The alias a ref resolves through.
    pub fn provider_alias<'a>(&'a self, reference: &'a SecretRef) -> &'a str {
        reference.provider.as_deref().unwrap_or_else(|| {
            self.defaults
                .get(reference.source.as_str())
                .map_or(DEFAULT_SECRET_PROVIDER, String::as_str)
        })
    }

    pub fn provider(&self, alias: &str) -> Option<&SecretProviderConfig> {
        self.providers
            .iter()
            .find(|(a, _)| a == alias)
            .map(|(_, p)| p)
    }
}

fn absolute_path(node: &Node, path: &JsonPath, cx: &mut Decoder) -> Option<PathBuf> {
    let s = String::decode(node, path, cx)?;
    let p = PathBuf::from(&s);
    if p.is_absolute() || s.starts_with("~/") {
        return Some(p);
    }
    cx.expected(node, path, "an absolute path");
    None
}

fn env_names(node: &Node, path: &JsonPath, cx: &mut Decoder, max: usize) -> Option<Vec<String>> {
    let names: Vec<String> = Decode::decode(node, path, cx)?;
    let mut ok = names.len() <= max;
    if !ok {
        cx.error(path, &node.pos, format!("expected at most {max} names"));
    }
    if let NodeKind::Array(items) = &node.kind {
        for (i, (name, item)) in names.iter().zip(items).enumerate() {
            if !is_env_id(name) {
                cx.expected(
                    item,
                    &path.index(i),
                    "a variable name matching [A-Z][A-Z0-9_]*",
                );
                ok = false;
            }
        }
    }
    ok.then_some(names)
}

fn timeout_ms(node: &Node, path: &JsonPath, cx: &mut Decoder) -> Option<u64> {
    in_range(node, path, cx, 1, MAX_TIMEOUT_MS)
}

fn byte_limit(node: &Node, path: &JsonPath, cx: &mut Decoder) -> Option<u64> {
    in_range(node, path, cx, 1, MAX_BYTES)
}

fn decode_exec(o: &mut ObjectReader<'_>, cx: &mut Decoder) -> Option<ExecSecretProvider> {
    if let Some((n, p)) = o.node("pluginIntegration") {
        cx.error(
            &p,
            &n.pos,
            "exec providers backed by an OpenClaw plugin integration are not supported by \
             clawgate; give command (and args) instead",
        );
        return None;
    }
    let path = o.path().clone();
    let pos = o.pos().clone();
    let command = match o.node("command") {
        Some((n, p)) => absolute_path(n, &p, cx),
        None => {
            cx.error(&path, &pos, "missing required key \"command\"");
            None
        }
    };
    let args = o.field_with("args", cx, |n, p, cx| {
        let args: Vec<String> = Decode::decode(n, p, cx)?;
        if args.len() > 128 || args.iter().any(|a| a.len() > 1024) {
            cx.error(
                p,
                &n.pos,
                "expected at most 128 arguments of at most 1024 characters",
            );
            return None;
        }
        Some(args)
    });
    let provider = ExecSecretProvider {
        command: PathBuf::new(),
        args: args.unwrap_or_default(),
        timeout_ms: o.field_with("timeoutMs", cx, timeout_ms),
        no_output_timeout_ms: o.field_with("noOutputTimeoutMs", cx, timeout_ms),
        max_output_bytes: o.field_with("maxOutputBytes", cx, byte_limit),
        json_only: o.field("jsonOnly", cx).unwrap_or(true),
        env: o.field("env", cx).unwrap_or_default(),
        pass_env: o
            .field_with("passEnv", cx, |n, p, cx| env_names(n, p, cx, 128))
            .unwrap_or_default(),
        trusted_dirs: o
            .field_with("trustedDirs", cx, |n, p, cx| {
                let NodeKind::Array(items) = &n.kind else {
                    cx.expected(n, p, "a list of absolute paths");
                    return None;
                };
                items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| absolute_path(item, &p.index(i), cx))
                    .collect()
            })
            .unwrap_or_default(),
    };
    // Every key above is read before giving up, so each problem is reported in this pass.
    Some(ExecSecretProvider {
        command: command?,
        ..provider
    })
}

impl Decode for SecretProviderConfig {
    fn decode(node: &Node, path: &JsonPath, cx: &mut Decoder) -> Option<Self> {
        let mut o = ObjectReader::new(node, path, cx)?;
        let source = match o.node("source") {
            Some((n, p)) if n.as_str() == Some("store") => {
                cx.error(
                    &p,
                    &n.pos,
                    "secret source \"store\" (OpenClaw's encrypted secret store) is not \
                     supported by clawgate",
                );
                None
            }
            Some((n, p)) => SecretSource::decode(n, &p, cx),
            None => {
                cx.error(path, &node.pos, "missing required key \"source\"");
                None
            }
        };
        let provider = match source {
            Some(SecretSource::Env) => Some(Self::Env {
                allowlist: o.field_with("allowlist", cx, |n, p, cx| env_names(n, p, cx, 256)),
            }),
            Some(SecretSource::File) => {
                let file_path = match o.node("path") {
                    Some((n, p)) => absolute_path(n, &p, cx),
                    None => {
                        cx.error(path, &node.pos, "missing required key \"path\"");
                        None
                    }
                };
                let mode = o.field("mode", cx).unwrap_or(FileSecretMode::Json);
                let max_bytes = o.field_with("maxBytes", cx, byte_limit);
                // A local regular file cannot block a read: nothing for a timeout to bound.
                o.ignore(&["timeoutMs"], cx);
                file_path.map(|path| Self::File {
                    path,
                    mode,
                    max_bytes,
                })
            }
            Some(SecretSource::Exec) => decode_exec(&mut o, cx).map(Self::Exec),
            None => None,
        };
        o.finish(cx);
        provider
    }
}

impl Decode for SecretsConfig {
    fn decode(node: &Node, path: &JsonPath, cx: &mut Decoder) -> Option<Self> {
        let mut o = ObjectReader::new(node, path, cx)?;
        let mut providers = Vec::new();
        if let Some((pnode, ppath)) = o.node("providers") {
            match pnode.object() {
                Some(props) => {
                    for prop in props {
                        let child = ppath.key(&prop.key);
                        if !is_provider_alias(&prop.key) {
                            cx.error(
                                &child,
                                &prop.key_pos,
                                format!(
                                    "secret provider alias \"{}\" must match [a-z][a-z0-9_-]{{0,63}}",
                                    prop.key
                                ),
                            );
                            continue;
                        }
                        if let Some(p) = SecretProviderConfig::decode(&prop.value, &child, cx) {
                            providers.push((prop.key.clone(), p));
                        }
                    }
                }
                None => cx.expected(pnode, &ppath, "an object of provider alias → provider"),
            }
        }
        let mut defaults = BTreeMap::new();
        if let Some((dnode, dpath)) = o.node("defaults")
            && let Some(mut d) = ObjectReader::new(dnode, &dpath, cx)
        {
            for source in ["env", "file", "exec"] {
                if let Some(alias) = d.field_with(source, cx, |n, p, cx| {
                    let alias = String::decode(n, p, cx)?;
                    if is_provider_alias(&alias) {
                        return Some(alias);
                    }
                    cx.expected(n, p, "a provider alias matching [a-z][a-z0-9_-]{0,63}");
                    None
                }) {
                    defaults.insert(source.to_string(), alias);
                }
            }
            d.ignore(&["store"], cx);
            d.finish(cx);
        }
        o.ignore(&["egressProxy"], cx);
        o.finish(cx);
        Some(Self {
            providers,
            defaults,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_follow_openclaws_grammar() {
        assert!(is_file_id("value"));
        assert!(is_file_id("/providers/openai/apiKey"));
        assert!(is_file_id("/a~1b/~0c"));
        assert!(!is_file_id("providers/openai"));
        assert!(!is_file_id("/bad~2escape"));
        assert!(is_exec_id("vault/openai/api-key"));
        assert!(is_exec_id("aws/secret#json_key"));
        assert!(!is_exec_id("vault/../etc"));
        assert!(!is_exec_id("-leading-dash"));
        assert!(is_provider_alias("my-vault_2"));
        assert!(!is_provider_alias("Vault"));
        assert!(is_env_id("OPENAI_API_KEY"));
        assert!(!is_env_id("lower"));
    }
}
