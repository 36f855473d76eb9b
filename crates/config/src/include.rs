//! `$include`: splitting one config over several files, as OpenClaw does.
//!
//! Any object may carry `"$include": "path"` or an array of paths. Paths are relative to the
//! file that contains the `$include`. Included files are deep-merged in order, then the sibling
//! keys of the including object are merged on top (siblings win). Nesting is limited to 10
//! levels and a cycle is an error that names the chain. Every included node keeps its own file
//! in its position, so later diagnostics point into the right file.

use std::path::{Path, PathBuf};

use crate::diagnostic::{Diagnostic, JsonPath, display_file};
use crate::source::{Node, NodeKind, Prop, parse_file};

pub const INCLUDE_KEY: &str = "$include";
pub const MAX_INCLUDE_DEPTH: usize = 10;

/// Expands every `$include` below `root` (read from `root_file`).
pub fn expand_includes(root: Node, root_file: &Path, diags: &mut Vec<Diagnostic>) -> Node {
    let canonical = std::fs::canonicalize(root_file).unwrap_or_else(|_| root_file.to_path_buf());
    let base = root_file.parent().map(Path::to_path_buf);
    let mut expander = Expander {
        chain: vec![canonical],
        base,
        diags,
    };
    expander.expand(root, &JsonPath::root())
}

struct Expander<'a> {
    /// Files being expanded, outermost first (canonical paths, for cycle detection).
    chain: Vec<PathBuf>,
    base: Option<PathBuf>,
    diags: &'a mut Vec<Diagnostic>,
}

impl Expander<'_> {
    fn expand(&mut self, node: Node, path: &JsonPath) -> Node {
        let Node { kind, pos } = node;
        match kind {
            NodeKind::Array(items) => Node {
                kind: NodeKind::Array(
                    items
                        .into_iter()
                        .enumerate()
                        .map(|(i, n)| self.expand(n, &path.index(i)))
                        .collect(),
                ),
                pos,
            },
            NodeKind::Object(props) => {
                let (includes, siblings): (Vec<Prop>, Vec<Prop>) =
                    props.into_iter().partition(|p| p.key == INCLUDE_KEY);
                let siblings: Vec<Prop> = siblings
                    .into_iter()
                    .map(|p| Prop {
                        value: self.expand(p.value, &path.key(&p.key)),
                        ..p
                    })
                    .collect();
                let own = Node {
                    kind: NodeKind::Object(siblings),
                    pos: pos.clone(),
                };
                let Some(include) = includes.into_iter().next_back() else {
                    return own;
                };
                let mut merged: Option<Node> = None;
                let include_path = path.key(INCLUDE_KEY);
                for target in self.include_targets(&include.value, &include_path) {
                    if let Some(loaded) = self.load(&target, &include.value, &include_path) {
                        merged = Some(match merged {
                            Some(base) => deep_merge(base, loaded),
                            None => loaded,
                        });
                    }
                }
                let has_siblings = own.object().is_some_and(|p| !p.is_empty());
                match merged {
                    None => own,
                    Some(included) if !has_siblings => included,
                    Some(included) if included.object().is_some() => deep_merge(included, own),
                    Some(included) => {
                        self.diags.push(
                            Diagnostic::error(format!(
                                "an included file must hold an object when the including \
                                 object has other keys, found {}",
                                included.kind_name()
                            ))
                            .at(include_path.as_str(), include.key_pos.location()),
                        );
                        own
                    }
                }
            }
            other => Node { kind: other, pos },
        }
    }

    fn include_targets(&mut self, value: &Node, path: &JsonPath) -> Vec<String> {
        match &value.kind {
            NodeKind::String(s) => vec![s.clone()],
            NodeKind::Array(items) => {
                let mut out = Vec::new();
                for (i, item) in items.iter().enumerate() {
                    match &item.kind {
                        NodeKind::String(s) => out.push(s.clone()),
                        _ => self.diags.push(
                            Diagnostic::error(format!(
                                "expected a file path string, found {}",
                                item.kind_name()
                            ))
                            .at(path.index(i).as_str(), item.pos.location()),
                        ),
                    }
                }
                out
            }
            _ => {
                self.diags.push(
                    Diagnostic::error(format!(
                        "expected a file path or an array of file paths, found {}",
                        value.kind_name()
                    ))
                    .at(path.as_str(), value.pos.location()),
                );
                Vec::new()
            }
        }
    }

    fn load(&mut self, target: &str, value: &Node, path: &JsonPath) -> Option<Node> {
        let dir = value.pos.file.parent().unwrap_or(Path::new("."));
        let file = dir.join(target);
        let Ok(canonical) = std::fs::canonicalize(&file) else {
            self.diags.push(
                Diagnostic::error(format!("included file {} does not exist", self.show(&file)))
                    .at(path.as_str(), value.pos.location()),
            );
            return None;
        };
        if let Some(start) = self.chain.iter().position(|f| *f == canonical) {
            let mut names: Vec<String> = self.chain[start..].iter().map(|f| self.show(f)).collect();
            names.push(self.show(&canonical));
            self.diags.push(
                Diagnostic::error(format!("include cycle: {}", names.join(" -> ")))
                    .at(path.as_str(), value.pos.location()),
            );
            return None;
        }
        if self.chain.len() > MAX_INCLUDE_DEPTH {
            self.diags.push(
                Diagnostic::error(format!(
                    "includes nested deeper than {MAX_INCLUDE_DEPTH} levels (at {})",
                    self.show(&canonical)
                ))
                .at(path.as_str(), value.pos.location()),
            );
            return None;
        }
        let parsed = match parse_file(&file) {
            Ok(node) => node,
            Err(diag) => {
                self.diags.push(*diag);
                return None;
            }
        };
        self.chain.push(canonical);
        // Paths inside an included file continue the including object's path.
        let parent = JsonPath::from_include(path);
        let expanded = self.expand(parsed, &parent);
        self.chain.pop();
        Some(expanded)
    }

    fn show(&self, file: &Path) -> String {
        let base = self
            .base
            .as_ref()
            .and_then(|b| std::fs::canonicalize(b).ok());
        display_file(file, base.as_deref())
    }
}

impl JsonPath {
    /// `a.b.$include` → `a.b` (the object the included content lands in).
    fn from_include(path: &JsonPath) -> JsonPath {
        let s = path.as_str();
        let trimmed = s
            .strip_suffix(INCLUDE_KEY)
            .map(|t| t.trim_end_matches('.'))
            .unwrap_or(s);
        JsonPath::from_raw(trimmed.to_string())
    }
}

/// Deep merge: objects merge key by key (recursively); anything else is replaced by `overlay`.
pub fn deep_merge(base: Node, overlay: Node) -> Node {
    match (base.kind, overlay.kind) {
        (NodeKind::Object(mut base_props), NodeKind::Object(overlay_props)) => {
            for prop in overlay_props {
                if let Some(existing) = base_props.iter_mut().find(|p| p.key == prop.key) {
                    let old = std::mem::replace(
                        &mut existing.value,
                        Node {
                            kind: NodeKind::Null,
                            pos: prop.value.pos.clone(),
                        },
                    );
                    existing.value = deep_merge(old, prop.value);
                    existing.key_pos = prop.key_pos;
                } else {
                    base_props.push(prop);
                }
            }
            Node {
                kind: NodeKind::Object(base_props),
                pos: overlay.pos,
            }
        }
        (_, kind) => Node {
            kind,
            pos: overlay.pos,
        },
    }
}
