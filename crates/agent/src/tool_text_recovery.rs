//! Recovering a tool call that a small local model wrote as JSON text instead of a structured
//! call. Only the unambiguous case is recovered; everything else stays text (DESIGN.md warns
//! against growing a heuristic parser here).
//!
//! The rule, exactly. A reply is recovered as one tool call when all of these hold:
//! 1. the model returned no structured tool call and at least one tool was offered;
//! 2. the answer text, trimmed, is either one JSON value, or exactly one Markdown fence
//!    (opening line ```` ``` ```` or ```` ```json ````, closing ```` ``` ```` at the very end, no
//!    other fence, nothing outside it) whose body is one JSON value;
//! 3. that value is an object with exactly two keys: `name` and one of `arguments` /
//!    `parameters`;
//! 4. `name` is a string equal (case-sensitively) to the name of a tool offered in the request;
//! 5. the arguments are a JSON object, or a string that parses as a JSON object.
//!
//! Left as text: prose around the JSON, two objects, arrays of calls, unknown or missing names,
//! extra keys, non-object arguments, several fences.

use clawgate_wire::ToolSpec;
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecoveredCall {
    pub name: String,
    /// The arguments object as JSON text.
    pub arguments: String,
}

pub fn recover_tool_call(text: &str, offered: &[ToolSpec]) -> Option<RecoveredCall> {
    if offered.is_empty() {
        return None;
    }
    let body = unfence(text.trim())?;
    let value: Value = serde_json::from_str(body).ok()?;
    let obj = value.as_object()?;
    if obj.len() != 2 {
        return None;
    }
    let name = obj.get("name")?.as_str()?;
    let args = obj.get("arguments").or_else(|| obj.get("parameters"))?;
    let args = match args {
        Value::Object(_) => args.clone(),
        Value::String(s) => {
            let parsed: Value = serde_json::from_str(s).ok()?;
            if !parsed.is_object() {
                return None;
            }
            parsed
        }
        _ => return None,
    };
    if !offered.iter().any(|t| t.name == name) {
        return None;
    }
    Some(RecoveredCall {
        name: name.to_string(),
        arguments: args.to_string(),
    })
}

/// The JSON text of a reply: itself when it starts with `{`, the body of exactly one fence.
fn unfence(text: &str) -> Option<&str> {
    if text.starts_with('{') {
        return Some(text);
    }
    let rest = text.strip_prefix("```")?;
    let (first_line, body) = rest.split_once('\n')?;
    let lang = first_line.trim();
    if !(lang.is_empty() || lang.eq_ignore_ascii_case("json")) {
        return None;
    }
    let body = body.trim_end().strip_suffix("```")?;
    if body.contains("```") {
        return None;
    }
    Some(body.trim())
}
