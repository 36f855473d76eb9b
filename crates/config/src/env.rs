//! Environment variables as the loader sees them, and `${VAR}` substitution.
//!
//! The loader never reads or writes the process environment itself: the caller passes a
//! snapshot (`EnvVars::from_process()` in the binary, a plain map in tests), and the `.env`
//! files and the config's `env` block are layered on top without overriding a variable that
//! is already set (non-empty). This keeps tests pure and parallel-safe. `.env` files are read
//! with `dotenvy` (a well-kept parser of the usual `KEY=value` / `export` / quoting rules).

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;

use crate::diagnostic::{Diagnostic, JsonPath};
use crate::source::{Node, NodeKind};

/// Where a variable came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum EnvOrigin {
    Process,
    /// `./.env` in the working directory.
    DotEnvCwd,
    /// `<state dir>/.env`.
    DotEnvStateDir,
    /// OpenClaw's `<state dir>/.env` (`~/.openclaw/.env`).
    DotEnvOpenClaw,
    /// The config's `env` block.
    ConfigEnv,
}

#[derive(Clone, Default)]
pub struct EnvVars {
    vars: BTreeMap<String, (String, EnvOrigin)>,
}

/// Names only: values may be secrets, and a registry (which holds its env) may be logged.
impl std::fmt::Debug for EnvVars {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.vars.keys()).finish()
    }
}

impl EnvVars {
    /// A snapshot of the process environment (variables that are not valid UTF-8 are skipped).
    pub fn from_process() -> Self {
        Self::from_pairs(
            std::env::vars_os()
                .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?))),
        )
    }

    /// An explicit "process" environment (tests, embedding).
    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        let vars = pairs
            .into_iter()
            .map(|(k, v)| (k.into(), (v.into(), EnvOrigin::Process)))
            .collect();
        Self { vars }
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.vars.get(key).map(|(v, _)| v.as_str())
    }

    /// A non-empty value, or `None`.
    pub fn non_empty(&self, key: &str) -> Option<&str> {
        self.get(key).filter(|v| !v.is_empty())
    }

    pub fn origin(&self, key: &str) -> Option<EnvOrigin> {
        self.vars.get(key).map(|(_, o)| *o)
    }

    /// Adds variables that are not set yet (an empty value counts as not set).
    pub fn add_missing(
        &mut self,
        origin: EnvOrigin,
        pairs: impl IntoIterator<Item = (String, String)>,
    ) {
        for (key, value) in pairs {
            let already = self.vars.get(&key).is_some_and(|(v, _)| !v.is_empty());
            if !already {
                self.vars.insert(key, (value, origin));
            }
        }
    }

    /// Variables that did not come from the process (for a binary that wants to export them
    /// to child processes).
    pub fn added(&self) -> impl Iterator<Item = (&str, &str, EnvOrigin)> {
        self.vars
            .iter()
            .filter(|(_, (_, o))| *o != EnvOrigin::Process)
            .map(|(k, (v, o))| (k.as_str(), v.as_str(), *o))
    }
}

/// Reads a `.env` file; a missing file is no error.
pub fn read_dotenv(path: &Path) -> Result<Vec<(String, String)>, Box<Diagnostic>> {
    if !path.is_file() {
        return Ok(Vec::new());
    }
    let iter = dotenvy::from_path_iter(path).map_err(|err| {
        Box::new(
            Diagnostic::error(format!("cannot read {}: {err}", path.display()))
                .at_file(path.to_path_buf()),
        )
    })?;
    let mut out = Vec::new();
    for item in iter {
        match item {
            Ok(pair) => out.push(pair),
            Err(err) => {
                return Err(Box::new(
                    Diagnostic::error(format!("invalid .env file: {err}"))
                        .at_file(path.to_path_buf()),
                ));
            }
        }
    }
    Ok(out)
}

/// Whether `name` is a substitutable variable name: `[A-Z_][A-Z0-9_]*`.
pub fn is_var_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_uppercase() || c == '_')
        && chars.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

