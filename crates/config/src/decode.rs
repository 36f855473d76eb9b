//! Typed decoding of the positioned tree, collecting every diagnostic in one pass.
//!
//! Hand-written instead of serde: serde stops at the first error and loses positions, while
//! we need all errors at once, each with JSON path, line/column, "did you mean" for unknown
//! keys and enum values, and redacted secrets in "found …" messages. The machinery is small:
//! a `Decode` trait for leaf types and an `ObjectReader` that records which keys a section
//! knows, so `finish()` can report unknown ones with the closest known name.

use std::collections::BTreeMap;

use crate::diagnostic::{Diagnostic, JsonPath, closest};
use crate::source::{Node, NodeKind, Pos, Prop};

/// Collects diagnostics and the list of ignored (known but not implemented) paths.
#[derive(Debug, Default)]
pub struct Decoder {
    pub diags: Vec<Diagnostic>,
    pub ignored: Vec<String>,
    /// Every SecretRef decoded, with where it is (resolved after decoding).
    pub secret_refs: Vec<crate::schema::secrets::SecretSite>,
    /// When set, every key a section knows is recorded here, present in the file or not (see
    /// [`crate::schema::key_paths`]): the schema's key list comes from the decoders themselves.
    pub schema_keys: Option<Vec<SchemaKey>>,
}

/// One key a section's decoder knows, as recorded by [`Decoder::schema_keys`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaKey {
    /// The object the key belongs to (a concrete path of the decoded document).
    pub object: String,
    pub key: &'static str,
    /// Accepted and listed as ignored (`ObjectReader::ignore`), not implemented.
    pub ignored: bool,
}

impl Decoder {
    pub fn error(&mut self, path: &JsonPath, pos: &Pos, message: impl Into<String>) {
        self.diags
            .push(Diagnostic::error(message).at(path.as_str(), pos.location()));
    }

    pub fn warn(&mut self, path: &JsonPath, pos: &Pos, message: impl Into<String>) {
        self.diags
            .push(Diagnostic::warning(message).at(path.as_str(), pos.location()));
    }

    pub fn expected(&mut self, node: &Node, path: &JsonPath, what: &str) {
        let found = describe(node, path);
        self.error(path, &node.pos, format!("expected {what}, found {found}"));
    }

    /// Records that the object at `object` knows `key` (only while recording the schema).
    pub fn record_key(&mut self, object: &JsonPath, key: &'static str, ignored: bool) {
        if let Some(keys) = &mut self.schema_keys {
            keys.push(SchemaKey {
                object: object.as_str().to_string(),
                key,
                ignored,
            });
        }
    }
}

/// Key names whose values never appear in messages or `config show`.
pub fn is_secret_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    matches!(
        k.as_str(),
        "authorization" | "x-api-key" | "api-key" | "apikeys"
    ) || ["token", "password", "secret", "apikey"]
        .iter()
        .any(|s| k.ends_with(s))
}

/// Redacts a secret for display: `sk-a…(redacted)` when long enough to keep a hint, else `***`.
pub fn redact(secret: &str) -> String {
    let chars: Vec<char> = secret.chars().collect();
    if chars.len() >= 12 {
        let head: String = chars[..4].iter().collect();
        format!("{head}…(redacted)")
    } else {
        "***".to_string()
    }
}

/// Redacts secrets in plain JSON for display: values under secret-like keys, header values and
/// the values of every `env` map.
/// Query parameter names whose values are credentials (`?key=`, `api_key`, `access_token`,
/// `sig`, a signed URL's `signature`, …), compared case-insensitively with `-` as `_`.
fn is_secret_query_param(name: &str) -> bool {
    let n = name.to_ascii_lowercase().replace('-', "_");
    matches!(n.as_str(), "key" | "sig" | "code" | "pass" | "pwd" | "auth")
        || n.ends_with("key")
        || [
            "token",
            "secret",
            "password",
            "passwd",
            "signature",
            "credential",
            "auth",
        ]
        .iter()
        .any(|s| n.contains(s))
}

