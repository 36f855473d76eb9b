//! The configuration reference (`docs/configuration.md`, section "Schema"), the schema (every
//! key the decoders read, `schema::key_paths`) and the effect tests (`key_effects.json5`)
//! agree: a documented key exists, every key is documented (as a setting, or on an `Ignored:`
//! line when the loader only lists it as ignored), and every implemented key names at least
//! one test that shows its effect, which must exist.
//!
//! The docs format the parser reads: inside `## Schema`, a `###`/`####` heading with one
//! backticked path (or ending in "(`path`)") sets the base path; the first cell of each table
//! row names keys relative to it (several, comma-separated, are fine); a line starting with
//! `Ignored:` names keys the loader ignores. `<anything>` and `["p/m"]` stand for a map key.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use clawgate_config::schema::key_paths::{KeyPath, MAP_KEY, schema_key_paths};
use serde_json::Value;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Backticked tokens of a line.
fn ticked(line: &str) -> Vec<String> {
    line.split('`')
        .enumerate()
        .filter(|(i, _)| i % 2 == 1)
        .map(|(_, t)| t.to_string())
        .collect()
}

/// A key path as the schema prints it (`<…>` and `["…"]` map keys become `<id>`), or `None`
/// for a token that is not a key path (a value, a command).
fn normalize(token: &str) -> Option<String> {
    let mut out = String::new();
    let mut rest = token;
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix("[]") {
            out.push_str("[]");
            rest = r;
        } else if rest.starts_with("[\"") {
            let end = rest.find("\"]")?;
            out.push('.');
            out.push_str(MAP_KEY);
            rest = &rest[end + 2..];
        } else if let Some(r) = rest.strip_prefix('.') {
            out.push('.');
            rest = r;
        } else if rest.starts_with('<') {
            let end = rest.find('>')?;
            out.push_str(MAP_KEY);
            rest = &rest[end + 1..];
        } else {
            let end = rest.find(['.', '[', '<']).unwrap_or(rest.len());
            let word = &rest[..end];
            let ok = word
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
                && !word.is_empty();
            if !ok {
                return None;
            }
            out.push_str(word);
            rest = &rest[end..];
        }
    }
    Some(out)
}

fn join(base: &str, key: &str) -> String {
    if base.is_empty() {
        key.to_string()
    } else if key.starts_with('[') {
        format!("{base}{key}")
    } else {
        format!("{base}.{key}")
    }
}

#[derive(Default)]
struct Docs {
    /// Key path → line number.
    settings: BTreeMap<String, usize>,
    ignored: BTreeMap<String, usize>,
}

fn parse_docs(text: &str) -> Docs {
    let mut docs = Docs::default();
    let mut in_schema = false;
    let mut base = String::new();
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        if line.starts_with("## ") {
            in_schema = line.trim() == "## Schema";
            continue;
        }
        if !in_schema {
            continue;
        }
        if line.starts_with("###") {
            let tokens = ticked(line);
            base = match (line.trim_end().ends_with("`)"), tokens.as_slice()) {
                (true, [.., last]) => normalize(last).unwrap_or_default(),
                (false, [one]) => normalize(one).unwrap_or_default(),
                _ => String::new(),
            };
            continue;
        }
        if let Some(rest) = line.trim_start().strip_prefix("Ignored:") {
            for t in ticked(rest) {
                if let Some(key) = normalize(&t) {
                    docs.ignored.insert(join(&base, &key), n);
                }
            }
            continue;
        }
        if line.starts_with('|') && !line.starts_with("|---") {
            let first = line.split('|').nth(1).unwrap_or_default();
            for t in ticked(first) {
                if let Some(key) = normalize(&t) {
                    docs.settings.insert(join(&base, &key), n);
                }
            }
        }
    }
    docs
}

struct Effects {
    aliases: Vec<(String, String)>,
    effects: BTreeMap<String, Vec<String>>,
}

fn load_effects() -> Effects {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/key_effects.json5");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let node = clawgate_config::source::parse_text(&path, &text)
        .unwrap_or_else(|e| panic!("{}: {}", path.display(), e.render(None)));
    let json = node.to_json();
    let aliases = json["aliases"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect()
        })
        .unwrap_or_default();
    let effects = json["effects"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| {
                    let tests = match v {
                        Value::String(s) => vec![s.clone()],
                        Value::Array(items) => items
                            .iter()
                            .filter_map(|t| t.as_str().map(str::to_string))
                            .collect(),
                        _ => Vec::new(),
                    };
                    (k.clone(), tests)
                })
                .collect()
        })
        .unwrap_or_default();
    Effects { aliases, effects }
}

