//! JSON text as Python's `json.dumps` writes it, for the `tojson` filter of chat templates.
//!
//! Hugging Face renders chat templates with Jinja2 in Python, whose `tojson` is
//! `json.dumps(value, ensure_ascii=False, indent=…, separators=…, sort_keys=…)`: items
//! separated by `", "` and keys by `": "` unless told otherwise, and no HTML escaping. Models
//! were tuned on prompts written that way (`{"name": "get_weather", "parameters": {…}}` with
//! the spaces), so the prompt must match byte for byte. minijinja's own `tojson` is compact
//! and HTML-safe (`<` becomes `\u003c`), and `serde_json` has no Python separators, hence this
//! small writer over `serde_json::Value`.

use std::fmt::Write;

use serde_json::Value;

/// How to lay the JSON out (the keyword arguments of `json.dumps` templates use).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PyJsonStyle {
    /// `indent=N`: one item per line, indented by N spaces per level.
    pub indent: Option<usize>,
    /// `separators=(item, key)`; Python's default is `(", ", ": ")`, or `(",", ": ")` when
    /// indenting.
    pub item_separator: String,
    pub key_separator: String,
    /// `sort_keys=True`.
    pub sort_keys: bool,
}

impl Default for PyJsonStyle {
    fn default() -> Self {
        Self {
            indent: None,
            item_separator: ", ".into(),
            key_separator: ": ".into(),
            sort_keys: false,
        }
    }
}

impl PyJsonStyle {
    /// Python's defaults for an `indent` (the item separator loses its trailing space).
    pub fn indented(indent: usize) -> Self {
        Self {
            indent: Some(indent),
            item_separator: ",".into(),
            ..Self::default()
        }
    }
}

/// `json.dumps(value, ensure_ascii=False, …)` with the given style.
pub fn dumps(value: &Value, style: &PyJsonStyle) -> String {
    let mut out = String::new();
    write_value(&mut out, value, style, 0);
    out
}

fn write_value(out: &mut String, value: &Value, style: &PyJsonStyle, depth: usize) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => write_number(out, n),
        Value::String(s) => write_string(out, s),
        Value::Array(items) => {
            if items.is_empty() {
                out.push_str("[]");
                return;
            }
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(&style.item_separator);
                }
                newline(out, style, depth + 1);
                write_value(out, item, style, depth + 1);
            }
            newline(out, style, depth);
            out.push(']');
        }
        Value::Object(map) => {
            if map.is_empty() {
                out.push_str("{}");
                return;
            }
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            if style.sort_keys {
                entries.sort_by(|a, b| a.0.cmp(b.0));
            }
            out.push('{');
            for (i, (key, item)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push_str(&style.item_separator);
                }
                newline(out, style, depth + 1);
                write_string(out, key);
                out.push_str(&style.key_separator);
                write_value(out, item, style, depth + 1);
            }
            newline(out, style, depth);
            out.push('}');
        }
    }
}

fn newline(out: &mut String, style: &PyJsonStyle, depth: usize) {
    if let Some(indent) = style.indent {
        out.push('\n');
        out.extend(std::iter::repeat_n(' ', indent * depth));
    }
}

/// Integers as integers; floats the way Python's `repr` does for the common cases (`1.0`,
/// `0.5`, `1e-07`).
fn write_number(out: &mut String, n: &serde_json::Number) {
    if n.is_f64() {
        let f = n.as_f64().unwrap_or(0.0);
        if f.is_finite() && f.fract() == 0.0 && f.abs() < 1e16 {
            let _ = write!(out, "{f:.1}");
        } else {
            out.push_str(&n.to_string());
        }
    } else {
        out.push_str(&n.to_string());
    }
}

/// A JSON string with Python's escapes and `ensure_ascii=False` (non-ASCII stays as is).
fn write_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn python_default_separators_and_key_order() {
        let v =
            json!({"name": "get_weather", "parameters": {"type": "object", "required": ["city"]}});
        assert_eq!(
            dumps(&v, &PyJsonStyle::default()),
            r#"{"name": "get_weather", "parameters": {"type": "object", "required": ["city"]}}"#
        );
    }

    #[test]
    fn no_html_escaping_and_non_ascii_kept() {
        let v = json!({"q": "<b>&'été'\n\"x\"\u{1}"});
        assert_eq!(
            dumps(&v, &PyJsonStyle::default()),
            "{\"q\": \"<b>&'été'\\n\\\"x\\\"\\u0001\"}"
        );
    }

    #[test]
    fn indent_like_python() {
        let v = json!({"a": [1, 2], "b": {}, "c": []});
        assert_eq!(
            dumps(&v, &PyJsonStyle::indented(2)),
            "{\n  \"a\": [\n    1,\n    2\n  ],\n  \"b\": {},\n  \"c\": []\n}"
        );
    }

    #[test]
    fn sort_keys_and_custom_separators() {
        let v = json!({"b": 1, "a": 2.0, "c": 0.5});
        let style = PyJsonStyle {
            item_separator: ",".into(),
            key_separator: ":".into(),
            sort_keys: true,
            indent: None,
        };
        assert_eq!(dumps(&v, &style), r#"{"a":2.0,"b":1,"c":0.5}"#);
    }
}