/// A URL for display: credentials in the user-info part (`https://user:***@host`, or `***@`
/// for a lone user name, which is often a token) and the values of secret-looking query
/// parameters (`?key=***`) masked; everything else exactly as written. Works on the text (no
/// URL normalisation), so it also masks what a half-valid URL holds.
pub fn redact_url(text: &str) -> String {
    const MASK: &str = "***";
    let query_at = text.find(['?', '#']).unwrap_or(text.len());
    let (before_query, rest) = text.split_at(query_at);
    let mut out = String::with_capacity(text.len());
    // User-info ends at an `@` before the query and starts after the last `/` before it (after
    // `scheme://` in a well-formed URL; also right for a mistyped `https//user:pass@h`).
    match before_query.find('@') {
        Some(at) => {
            let start = before_query[..at].rfind('/').map_or(0, |slash| slash + 1);
            let userinfo = &before_query[start..at];
            out.push_str(&before_query[..start]);
            if let Some((user, _)) = userinfo.split_once(':') {
                out.push_str(user);
                out.push(':');
            }
            if !userinfo.is_empty() {
                out.push_str(MASK);
            }
            out.push_str(&before_query[at..]);
        }
        None => out.push_str(before_query),
    }
    let Some(query_and_fragment) = rest.strip_prefix('?') else {
        out.push_str(rest);
        return out;
    };
    out.push('?');
    let query_end = query_and_fragment
        .find('#')
        .unwrap_or(query_and_fragment.len());
    let (query, fragment) = query_and_fragment.split_at(query_end);
    let masked: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((name, value)) if !value.is_empty() && is_secret_query_param(name) => {
                format!("{name}={MASK}")
            }
            _ => pair.to_string(),
        })
        .collect();
    out.push_str(&masked.join("&"));
    out.push_str(fragment);
    out
}

/// Redacts secrets in plain JSON for display: values under secret-like keys, header values,
/// the `env` block's values, and credentials inside `baseUrl`s.
pub fn redact_json(value: &mut serde_json::Value) {
    fn walk(v: &mut serde_json::Value, secret: bool) {
        match v {
            serde_json::Value::String(s) if secret => *s = redact(s),
            serde_json::Value::Array(items) => items.iter_mut().for_each(|i| walk(i, secret)),
            serde_json::Value::Object(map) => {
                for (k, child) in map.iter_mut() {
                    // `env` maps (the config's block, an exec secret provider's) hold tokens.
                    if (k == "baseUrl" || k == "url")
                        && !secret
                        && let serde_json::Value::String(url) = child
                    {
                        *url = redact_url(url);
                        continue;
                    }
                    // `env` maps (the config's block, an exec secret provider's) hold tokens.
                    let inner = secret || is_secret_key(k) || k == "headers" || k == "env";
                    // An env-backed secret ref only names a variable: nothing to hide.
                    let is_ref = child.get("source").is_some() && child.get("id").is_some();
                    walk(child, inner && !is_ref);
                }
            }
            _ => {}
        }
    }
    if let Some(env) = value.get_mut("env") {
        walk(env, true);
    }
    walk(value, false);
}

/// `string "abc"`, `number 70000`, `true`, `an object` … (secrets redacted).
pub fn describe(node: &Node, path: &JsonPath) -> String {
    let secret = is_secret_key(path.last_key()) || in_secret_context(path);
    match &node.kind {
        NodeKind::Null => "null".into(),
        NodeKind::Bool(b) => b.to_string(),
        // A numeric token is still a token: never echo it.
        NodeKind::Number { .. } if secret => "a number (redacted)".into(),
        NodeKind::Number { raw, .. } => format!("number {raw}"),
        NodeKind::String(s) if secret => format!("string \"{}\"", redact(s)),
        NodeKind::String(s) if path.last_key() == "baseUrl" => {
            format!("string {}", serde_json::Value::String(redact_url(s)))
        }
        NodeKind::String(s) => {
            let shown: String = s.chars().take(60).collect();
            let ellipsis = if s.chars().count() > 60 { "…" } else { "" };
            format!("string {}{ellipsis}", serde_json::Value::String(shown))
        }
        NodeKind::Array(_) => "an array".into(),
        NodeKind::Object(_) => "an object".into(),
    }
}