/// Replaces `${VAR}` in one string; `$${VAR}` yields the literal `${VAR}`. Returns the names
/// that are missing or empty.
pub fn substitute_str(text: &str, env: &EnvVars) -> Result<String, Vec<String>> {
    if !text.contains("${") {
        return Ok(text.to_string());
    }
    let mut out = String::with_capacity(text.len());
    let mut missing = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        if let Some(name) = tail.strip_prefix("$${").and_then(var_before_brace) {
            out.push_str("${");
            out.push_str(name);
            out.push('}');
            rest = &tail[name.len() + 4..];
        } else if let Some(name) = tail.strip_prefix("${").and_then(var_before_brace) {
            match env.non_empty(name) {
                Some(value) => out.push_str(value),
                None => missing.push(name.to_string()),
            }
            rest = &tail[name.len() + 3..];
        } else {
            out.push('$');
            rest = &tail[1..];
        }
    }
    out.push_str(rest);
    if missing.is_empty() {
        Ok(out)
    } else {
        Err(missing)
    }
}

fn var_before_brace(s: &str) -> Option<&str> {
    let end = s.find('}')?;
    let name = &s[..end];
    is_var_name(name).then_some(name)
}

/// Substitutes every string value below `node` (keys are left alone), collecting one
/// diagnostic per missing variable.
pub fn substitute_tree(
    node: &mut Node,
    path: &JsonPath,
    env: &EnvVars,
    diags: &mut Vec<Diagnostic>,
) {
    match &mut node.kind {
        NodeKind::String(s) => match substitute_str(s, env) {
            Ok(value) => *s = value,
            Err(missing) => {
                for name in missing {
                    diags.push(
                        Diagnostic::error(format!(
                            "environment variable {name} is missing or empty"
                        ))
                        .at(path.as_str(), node.pos.location())
                        .with_hint(format!(
                            "set {name} in the environment, ./.env, the state dir's .env or the \
                             config's env block; write $${{{name}}} for a literal ${{{name}}}"
                        )),
                    );
                }
            }
        },
        NodeKind::Array(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                substitute_tree(item, &path.index(i), env, diags);
            }
        }
        NodeKind::Object(props) => {
            for prop in props.iter_mut() {
                let child = path.key(&prop.key);
                substitute_tree(&mut prop.value, &child, env, diags);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env() -> EnvVars {
        EnvVars::from_pairs([("BASE", "http://h:1"), ("EMPTY", ""), ("_X1", "x")])
    }

    #[test]
    fn substitutes_inline_and_escapes() {
        let e = env();
        assert_eq!(substitute_str("${BASE}/v1", &e).unwrap(), "http://h:1/v1");
        assert_eq!(substitute_str("$${BASE}/v1", &e).unwrap(), "${BASE}/v1");
        assert_eq!(substitute_str("a${_X1}b${_X1}", &e).unwrap(), "axbx");
        assert_eq!(substitute_str("$5 and $x", &e).unwrap(), "$5 and $x");
    }

    #[test]
    fn lowercase_names_are_left_alone() {
        assert_eq!(substitute_str("${base}", &env()).unwrap(), "${base}");
        assert_eq!(substitute_str("${1A}", &env()).unwrap(), "${1A}");
    }

    #[test]
    fn missing_and_empty_are_errors() {
        assert_eq!(
            substitute_str("${NOPE_1}-${EMPTY}", &env()).unwrap_err(),
            vec!["NOPE_1".to_string(), "EMPTY".to_string()]
        );
    }

    #[test]
    fn debug_output_shows_names_not_values() {
        let text = format!(
            "{:?}",
            EnvVars::from_pairs([("SECRET_KEY", "sk-value-123")])
        );
        assert_eq!(text, "{\"SECRET_KEY\"}");
    }

    #[test]
    fn layers_never_override_a_set_variable() {
        let mut e = env();
        e.add_missing(
            EnvOrigin::DotEnvCwd,
            [
                ("BASE".to_string(), "other".to_string()),
                ("EMPTY".to_string(), "now".to_string()),
            ],
        );
        e.add_missing(
            EnvOrigin::ConfigEnv,
            [("EMPTY".to_string(), "later".to_string())],
        );
        assert_eq!(e.get("BASE"), Some("http://h:1"));
        assert_eq!(e.get("EMPTY"), Some("now"));
        assert_eq!(e.origin("EMPTY"), Some(EnvOrigin::DotEnvCwd));
    }
}
