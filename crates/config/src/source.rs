//! The positioned value tree every later stage works on.
//!
//! Why not `serde_json::Value`: diagnostics must name the file, line and column of the offending
//! key or value, also inside `$include`d files, so every node keeps its own position (file path
//! included). The text is parsed with `jsonc-parser`, which keeps byte ranges for every node and
//! covers the JSON5 we need: comments, trailing commas, single-quoted strings, unquoted keys,
//! hexadecimal numbers, leading `+`, `.5`/`5.`, `Infinity`/`NaN` and JSON5 string escapes. The
//! only leniency it adds beyond JSON5 (missing commas) is switched off. We checked `json5` and
//! `json-five` too: the first drops positions, the second keeps them but has no CST for edits,
//! and one parser for loading and editing keeps line/column and edits consistent.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use jsonc_parser::ast::{ObjectPropName, Value as AstValue};
use jsonc_parser::{CollectOptions, ParseOptions};

use crate::diagnostic::{Diagnostic, Location};

/// Where a node starts: file, 1-based line and 1-based column (in characters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pos {
    pub file: Arc<Path>,
    pub line: u32,
    pub col: u32,
}

impl Pos {
    pub fn location(&self) -> Location {
        Location {
            file: self.file.to_path_buf(),
            line: self.line,
            column: self.col,
        }
    }
}

/// One JSON5 value with its position.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub kind: NodeKind,
    pub pos: Pos,
}

#[derive(Debug, Clone, PartialEq)]
pub enum NodeKind {
    Null,
    Bool(bool),
    /// The parsed value plus the literal text (for messages: `0x10` stays `0x10`).
    Number {
        value: f64,
        raw: String,
    },
    String(String),
    Array(Vec<Node>),
    Object(Vec<Prop>),
}

/// One object property: the key keeps its own position (unknown-key errors point at it).
#[derive(Debug, Clone, PartialEq)]
pub struct Prop {
    pub key: String,
    pub key_pos: Pos,
    pub value: Node,
}

impl Node {
    pub fn object(&self) -> Option<&[Prop]> {
        match &self.kind {
            NodeKind::Object(props) => Some(props),
            _ => None,
        }
    }

    pub fn get(&self, key: &str) -> Option<&Node> {
        self.object()?
            .iter()
            .rev()
            .find(|p| p.key == key)
            .map(|p| &p.value)
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            NodeKind::String(s) => Some(s),
            _ => None,
        }
    }

    /// A short description for "found …" messages.
    pub fn kind_name(&self) -> &'static str {
        match &self.kind {
            NodeKind::Null => "null",
            NodeKind::Bool(_) => "a boolean",
            NodeKind::Number { .. } => "a number",
            NodeKind::String(_) => "a string",
            NodeKind::Array(_) => "an array",
            NodeKind::Object(_) => "an object",
        }
    }

    /// Plain JSON (for `config show`, params passthrough). Non-finite numbers become strings.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value;
        match &self.kind {
            NodeKind::Null => Value::Null,
            NodeKind::Bool(b) => Value::Bool(*b),
            NodeKind::Number { value, raw } => {
                if value.fract() == 0.0 && value.abs() < 9.0e15 {
                    Value::from(*value as i64)
                } else {
                    serde_json::Number::from_f64(*value)
                        .map(Value::Number)
                        .unwrap_or_else(|| Value::String(raw.clone()))
                }
            }
            NodeKind::String(s) => Value::String(s.clone()),
            NodeKind::Array(items) => Value::Array(items.iter().map(Node::to_json).collect()),
            NodeKind::Object(props) => {
                let mut map = serde_json::Map::new();
                for p in props {
                    map.insert(p.key.clone(), p.value.to_json());
                }
                Value::Object(map)
            }
        }
    }
}

/// The JSON5 options: everything JSON5 allows, nothing more.
pub fn json5_options() -> ParseOptions {
    ParseOptions {
        allow_missing_commas: false,
        ..ParseOptions::default()
    }
}

/// Parses one file's text into a positioned tree. A file with no value at all (0 bytes, only
/// whitespace or comments) is an error: it is what a crashed editor or a `>` typo leaves, and
/// reading it as `{}` would silently drop the gateway token and every provider.
pub fn parse_text(path: &Path, text: &str) -> Result<Node, Box<Diagnostic>> {
    let file: Arc<Path> = Arc::from(path);
    let parsed = jsonc_parser::parse_to_ast(text, &CollectOptions::default(), &json5_options())
        .map_err(|err| {
            Box::new(
                Diagnostic::error(format!("invalid JSON5: {}", err.kind())).at(
                    "",
                    Location {
                        file: path.to_path_buf(),
                        line: err.line_display() as u32,
                        column: err.column_display() as u32,
                    },
                ),
            )
        })?;
    let lines = LineIndex::new(text);
    let pos0 = Pos {
        file: file.clone(),
        line: 1,
        col: 1,
    };
    match parsed.value {
        Some(value) => Ok(convert(value, &lines, &file)),
        None => Err(Box::new(
            Diagnostic::error(format!(
                "{} is empty (no JSON5 value, only whitespace or comments)",
                path.file_name()
                    .map_or(path.as_os_str(), |n| n)
                    .to_string_lossy()
            ))
            .at("", pos0.location())
            .with_hint("write `{}` for a config with every default"),
        )),
    }
}