fn in_secret_context(path: &JsonPath) -> bool {
    let p = path.as_str();
    p.contains("apiKeys[") || p.contains(".headers") || p.starts_with("env.")
}

pub trait Decode: Sized {
    fn decode(node: &Node, path: &JsonPath, cx: &mut Decoder) -> Option<Self>;
}

impl Decode for String {
    fn decode(node: &Node, path: &JsonPath, cx: &mut Decoder) -> Option<Self> {
        match &node.kind {
            NodeKind::String(s) => Some(s.clone()),
            _ => {
                cx.expected(node, path, "a string");
                None
            }
        }
    }
}

impl Decode for bool {
    fn decode(node: &Node, path: &JsonPath, cx: &mut Decoder) -> Option<Self> {
        match &node.kind {
            NodeKind::Bool(b) => Some(*b),
            _ => {
                cx.expected(node, path, "true or false");
                None
            }
        }
    }
}

impl Decode for f64 {
    fn decode(node: &Node, path: &JsonPath, cx: &mut Decoder) -> Option<Self> {
        match &node.kind {
            NodeKind::Number { value, .. } if value.is_finite() => Some(*value),
            _ => {
                cx.expected(node, path, "a finite number");
                None
            }
        }
    }
}

impl Decode for u64 {
    fn decode(node: &Node, path: &JsonPath, cx: &mut Decoder) -> Option<Self> {
        match &node.kind {
            NodeKind::Number { value, .. }
                if value.is_finite()
                    && *value >= 0.0
                    && value.fract() == 0.0
                    && *value < 9.0e15 =>
            {
                Some(*value as u64)
            }
            _ => {
                cx.expected(node, path, "a whole number ≥ 0");
                None
            }
        }
    }
}

impl Decode for serde_json::Value {
    fn decode(node: &Node, _path: &JsonPath, _cx: &mut Decoder) -> Option<Self> {
        Some(node.to_json())
    }
}

impl<T: Decode> Decode for Vec<T> {
    fn decode(node: &Node, path: &JsonPath, cx: &mut Decoder) -> Option<Self> {
        let NodeKind::Array(items) = &node.kind else {
            cx.expected(node, path, "an array");
            return None;
        };
        let mut out = Vec::with_capacity(items.len());
        let mut ok = true;
        for (i, item) in items.iter().enumerate() {
            match T::decode(item, &path.index(i), cx) {
                Some(v) => out.push(v),
                None => ok = false,
            }
        }
        ok.then_some(out)
    }
}

impl<T: Decode> Decode for BTreeMap<String, T> {
    fn decode(node: &Node, path: &JsonPath, cx: &mut Decoder) -> Option<Self> {
        let NodeKind::Object(props) = &node.kind else {
            cx.expected(node, path, "an object");
            return None;
        };
        let mut out = BTreeMap::new();
        let mut ok = true;
        for p in props {
            match T::decode(&p.value, &path.key(&p.key), cx) {
                Some(v) => {
                    out.insert(p.key.clone(), v);
                }
                None => ok = false,
            }
        }
        ok.then_some(out)
    }
}

fn whole_number(node: &Node) -> Option<u64> {
    match &node.kind {
        NodeKind::Number { value, .. }
            if value.is_finite() && *value >= 0.0 && value.fract() == 0.0 && *value < 9.0e15 =>
        {
            Some(*value as u64)
        }
        _ => None,
    }
}

/// A positive whole number (context windows, token limits).
pub fn positive(node: &Node, path: &JsonPath, cx: &mut Decoder) -> Option<u64> {
    match whole_number(node) {
        Some(v) if v > 0 => Some(v),
        _ => {
            cx.expected(node, path, "a positive whole number");
            None
        }
    }
}

/// A whole number in `lo..=hi`.
pub fn in_range(node: &Node, path: &JsonPath, cx: &mut Decoder, lo: u64, hi: u64) -> Option<u64> {
    match whole_number(node) {
        Some(v) if (lo..=hi).contains(&v) => Some(v),
        _ => {
            cx.expected(node, path, &format!("a whole number from {lo} to {hi}"));
            None
        }
    }
}

