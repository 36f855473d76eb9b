//! Diagnostics: what is wrong, where (JSON path, file, line, column) and a hint.
//!
//! Loading collects every diagnostic it can in one pass instead of stopping at the first, so a
//! user fixes a config in one round. The `Display` form is the compiler-like text the CLI
//! prints: `error: unknown key "baseURL" at models.providers.local (clawgate.json:7:7)`
//! followed by an indented hint line.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Location {
    pub file: PathBuf,
    pub line: u32,
    pub column: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    pub severity: Severity,
    pub message: String,
    /// JSON path of the object or value concerned (`models.providers.local`); empty = root.
    pub path: String,
    pub location: Option<Location>,
    /// Extra line, e.g. `did you mean "baseUrl"?`.
    pub hint: Option<String>,
    /// Set when the diagnostic concerns a file but no position in it (unreadable file).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<PathBuf>,
}

impl Diagnostic {
    pub fn error(message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Error,
            message: message.into(),
            path: String::new(),
            location: None,
            hint: None,
            file: None,
        }
    }

    pub fn warning(message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Warning,
            ..Self::error(message)
        }
    }

    pub fn at(mut self, path: impl Into<String>, location: Location) -> Self {
        self.path = path.into();
        self.location = Some(location);
        self
    }

    pub fn at_path(mut self, path: impl Into<String>) -> Self {
        self.path = path.into();
        self
    }

    pub fn at_file(mut self, file: PathBuf) -> Self {
        self.file = Some(file);
        self
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// Renders with file names shown relative to `base` (the root config's directory) when
    /// they sit below it, so messages read `clawgate.json:7:7`.
    pub fn render(&self, base: Option<&Path>) -> String {
        let label = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let mut out = format!("{label}: {}", self.message);
        if !self.path.is_empty() {
            out.push_str(&format!(" at {}", self.path));
        }
        if let Some(loc) = &self.location {
            out.push_str(&format!(
                " ({}:{}:{})",
                display_file(&loc.file, base),
                loc.line,
                loc.column
            ));
        } else if let Some(file) = &self.file {
            out.push_str(&format!(" ({})", display_file(file, base)));
        }
        if let Some(hint) = &self.hint {
            out.push_str("\n  ");
            out.push_str(hint);
        }
        out
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render(None))
    }
}

pub fn display_file(file: &Path, base: Option<&Path>) -> String {
    base.and_then(|b| file.strip_prefix(b).ok())
        .unwrap_or(file)
        .display()
        .to_string()
}

/// A JSON path for messages: `models.providers.local.models[0]`, with keys that are not plain
/// identifiers quoted: `agents.defaults.models["openai/gpt-5"]`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JsonPath(String);

impl JsonPath {
    pub fn root() -> Self {
        Self(String::new())
    }

    pub fn key(&self, key: &str) -> Self {
        let plain = !key.is_empty()
            && key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '$')
            && !key.starts_with(|c: char| c.is_ascii_digit());
        if plain {
            if self.0.is_empty() {
                Self(key.to_string())
            } else {
                Self(format!("{}.{key}", self.0))
            }
        } else {
            let quoted = serde_json::to_string(key).unwrap_or_else(|_| format!("\"{key}\""));
            Self(format!("{}[{quoted}]", self.0))
        }
    }

    pub(crate) fn from_raw(raw: String) -> Self {
        Self(raw)
    }

    pub fn index(&self, index: usize) -> Self {
        Self(format!("{}[{index}]", self.0))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The last key segment (for "is this a secret?" checks).
    pub fn last_key(&self) -> &str {
        let tail = self.0.rsplit(['.', '[']).next().unwrap_or("");
        tail.trim_end_matches(']').trim_matches('"')
    }
}

impl fmt::Display for JsonPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            f.write_str("(root)")
        } else {
            f.write_str(&self.0)
        }
    }
}

/// A `did you mean` hint from the closest candidate (Jaro-Winkler, case-insensitive).
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let lower = word.to_lowercase();
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(&lower, &c.to_lowercase()), c))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

/// The `n` closest candidates, best first (for "unknown model" errors).
pub fn closest_n(word: &str, candidates: &[String], n: usize) -> Vec<String> {
    let lower = word.to_lowercase();
    let mut scored: Vec<(f64, &String)> = candidates
        .iter()
        .map(|c| (strsim::jaro_winkler(&lower, &c.to_lowercase()), c))
        .filter(|(score, _)| *score >= 0.7)
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(b.1)));
    scored.into_iter().take(n).map(|(_, c)| c.clone()).collect()
}

/// Like [`closest_n`] for model refs: a candidate also scores by its model id (the part after
/// the first `/`), so a bare `gpt5` still finds `openai/gpt-5`.
pub fn closest_refs(word: &str, candidates: &[String], n: usize) -> Vec<String> {
    let lower = word.to_lowercase();
    let score = |c: &str| {
        let c = c.to_lowercase();
        let whole = strsim::jaro_winkler(&lower, &c);
        let id = c
            .split_once('/')
            .map_or(0.0, |(_, m)| strsim::jaro_winkler(&lower, m));
        whole.max(id)
    };
    let mut scored: Vec<(f64, &String)> = candidates
        .iter()
        .map(|c| (score(c), c))
        .filter(|(s, _)| *s >= 0.75)
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(b.1)));
    scored.into_iter().take(n).map(|(_, c)| c.clone()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_quote_keys_that_are_not_identifiers() {
        let p = JsonPath::root()
            .key("agents")
            .key("defaults")
            .key("models")
            .key("openai/gpt-5")
            .key("alias");
        assert_eq!(p.as_str(), "agents.defaults.models[\"openai/gpt-5\"].alias");
        assert_eq!(p.last_key(), "alias");
        assert_eq!(JsonPath::root().key("a").index(2).as_str(), "a[2]");
    }

    #[test]
    fn render_matches_compiler_style() {
        let d = Diagnostic::error("unknown key \"baseURL\"")
            .at(
                "models.providers.local",
                Location {
                    file: PathBuf::from("/x/clawgate.json"),
                    line: 7,
                    column: 7,
                },
            )
            .with_hint("did you mean \"baseUrl\"?");
        assert_eq!(
            d.render(Some(Path::new("/x"))),
            "error: unknown key \"baseURL\" at models.providers.local (clawgate.json:7:7)\n  did you mean \"baseUrl\"?"
        );
    }

    #[test]
    fn closest_finds_case_variants() {
        assert_eq!(
            closest("baseURL", ["baseUrl", "apiKey", "api"]),
            Some("baseUrl")
        );
        assert_eq!(closest("zzzz", ["baseUrl", "apiKey"]), None);
    }
}
