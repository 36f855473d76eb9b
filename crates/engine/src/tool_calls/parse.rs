//! Reading tool calls back out of what a model wrote, per [`ToolCallFormat`]. Input is the
//! text from the call's start marker to the end of the answer (the stream scanner captures
//! it); output is the calls, each with a name the request offered and a JSON-object argument
//! text, or `None` when the text is not a well-formed call (it is then answer text).
//!
//! JSON is read with `serde_json`'s streaming deserializer, which stops at the end of the
//! first value, so trailing markup (`</tool_call>`, `<|call|>`, `<|eom_id|>`) needs no
//! bookkeeping.

use clawgate_wire::ToolSpec;
use serde_json::{Map, Value as Json};

use super::format::ToolCallFormat;

/// One call as the model wrote it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedCall {
    pub name: String,
    /// Compact JSON text of the arguments object.
    pub arguments: String,
}

/// The calls in `text`, or `None` when it is not a well-formed call of this format naming an
/// offered tool.
pub fn parse_calls(
    format: ToolCallFormat,
    text: &str,
    tools: &[ToolSpec],
) -> Option<Vec<ParsedCall>> {
    let calls = match format {
        ToolCallFormat::Hermes => parse_hermes(text)?,
        ToolCallFormat::Llama3 => {
            let text = text.trim_start();
            let text = text.strip_prefix("<|python_tag|>").unwrap_or(text);
            parse_object_sequence(text)?
        }
        ToolCallFormat::Mistral => parse_mistral(text)?,
        ToolCallFormat::MistralArgs => parse_mistral_args(text)?,
        ToolCallFormat::Harmony => vec![parse_harmony(text)?],
        ToolCallFormat::Generic => parse_object_sequence(text.trim_start())?,
    };
    let offered = |name: &str| tools.iter().any(|t| t.name == name);
    (!calls.is_empty() && calls.iter().all(|c| offered(&c.name))).then_some(calls)
}

/// The first JSON value at the start of `text` and the rest after it.
fn leading_json(text: &str) -> Option<(Json, &str)> {
    let text = text.trim_start();
    let mut values = serde_json::Deserializer::from_str(text).into_iter::<Json>();
    let value = values.next()?.ok()?;
    Some((value, &text[values.byte_offset()..]))
}

/// `{"name": …, "arguments" | "parameters": …}`; arguments given as a JSON string are
/// decoded (some models quote them).
fn call_from_object(object: &Map<String, Json>) -> Option<ParsedCall> {
    let name = object.get("name")?.as_str()?.to_owned();
    let arguments = object
        .get("arguments")
        .or_else(|| object.get("parameters"))
        .cloned()
        .unwrap_or_else(|| Json::Object(Map::new()));
    Some(ParsedCall {
        name,
        arguments: arguments_text(arguments)?,
    })
}

fn arguments_text(arguments: Json) -> Option<String> {
    let arguments = match arguments {
        Json::String(text) => serde_json::from_str::<Json>(&text).ok()?,
        other => other,
    };
    arguments.is_object().then(|| arguments.to_string())
}

/// `<tool_call>{…}</tool_call>` blocks (the last one may be unterminated: the answer ended).
fn parse_hermes(text: &str) -> Option<Vec<ParsedCall>> {
    let mut calls = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("<tool_call>") {
        let (value, after) = leading_json(&rest[at + "<tool_call>".len()..])?;
        calls.push(call_from_object(value.as_object()?)?);
        rest = after;
    }
    Some(calls)
}

/// One or more call objects (Llama 3.2 separates parallel calls with `;`).
fn parse_object_sequence(text: &str) -> Option<Vec<ParsedCall>> {
    let mut calls = Vec::new();
    let mut rest = text;
    loop {
        let (value, after) = leading_json(rest)?;
        calls.push(call_from_object(value.as_object()?)?);
        let after = after.trim_start();
        match after.strip_prefix(';') {
            Some(more) if more.trim_start().starts_with('{') => rest = more,
            _ if after.starts_with('{') => rest = after,
            _ => return Some(calls),
        }
    }
}

/// `[TOOL_CALLS][{…}, …]` (or a single object after the marker).
fn parse_mistral(text: &str) -> Option<Vec<ParsedCall>> {
    let (_, after) = text.split_once("[TOOL_CALLS]")?;
    let (value, _) = leading_json(after)?;
    match value {
        Json::Array(items) => items
            .iter()
            .map(|item| call_from_object(item.as_object()?))
            .collect(),
        Json::Object(object) => Some(vec![call_from_object(&object)?]),
        _ => None,
    }
}