/// A string that must be one of `allowed`, with a "did you mean" hint.
pub fn one_of(
    node: &Node,
    path: &JsonPath,
    cx: &mut Decoder,
    allowed: &[&'static str],
) -> Option<&'static str> {
    let s = String::decode(node, path, cx)?;
    if let Some(hit) = allowed.iter().find(|a| **a == s) {
        return Some(hit);
    }
    let list = allowed
        .iter()
        .map(|a| format!("\"{a}\""))
        .collect::<Vec<_>>()
        .join(", ");
    let mut diag = Diagnostic::error(format!(
        "expected one of {list}, found {}",
        describe(node, path)
    ))
    .at(path.as_str(), node.pos.location());
    if let Some(best) = closest(&s, allowed.iter().copied()) {
        diag = diag.with_hint(format!("did you mean \"{best}\"?"));
    }
    cx.diags.push(diag);
    None
}

/// Reads one object's keys, remembering which keys the section knows.
pub struct ObjectReader<'n> {
    props: &'n [Prop],
    pos: Pos,
    path: JsonPath,
    known: Vec<&'static str>,
    ignored: Vec<&'static str>,
    used: Vec<bool>,
}

impl<'n> ObjectReader<'n> {
    pub fn new(node: &'n Node, path: &JsonPath, cx: &mut Decoder) -> Option<Self> {
        let NodeKind::Object(props) = &node.kind else {
            cx.expected(node, path, "an object");
            return None;
        };
        Some(Self {
            props,
            pos: node.pos.clone(),
            path: path.clone(),
            known: Vec::new(),
            ignored: Vec::new(),
            used: vec![false; props.len()],
        })
    }

    pub fn path(&self) -> &JsonPath {
        &self.path
    }

    pub fn pos(&self) -> &Pos {
        &self.pos
    }

    /// The raw node under `key` (marks the key as known and used).
    pub fn node(&mut self, key: &'static str) -> Option<(&'n Node, JsonPath)> {
        self.known.push(key);
        let idx = self.props.iter().position(|p| p.key == key)?;
        self.used[idx] = true;
        Some((&self.props[idx].value, self.path.key(key)))
    }

    pub fn field<T: Decode>(&mut self, key: &'static str, cx: &mut Decoder) -> Option<T> {
        let (node, path) = self.node(key)?;
        T::decode(node, &path, cx)
    }

    pub fn field_with<T>(
        &mut self,
        key: &'static str,
        cx: &mut Decoder,
        decode: impl FnOnce(&Node, &JsonPath, &mut Decoder) -> Option<T>,
    ) -> Option<T> {
        let (node, path) = self.node(key)?;
        decode(node, &path, cx)
    }

    /// A required key: missing is an error at the object.
    pub fn required<T: Decode>(&mut self, key: &'static str, cx: &mut Decoder) -> Option<T> {
        if !self.props.iter().any(|p| p.key == key) {
            self.known.push(key);
            cx.error(
                &self.path,
                &self.pos,
                format!("missing required key \"{key}\""),
            );
            return None;
        }
        self.field(key, cx)
    }

