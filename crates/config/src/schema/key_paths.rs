//! Every key path the schema knows, read from the decoders themselves so there is no second
//! list to keep in step: documents are decoded with key recording on
//! ([`Decoder::schema_keys`]), each section's reader reports every key it asks for (and which
//! of them it only lists as ignored), and a probe grows the document until every section has
//! been reached. The docs-vs-schema test compares this with `docs/configuration.md`.
//!
//! The probe tries each key with a string, a list of strings and a map of strings: a key that
//! takes one of those without error is a leaf (a value such as a model ref or a secret, even
//! if it also has an object form). Otherwise it tries an object, a list of objects and a map
//! of objects: the first that makes a decoder ask for keys below it is the key's shape, and
//! those keys are probed in turn. Map keys print as `<id>`, list items as `[]`:
//! `models.providers.<id>.models[].compat.thinkingFormat`.

use std::collections::{BTreeMap, VecDeque};
use std::path::Path;

use serde_json::{Value, json};

use crate::decode::{Decoder, SchemaKey};
use crate::schema::ClawgateConfig;
use crate::source::parse_text;

/// How a map key (a provider id, a model ref) prints in a key path.
pub const MAP_KEY: &str = "<id>";

/// The map key the probe writes: a plain identifier no section knows.
const PROBE_KEY: &str = "__id__";

/// One key of the schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyPath {
    /// `agents.defaults.compaction.mode`, `models.providers.<id>.models[].id`.
    pub path: String,
    /// Accepted and listed as ignored at load (not implemented).
    pub ignored: bool,
    /// Holds keys of its own (a section); its effect is that of its keys.
    pub section: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Seg {
    Key(String),
    Index,
}

/// Every key the schema knows, sorted by path.
pub fn schema_key_paths() -> Vec<KeyPath> {
    let mut probe = Probe::default();
    let (keys, _) = probe.decode();
    let mut queue = VecDeque::new();
    probe.learn(keys, &mut queue);
    while let Some(location) = queue.pop_front() {
        if let Some(found) = probe.explore(&location) {
            probe.learn(found, &mut queue);
        }
    }
    probe.known.into_values().collect()
}

#[derive(Default)]
struct Probe {
    doc: Value,
    known: BTreeMap<String, KeyPath>,
}

impl Probe {
    /// Decodes the probe document: the keys the decoders asked for, and the paths of errors.
    fn decode(&self) -> (Vec<SchemaKey>, Vec<String>) {
        let doc = if self.doc.is_null() {
            json!({})
        } else {
            self.doc.clone()
        };
        let node = match parse_text(Path::new("probe.json5"), &doc.to_string()) {
            Ok(node) => node,
            Err(_) => return (Vec::new(), Vec::new()),
        };
        let mut cx = Decoder {
            schema_keys: Some(Vec::new()),
            ..Decoder::default()
        };
        ClawgateConfig::decode_root(&node, &mut cx);
        let errors = cx
            .diags
            .iter()
            .filter(|d| d.is_error())
            .map(|d| d.path.clone())
            .collect();
        (cx.schema_keys.unwrap_or_default(), errors)
    }

    /// Adds newly seen keys; queues the implemented ones for probing.
    fn learn(&mut self, keys: Vec<SchemaKey>, queue: &mut VecDeque<Vec<Seg>>) {
        for key in keys {
            let mut location = parse_path(&key.object);
            location.push(Seg::Key(key.key.to_string()));
            let path = print(&location);
            if self.known.contains_key(&path) {
                continue;
            }
            self.known.insert(
                path.clone(),
                KeyPath {
                    path,
                    ignored: key.ignored,
                    section: false,
                },
            );
            if !key.ignored {
                queue.push_back(location);
            }
        }
    }

    /// Finds the shape of the key at `location`; `Some(keys below it)` for a section.
    fn explore(&mut self, location: &[Seg]) -> Option<Vec<SchemaKey>> {
        let printed = print(location);
        let concrete = concrete(location);
        let below = |keys: Vec<SchemaKey>| -> Vec<SchemaKey> {
            keys.into_iter()
                .filter(|k| is_at_or_below(&print(&parse_path(&k.object)), &printed))
                .collect()
        };
        let leaves = [json!("x"), json!(["x"]), json!({ PROBE_KEY: "x" })];
        for value in leaves {
            set(&mut self.doc, location, value);
            let (keys, errors) = self.decode();
            let clean = !errors.iter().any(|p| is_at_or_below(p, &concrete));
            remove(&mut self.doc, location);
            // An open section (`params`) takes a map of strings too, but its reader asks
            // for keys: not a leaf.
            if clean && below(keys).is_empty() {
                return None;
            }
        }
        let sections = [json!({}), json!([{}]), json!({ PROBE_KEY: {} })];
        for value in sections {
            set(&mut self.doc, location, value);
            let (keys, _) = self.decode();
            let below = below(keys);
            if !below.is_empty() {
                if let Some(entry) = self.known.get_mut(&printed) {
                    entry.section = true;
                }
                return Some(below);
            }
            remove(&mut self.doc, location);
        }
        None
    }
}