/// Every `.rs` file under `dir`.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Checks `crate::module::…::test_fn`: the crate directory exists, and a file of it whose
/// path contains every module segment (other than `tests`) defines `fn test_fn` under a test
/// attribute. `Err` says what is missing.
fn check_test(reference: &str) -> Result<(), String> {
    let segments: Vec<&str> = reference.split("::").collect();
    let [krate, modules @ .., name] = segments.as_slice() else {
        return Err("expected `crate::module::test_name`".into());
    };
    let dir = repo().join("crates").join(krate);
    if !dir.is_dir() {
        return Err(format!("no crate directory crates/{krate}"));
    }
    let mut files = Vec::new();
    rust_files(&dir, &mut files);
    let wanted = format!("fn {name}(");
    for file in &files {
        let rel = file
            .strip_prefix(&dir)
            .unwrap_or(file)
            .to_string_lossy()
            .to_string();
        let parts: Vec<&str> = rel.split('/').map(|p| p.trim_end_matches(".rs")).collect();
        let matches_modules = modules.iter().filter(|m| **m != "tests").all(|m| {
            parts
                .iter()
                .any(|p| p == m || p.trim_end_matches("_tests") == *m)
        });
        if !matches_modules {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(file) else {
            continue;
        };
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            if line.trim_start().starts_with(&wanted)
                || line.trim_start().starts_with(&format!("async {wanted}"))
            {
                let attributed = lines[i.saturating_sub(4)..i]
                    .iter()
                    .any(|l| l.contains("#[test]") || l.contains("#[tokio::test"));
                if attributed {
                    return Ok(());
                }
                return Err(format!("`{name}` in {rel} is not a test"));
            }
        }
    }
    Err(format!(
        "no test `{name}` in crates/{krate} (modules {modules:?})"
    ))
}

fn is_below(path: &str, prefix: &str) -> bool {
    path.strip_prefix(prefix)
        .is_some_and(|r| r.starts_with('.') || r.starts_with('['))
}

#[test]
fn docs_schema_and_effect_tests_agree() {
    let schema: BTreeMap<String, KeyPath> = schema_key_paths()
        .into_iter()
        .map(|k| (k.path.clone(), k))
        .collect();
    let text = std::fs::read_to_string(repo().join("docs/configuration.md"))
        .unwrap_or_else(|e| panic!("docs/configuration.md: {e}"));
    let docs = parse_docs(&text);
    let effects = load_effects();
    let mut problems: Vec<String> = Vec::new();

    // Aliased sections take their keys from their target: same keys, documented and tested
    // once, at the target.
    let relative = |prefix: &str| -> BTreeSet<(String, bool)> {
        schema
            .values()
            .filter(|k| is_below(&k.path, prefix))
            .map(|k| (k.path[prefix.len()..].to_string(), k.ignored))
            .collect()
    };
    for (alias, target) in &effects.aliases {
        if relative(alias) != relative(target) {
            problems.push(format!(
                "alias `{alias}` → `{target}` in key_effects.json5: the schema gives them different keys"
            ));
        }
    }
    let aliased = |path: &str| effects.aliases.iter().any(|(a, _)| is_below(path, a));

    for (path, line) in docs.settings.iter().chain(&docs.ignored) {
        if !schema.contains_key(path) && !aliased(path) {
            problems.push(format!(
                "docs/configuration.md:{line}: documented key `{path}` is not in the schema"
            ));
        }
    }
    for key in schema.values().filter(|k| !aliased(&k.path)) {
        let path = &key.path;
        if key.ignored {
            if !docs.ignored.contains_key(path) {
                problems.push(format!(
                    "`{path}` is ignored by the loader but docs/configuration.md has no `Ignored:` line naming it"
                ));
            }
            if let Some(line) = docs.settings.get(path) {
                problems.push(format!(
                    "docs/configuration.md:{line}: `{path}` is documented as a setting, but the loader ignores it"
                ));
            }
            continue;
        }
        if let Some(line) = docs.ignored.get(path) {
            problems.push(format!(
                "docs/configuration.md:{line}: `{path}` is listed as ignored, but the loader reads it"
            ));
        }
        if key.section {
            continue;
        }
        if !docs.settings.contains_key(path) {
            problems.push(format!(
                "schema key `{path}` is undocumented: add a row to docs/configuration.md (Schema)"
            ));
        }
    }

    let needs_effect: BTreeSet<&String> = schema
        .values()
        .filter(|k| !k.ignored && !aliased(&k.path))
        .filter(|k| !k.section || effects.aliases.iter().any(|(a, _)| *a == k.path))
        .map(|k| &k.path)
        .collect();
    for path in &needs_effect {
        match effects.effects.get(*path) {
            None => problems.push(format!(
                "schema key `{path}` has no effect test: name one in crates/config/tests/key_effects.json5, or make the loader list it as ignored"
            )),
            Some(tests) if tests.is_empty() => {
                problems.push(format!("key_effects.json5: `{path}` names no test"))
            }
            Some(tests) => {
                for t in tests {
                    if let Err(why) = check_test(t) {
                        problems.push(format!("key_effects.json5: `{path}`: test `{t}`: {why}"));
                    }
                }
            }
        }
    }
    for path in effects.effects.keys() {
        if !needs_effect.contains(path) {
            problems.push(format!(
                "key_effects.json5 names `{path}`, which is not an implemented key of the schema"
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "{} problem(s):\n{}",
        problems.len(),
        problems.join("\n")
    );
}

#[test]
fn the_docs_parser_reads_bases_rows_and_ignored_lines() {
    let docs = parse_docs(
        "## Schema\n### `a.b`\n| key | x |\n|---|---|\n| `c`, `d.<ref>.e` | y |\n\
         Ignored: `f`, `/new`\n#### X (`g[]`)\n| `h` | |\n## Other\n| `z` | |\n",
    );
    let settings: Vec<&String> = docs.settings.keys().collect();
    assert_eq!(settings, ["a.b.c", "a.b.d.<id>.e", "g[].h"]);
    let ignored: Vec<&String> = docs.ignored.keys().collect();
    assert_eq!(ignored, ["a.b.f"]);
    assert!(
        check_test("config::docs_schema::the_docs_parser_reads_bases_rows_and_ignored_lines")
            .is_ok()
    );
    assert!(check_test("config::docs_schema::no_such_test").is_err());
}