    /// Keys OpenClaw knows in this section that clawgate does not implement: accepted, noted.
    pub fn ignore(&mut self, keys: &[&'static str], cx: &mut Decoder) {
        for key in keys {
            self.ignored.push(key);
            if self.node(key).is_some() {
                cx.ignored.push(self.path.key(key).as_str().to_string());
            }
        }
    }

    /// Records the keys this section knows (schema recording only).
    fn record(&self, cx: &mut Decoder) {
        if cx.schema_keys.is_none() {
            return;
        }
        for key in &self.known {
            cx.record_key(&self.path, key, self.ignored.contains(key));
        }
    }

    /// For open sections (`params`): every key not asked for is accepted and listed as
    /// ignored instead of being an error.
    pub fn finish_ignoring_rest(self, cx: &mut Decoder) {
        self.record(cx);
        for (prop, used) in self.props.iter().zip(&self.used) {
            if !*used {
                cx.ignored
                    .push(self.path.key(&prop.key).as_str().to_string());
            }
        }
    }

    /// Every key not asked for is an error with the closest known key as a hint.
    pub fn finish(self, cx: &mut Decoder) {
        self.record(cx);
        for (prop, used) in self.props.iter().zip(&self.used) {
            if *used {
                continue;
            }
            let mut diag = Diagnostic::error(format!("unknown key \"{}\"", prop.key))
                .at(self.path.as_str(), prop.key_pos.location());
            if let Some(best) = closest(&prop.key, self.known.iter().copied()) {
                diag = diag.with_hint(format!("did you mean \"{best}\"?"));
            }
            cx.diags.push(diag);
        }
    }
}

/// Declares a string enum with `Decode`, `Serialize`, `Deserialize`, `as_str` and the list of
/// its values.
macro_rules! string_enum {
    ($(#[$meta:meta])* $vis:vis enum $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        $vis enum $name { $($(#[$vmeta])* $variant),+ }

        impl $name {
            pub const ALL: &'static [&'static str] = &[$($text),+];

            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $text),+ }
            }

            pub fn parse(text: &str) -> Option<Self> {
                match text { $($text => Some(Self::$variant),)+ _ => None }
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                Self::parse(&text).ok_or_else(|| {
                    serde::de::Error::unknown_variant(&text, Self::ALL)
                })
            }
        }

        impl $crate::decode::Decode for $name {
            fn decode(
                node: &$crate::source::Node,
                path: &$crate::diagnostic::JsonPath,
                cx: &mut $crate::decode::Decoder,
            ) -> Option<Self> {
                $crate::decode::one_of(node, path, cx, Self::ALL).and_then(Self::parse)
            }
        }
    };
}
pub(crate) use string_enum;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_keeps_only_a_short_prefix() {
        assert_eq!(redact("sk-abcdefghijklmnop"), "sk-a…(redacted)");
        assert_eq!(redact("short"), "***");
    }

    #[test]
    fn secret_keys_are_recognised() {
        for k in [
            "apiKey",
            "token",
            "password",
            "Authorization",
            "clientSecret",
        ] {
            assert!(is_secret_key(k), "{k}");
        }
        assert!(!is_secret_key("baseUrl"));
    }

    #[test]
    fn urls_show_without_credentials_or_secret_query_values() {
        for (input, shown) in [
            (
                "https://user:hunter2pass@h.example/v1",
                "https://user:***@h.example/v1",
            ),
            (
                "https://ghp_tokenvalue@h.example/v1",
                "https://***@h.example/v1",
            ),
            (
                "https://h.example/v1?key=AIzaSecret&api-version=2024-06-01",
                "https://h.example/v1?key=***&api-version=2024-06-01",
            ),
            (
                "https://h.example/v1?api_key=a&access_token=b&sig=c&X-Amz-Signature=d#frag",
                "https://h.example/v1?api_key=***&access_token=***&sig=***&X-Amz-Signature=***#frag",
            ),
            ("http://127.0.0.1:8000/v1", "http://127.0.0.1:8000/v1"),
            ("http://h?mode=fast", "http://h?mode=fast"),
            ("not a url://x:y@z", "not a url://x:***@z"),
            ("https//user:pw@x?key=k", "https//user:***@x?key=***"),
            ("https://h/v1#frag?key=k", "https://h/v1#frag?key=k"),
        ] {
            assert_eq!(redact_url(input), shown, "{input}");
        }
    }

    #[test]
    fn redacted_json_masks_base_url_credentials() {
        let mut tree = serde_json::json!({
            "models": { "providers": { "p": {
                "baseUrl": "https://u:pw12345@h/v1?token=abc",
                "headers": { "api-key": "azure-key-value-123" },
            }}}
        });
        redact_json(&mut tree);
        let text = tree.to_string();
        assert!(!text.contains("pw12345") && !text.contains("abc"), "{text}");
        assert!(!text.contains("azure-key-value-123"), "{text}");
        assert!(text.contains("https://u:***@h/v1?token=***"), "{text}");
    }
}