/// `a.b[0].c` / `a.b["x"]` as segments (the probe only writes plain keys and index 0).
fn parse_path(path: &str) -> Vec<Seg> {
    let mut segs = Vec::new();
    for part in path.split('.').filter(|p| !p.is_empty()) {
        let mut rest = part;
        if let Some(open) = rest.find('[') {
            if open > 0 {
                segs.push(Seg::Key(rest[..open].to_string()));
            }
            rest = &rest[open..];
            while let Some(close) = rest.find(']') {
                let inner = &rest[1..close];
                if inner.starts_with('"') {
                    segs.push(Seg::Key(inner.trim_matches('"').to_string()));
                } else {
                    segs.push(Seg::Index);
                }
                rest = &rest[close + 1..];
            }
        } else {
            segs.push(Seg::Key(rest.to_string()));
        }
    }
    segs
}

/// The printed key path: map keys as `<id>`, list items as `[]`.
fn print(location: &[Seg]) -> String {
    let mut out = String::new();
    for seg in location {
        match seg {
            Seg::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(if k == PROBE_KEY { MAP_KEY } else { k });
            }
            Seg::Index => out.push_str("[]"),
        }
    }
    out
}

/// The path as the decoder prints it in diagnostics (`a.b[0]`).
fn concrete(location: &[Seg]) -> String {
    let mut out = String::new();
    for seg in location {
        match seg {
            Seg::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k);
            }
            Seg::Index => out.push_str("[0]"),
        }
    }
    out
}

fn is_at_or_below(path: &str, prefix: &str) -> bool {
    path == prefix
        || path
            .strip_prefix(prefix)
            .is_some_and(|rest| rest.starts_with('.') || rest.starts_with('['))
}

/// The container `location` points into, created as needed.
fn slot<'a>(doc: &'a mut Value, location: &[Seg]) -> Option<&'a mut Value> {
    let mut cur = doc;
    for seg in location {
        cur = match seg {
            Seg::Key(k) => {
                if !cur.is_object() {
                    *cur = json!({});
                }
                cur.as_object_mut()?.entry(k.clone()).or_insert(Value::Null)
            }
            Seg::Index => {
                if !cur.is_array() {
                    *cur = json!([null]);
                }
                cur.as_array_mut()?.get_mut(0)?
            }
        };
    }
    Some(cur)
}

fn set(doc: &mut Value, location: &[Seg], value: Value) {
    if let Some(target) = slot(doc, location) {
        *target = value;
    }
}

fn remove(doc: &mut Value, location: &[Seg]) {
    let Some((Seg::Key(last), parent)) = location.split_last() else {
        return;
    };
    if let Some(Value::Object(map)) = slot(doc, parent) {
        map.remove(last);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn find<'a>(keys: &'a [KeyPath], path: &str) -> &'a KeyPath {
        match keys.iter().find(|k| k.path == path) {
            Some(k) => k,
            None => panic!("{path} not among {} keys", keys.len()),
        }
    }

    #[test]
    fn reaches_nested_sections_lists_and_maps() {
        let keys = schema_key_paths();
        assert!(!find(&keys, "gateway.port").section);
        assert!(find(&keys, "models.providers.<id>.models[].compat").section);
        assert!(
            !find(
                &keys,
                "models.providers.<id>.models[].compat.thinkingFormat"
            )
            .ignored
        );
        assert!(find(&keys, "agents.defaults.models.<id>.params").section);
        assert!(!find(&keys, "agents.defaults.models.<id>.params.extra_body").section);
        assert!(find(&keys, "agents.list[].tools").section);
        assert!(find(&keys, "channels").ignored);
        assert!(
            !find(&keys, "env").section,
            "free-form: variable names are its keys"
        );
    }

    #[test]
    fn values_with_an_object_form_are_leaves() {
        let keys = schema_key_paths();
        for leaf in [
            "agents.defaults.model",
            "models.providers.<id>.apiKey",
            "models.providers.<id>.apiKeys",
            "models.providers.<id>.headers",
            "gateway.auth.token",
        ] {
            assert!(!find(&keys, leaf).section, "{leaf}");
        }
        assert!(
            !keys
                .iter()
                .any(|k| k.path.starts_with("models.providers.<id>.apiKey.")),
            "a secret ref's keys are its value's, not the schema's"
        );
    }

    #[test]
    fn paths_round_trip() {
        let segs = parse_path("models.providers.__id__.models[0].compat");
        assert_eq!(print(&segs), "models.providers.<id>.models[].compat");
        assert_eq!(concrete(&segs), "models.providers.__id__.models[0].compat");
    }
}
