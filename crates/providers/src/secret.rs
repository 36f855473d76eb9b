//! API keys. A [`Secret`] never shows its value through `Debug` or `Display`, and
//! [`redact_secrets`] scrubs keys out of any text an upstream sends back (some servers echo the
//! key, or a prefix of it, in their 401 body).
//!
//! Local servers take any placeholder (`"lmstudio"`, `"ollama-local"`, `"sk-local"`): those are
//! not secrets, so they can be shown, and the Ollama adapter does not send them at all. The rule
//! for "placeholder" is in [`Secret::is_placeholder`].

use std::fmt;

/// Known placeholder values (compared case-insensitively), from OpenClaw's docs and the local
/// servers' own examples.
const KNOWN_PLACEHOLDERS: &[&str] = &[
    "lmstudio",
    "lm-studio",
    "ollama",
    "ollama-local",
    "sk-local",
    "sk-dummy",
    "sk-no-key-required",
    "sk-xxx",
    "no-key",
    "none",
    "null",
    "dummy",
    "local",
    "empty",
    "changeme",
    "not-needed",
    "placeholder",
    "vllm",
    "sglang",
    "llama.cpp",
    "llamacpp",
];

/// Shortest key body (after a `sk-` style prefix) that can carry real entropy.
const MIN_SECRET_BODY_LEN: usize = 12;
/// Fewest distinct characters a real key body has (rules out `1111…`, `xxxx…`).
const MIN_DISTINCT_CHARS: usize = 8;

/// An API key. `Debug`/`Display` print `***` for real secrets, the value for placeholders.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The raw value, for building a request header. Never log it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.trim().is_empty()
    }

    /// True when this key is a placeholder, not a secret. The rule, in order:
    /// 1. empty, or one of the known placeholders (case-insensitive);
    /// 2. after stripping one leading `sk-`/`pk-`/`key-` prefix, the body is shorter than
    ///    12 characters;
    /// 3. the body is only lower-case letters and `-`/`_`/`.` (a word like `my-local-key`);
    /// 4. the body has fewer than 8 distinct characters (`sk-1111111111111111`).
    ///
    /// Every real hosted key (OpenAI `sk-proj-…`, Anthropic `sk-ant-…`, OpenRouter
    /// `sk-or-v1-<hex>`, LiteLLM `sk-<hex>`) is long, mixes digits in, and passes.
    pub fn is_placeholder(&self) -> bool {
        let value = self.0.trim();
        if value.is_empty() {
            return true;
        }
        let lower = value.to_ascii_lowercase();
        if KNOWN_PLACEHOLDERS.contains(&lower.as_str()) {
            return true;
        }
        let body = ["sk-", "pk-", "key-"]
            .iter()
            .find_map(|p| value.strip_prefix(p))
            .unwrap_or(value);
        if body.chars().count() < MIN_SECRET_BODY_LEN {
            return true;
        }
        if body
            .chars()
            .all(|c| c.is_ascii_lowercase() || matches!(c, '-' | '_' | '.'))
        {
            return true;
        }
        let mut distinct: Vec<char> = body.chars().collect();
        distinct.sort_unstable();
        distinct.dedup();
        distinct.len() < MIN_DISTINCT_CHARS
    }

    /// True for a key that must never be shown.
    pub fn is_real(&self) -> bool {
        !self.is_placeholder()
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self::new(value)
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self::new(value)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_placeholder() {
            write!(f, "Secret(placeholder {:?})", self.0)
        } else {
            f.write_str("Secret(***)")
        }
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_placeholder() {
            f.write_str(&self.0)
        } else {
            f.write_str("***")
        }
    }
}

/// What a redacted key is replaced with.
pub const REDACTED: &str = "[REDACTED]";

/// Shortest run of key characters that counts as an echo of a key (a prefix or suffix an
/// upstream printed). Shorter runs are too likely to be ordinary words.
const MIN_ECHO_LEN: usize = 10;

/// Replace every real key in `text`, and every run of key characters (letters, digits, `-`, `_`)
/// of at least 10 characters that is part of a real key (an upstream may echo a prefix or a
/// suffix), with `[REDACTED]`.
pub fn redact_secrets<'a>(text: &str, keys: impl IntoIterator<Item = &'a Secret>) -> String {
    let real: Vec<&str> = keys
        .into_iter()
        .filter(|k| k.is_real())
        .map(Secret::expose)
        .collect();
    if real.is_empty() {
        return text.to_string();
    }
    let mut out = text.to_string();
    for key in &real {
        if out.contains(key) {
            out = out.replace(key, REDACTED);
        }
    }
    redact_key_fragments(&out, &real)
}

fn is_key_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '_'
}

fn redact_key_fragments(text: &str, keys: &[&str]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        let echoed = run.len() >= MIN_ECHO_LEN && keys.iter().any(|k| k.contains(run.as_str()));
        if echoed {
            out.push_str(REDACTED);
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for c in text.chars() {
        if is_key_char(c) {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const REAL: &str = "sk-proj-A1b2C3d4E5f6G7h8I9j0KlMnOpQr";

    #[test]
    fn placeholders_are_recognised() {
        for p in [
            "lmstudio",
            "ollama-local",
            "sk-local",
            "LMSTUDIO",
            "",
            "  ",
            "sk-1111111111111111",
            "my-very-local-server-key",
            "sk-abc123",
            "xxxxxxxxxxxxxxxxxxxxxxxx",
        ] {
            assert!(
                Secret::new(p).is_placeholder(),
                "{p:?} should be a placeholder"
            );
        }
    }

    #[test]
    fn real_keys_are_secrets() {
        for k in [
            REAL,
            "sk-ant-api03-Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2Jh1Gf0",
            "sk-or-v1-0123456789abcdef0123456789abcdef",
            "sk-4f1c2a9be07d43c8",
        ] {
            assert!(Secret::new(k).is_real(), "{k:?} should be a real secret");
        }
    }

    #[test]
    fn debug_and_display_hide_real_keys() {
        let s = Secret::new(REAL);
        assert_eq!(format!("{s:?}"), "Secret(***)");
        assert_eq!(format!("{s}"), "***");
        let p = Secret::new("lmstudio");
        assert!(format!("{p:?}").contains("lmstudio"));
    }

    #[test]
    fn redaction_removes_whole_keys_and_echoed_fragments() {
        let key = Secret::new(REAL);
        let body = format!("Incorrect API key provided: {REAL}. You can find your key at …");
        let out = redact_secrets(&body, [&key]);
        assert!(!out.contains(REAL));
        assert!(out.contains(REDACTED));

        let prefix = &REAL[..16];
        let out = redact_secrets(&format!("key {prefix}… is invalid"), [&key]);
        assert!(!out.contains(prefix), "{out}");

        let suffix = &REAL[REAL.len() - 12..];
        let out = redact_secrets(&format!("key ending in {suffix}"), [&key]);
        assert!(!out.contains(suffix), "{out}");
    }

    #[test]
    fn redaction_leaves_ordinary_text_and_placeholders_alone() {
        let key = Secret::new(REAL);
        let text = "This model's maximum context length is 4096 tokens";
        assert_eq!(redact_secrets(text, [&key]), text);
        let p = Secret::new("lmstudio");
        assert_eq!(redact_secrets("bad key lmstudio", [&p]), "bad key lmstudio");
    }
}