/// `[TOOL_CALLS]name[ARGS]{…}`, repeated for parallel calls.
fn parse_mistral_args(text: &str) -> Option<Vec<ParsedCall>> {
    let mut calls = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("[TOOL_CALLS]") {
        let after = &rest[at + "[TOOL_CALLS]".len()..];
        let (name, args) = after.split_once("[ARGS]")?;
        let (value, tail) = leading_json(args)?;
        calls.push(ParsedCall {
            name: name.trim().to_owned(),
            arguments: arguments_text(value)?,
        });
        rest = tail;
    }
    Some(calls)
}

/// `… to=functions.NAME … <|message|>{…}`: the recipient names the tool, the message body is
/// the arguments.
fn parse_harmony(text: &str) -> Option<ParsedCall> {
    let (_, after) = text.split_once("to=functions.")?;
    let name_end = after
        .find(|c: char| c.is_whitespace() || c == '<')
        .unwrap_or(after.len());
    let name = after[..name_end].to_owned();
    let (_, body) = after[name_end..].split_once("<|message|>")?;
    let (value, _) = leading_json(body)?;
    Some(ParsedCall {
        name,
        arguments: arguments_text(value)?,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use serde_json::json;

    use super::*;

    fn tools() -> Vec<ToolSpec> {
        ["get_weather", "get_time"]
            .into_iter()
            .map(|name| ToolSpec {
                name: name.into(),
                description: None,
                parameters: json!({"type": "object"}),
            })
            .collect()
    }

    fn call(name: &str, arguments: &str) -> ParsedCall {
        ParsedCall {
            name: name.into(),
            arguments: arguments.into(),
        }
    }

    #[test]
    fn each_format_parses_its_own_syntax() {
        let weather = call("get_weather", r#"{"city":"Paris"}"#);
        let cases = [
            (
                ToolCallFormat::Hermes,
                "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call>",
            ),
            (
                ToolCallFormat::Llama3,
                "<|python_tag|>{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Paris\"}}<|eom_id|>",
            ),
            (
                ToolCallFormat::Mistral,
                "[TOOL_CALLS][{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}, \"id\": \"abcdefghi\"}]",
            ),
            (
                ToolCallFormat::MistralArgs,
                "[TOOL_CALLS]get_weather[ARGS]{\"city\": \"Paris\"}",
            ),
            (
                ToolCallFormat::Harmony,
                "<|channel|>commentary to=functions.get_weather <|constrain|>json<|message|>{\"city\":\"Paris\"}<|call|>",
            ),
            (
                ToolCallFormat::Generic,
                "  {\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}",
            ),
        ];
        for (format, text) in cases {
            assert_eq!(
                parse_calls(format, text, &tools()),
                Some(vec![weather.clone()]),
                "{format:?}"
            );
        }
    }

    #[test]
    fn harmony_recipient_in_the_role_header() {
        let text =
            "<|start|>assistant to=functions.get_time<|channel|>commentary json<|message|>{}";
        assert_eq!(
            parse_calls(ToolCallFormat::Harmony, text, &tools()),
            Some(vec![call("get_time", "{}")])
        );
    }

    #[test]
    fn parallel_calls() {
        let hermes = "<tool_call>{\"name\": \"get_weather\", \"arguments\": {}}</tool_call>\n<tool_call>{\"name\": \"get_time\", \"arguments\": \"{\\\"tz\\\": \\\"UTC\\\"}\"}";
        assert_eq!(
            parse_calls(ToolCallFormat::Hermes, hermes, &tools()),
            Some(vec![
                call("get_weather", "{}"),
                call("get_time", r#"{"tz":"UTC"}"#)
            ])
        );
        let llama = "{\"name\": \"get_weather\", \"parameters\": {}}; {\"name\": \"get_time\", \"parameters\": {}}";
        assert_eq!(
            parse_calls(ToolCallFormat::Llama3, llama, &tools()).map(|c| c.len()),
            Some(2)
        );
        let mistral = "[TOOL_CALLS]get_weather[ARGS]{}[TOOL_CALLS]get_time[ARGS]{}";
        assert_eq!(
            parse_calls(ToolCallFormat::MistralArgs, mistral, &tools()).map(|c| c.len()),
            Some(2)
        );
    }

    #[test]
    fn not_a_call_stays_text() {
        let cases = [
            (ToolCallFormat::Generic, "{\"answer\": 42}"),
            (
                ToolCallFormat::Generic,
                "{\"name\": \"rm_rf\", \"arguments\": {}}",
            ),
            (
                ToolCallFormat::Generic,
                "{\"name\": \"get_weather\", \"arguments\": [1]}",
            ),
            (
                ToolCallFormat::Hermes,
                "<tool_call>{\"name\": \"get_weather\", \"argu",
            ),
            (ToolCallFormat::Llama3, "{not json"),
            (
                ToolCallFormat::Harmony,
                "<|channel|>commentary to=functions.get_weather",
            ),
        ];
        for (format, text) in cases {
            assert_eq!(parse_calls(format, text, &tools()), None, "{text}");
        }
    }
}