/// Reads and parses a file.
pub fn parse_file(path: &Path) -> Result<Node, Box<Diagnostic>> {
    let text = std::fs::read_to_string(path).map_err(|err| {
        Box::new(
            Diagnostic::error(format!("cannot read {}: {err}", path.display()))
                .at_file(PathBuf::from(path)),
        )
    })?;
    parse_text(path, &text)
}

fn convert(value: AstValue<'_>, lines: &LineIndex, file: &Arc<Path>) -> Node {
    let pos = |start: usize| {
        let (line, col) = lines.line_col(start);
        Pos {
            file: file.clone(),
            line,
            col,
        }
    };
    match value {
        AstValue::NullKeyword(n) => Node {
            kind: NodeKind::Null,
            pos: pos(n.range.start),
        },
        AstValue::BooleanLit(b) => Node {
            kind: NodeKind::Bool(b.value),
            pos: pos(b.range.start),
        },
        AstValue::NumberLit(n) => Node {
            kind: NodeKind::Number {
                value: parse_number(n.value),
                raw: n.value.to_string(),
            },
            pos: pos(n.range.start),
        },
        AstValue::StringLit(s) => Node {
            kind: NodeKind::String(s.value.into_owned()),
            pos: pos(s.range.start),
        },
        AstValue::Array(a) => Node {
            pos: pos(a.range.start),
            kind: NodeKind::Array(
                a.elements
                    .into_iter()
                    .map(|v| convert(v, lines, file))
                    .collect(),
            ),
        },
        AstValue::Object(o) => {
            let start = o.range.start;
            let mut props: Vec<Prop> = Vec::with_capacity(o.properties.len());
            for p in o.properties {
                let (key, key_start) = match p.name {
                    ObjectPropName::String(s) => (s.value.into_owned(), s.range.start),
                    ObjectPropName::Word(w) => (w.value.to_string(), w.range.start),
                };
                let value = convert(p.value, lines, file);
                // JSON5 keeps the last of duplicate keys.
                props.retain(|existing| existing.key != key);
                props.push(Prop {
                    key,
                    key_pos: pos(key_start),
                    value,
                });
            }
            Node {
                kind: NodeKind::Object(props),
                pos: pos(start),
            }
        }
    }
}

fn parse_number(raw: &str) -> f64 {
    let (negative, body) = match raw.as_bytes().first() {
        Some(b'-') => (true, &raw[1..]),
        Some(b'+') => (false, &raw[1..]),
        _ => (false, raw),
    };
    let magnitude = if let Some(hex) = body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
        u64::from_str_radix(hex, 16).map_or(f64::NAN, |v| v as f64)
    } else if body == "Infinity" {
        f64::INFINITY
    } else if body == "NaN" {
        f64::NAN
    } else {
        body.parse::<f64>().unwrap_or(f64::NAN)
    };
    if negative { -magnitude } else { magnitude }
}

/// Byte offset → line/column, computed once per file.
struct LineIndex<'a> {
    text: &'a str,
    starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    fn new(text: &'a str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Self { text, starts }
    }

    fn line_col(&self, offset: usize) -> (u32, u32) {
        let line = self.starts.partition_point(|&s| s <= offset).max(1) - 1;
        let start = self.starts[line];
        let col = self
            .text
            .get(start..offset)
            .map_or(offset - start, |s| s.chars().count());
        (line as u32 + 1, col as u32 + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json5_features_parse_with_positions() {
        let text = "// c\n{\n  a: 0x10, 'b': +.5,\n  c: [Infinity, 'x\\\ny',],\n}\n";
        let node = parse_text(Path::new("f.json5"), text).unwrap();
        let a = node.get("a").unwrap();
        assert_eq!(a.to_json(), serde_json::json!(16));
        assert_eq!((a.pos.line, a.pos.col), (3, 6));
        let props = node.object().unwrap();
        assert_eq!((props[1].key_pos.line, props[1].key_pos.col), (3, 12));
        assert_eq!(node.get("b").unwrap().to_json(), serde_json::json!(0.5));
        let c = node.get("c").unwrap().to_json();
        assert_eq!(c, serde_json::json!(["Infinity", "xy"]));
    }

    #[test]
    fn missing_commas_are_rejected() {
        let err = parse_text(Path::new("f.json5"), "{a: 1 b: 2}").unwrap_err();
        assert_eq!(err.location.as_ref().unwrap().line, 1);
        assert!(err.message.contains("comma"), "{}", err.message);
    }

    #[test]
    fn an_empty_file_is_an_error_naming_it() {
        for text in ["", "  \n\t", "  // nothing\n", "/* all gone */"] {
            let err = parse_text(Path::new("f.json5"), text).unwrap_err();
            assert!(err.message.contains("f.json5 is empty"), "{}", err.message);
            assert_eq!(err.location.as_ref().unwrap().line, 1);
        }
        let node = parse_text(Path::new("f.json5"), "{}").unwrap();
        assert_eq!(node.to_json(), serde_json::json!({}));
    }
}
