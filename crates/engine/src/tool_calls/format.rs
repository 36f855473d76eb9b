//! How a model family writes a tool call, told from its chat template's source (the markup a
//! template writes for earlier calls is the markup the model was tuned to produce):
//!
//! | format | the model writes | families |
//! |---|---|---|
//! | `hermes` | `<tool_call>{"name": …, "arguments": {…}}</tool_call>` | Hermes 2 Pro, Qwen 2.5 / 3 |
//! | `llama3` | `{"name": …, "parameters": {…}}` (maybe after `<\|python_tag\|>`) | Llama 3.1–3.3 |
//! | `mistral` | `[TOOL_CALLS][{"name": …, "arguments": {…}}]` | Mistral 7B v0.3, Nemo |
//! | `mistral-args` | `[TOOL_CALLS]name[ARGS]{…}` | Mistral Small 3.2, Magistral, Devstral |
//! | `harmony` | `<\|channel\|>commentary to=functions.name <\|constrain\|>json<\|message\|>{…}` | gpt-oss |
//! | `generic` | `{"name": …, "arguments": {…}}` as the whole answer | every other template, built-in templates, base models |
//!
//! For `generic` the template does not know about tools, so they are described in the
//! system prompt ([`generic_tool_instructions`]) and the model is asked to answer with the
//! JSON object alone. The same detection is what llama.cpp's `common/chat.cpp` does (it
//! looks for the same markers), re-done here for the formats whose syntax is documented.

use clawgate_wire::ToolSpec;
use serde_json::json;

use crate::chat_template::py_json::{PyJsonStyle, dumps};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ToolCallFormat {
    Hermes,
    Llama3,
    Mistral,
    MistralArgs,
    Harmony,
    Generic,
}

/// Where a tool call can start in the model's output, for spotting it while streaming.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// This marker, anywhere in the text (text before it is answer text).
    Anywhere(&'static str),
    /// The answer's first non-blank text starts with this.
    AtStart(&'static str),
}

impl ToolCallFormat {
    pub const ALL: [ToolCallFormat; 6] = [
        ToolCallFormat::Hermes,
        ToolCallFormat::Llama3,
        ToolCallFormat::Mistral,
        ToolCallFormat::MistralArgs,
        ToolCallFormat::Harmony,
        ToolCallFormat::Generic,
    ];

    /// The format a chat template's model writes calls in. A template that never mentions
    /// `tools` cannot show them to the model: `Generic` (tools go into the system prompt).
    pub fn detect(template_source: &str) -> Self {
        let has = |marker: &str| template_source.contains(marker);
        if !template_renders_tools(template_source) {
            ToolCallFormat::Generic
        } else if has("<|channel|>") {
            ToolCallFormat::Harmony
        } else if has("[TOOL_CALLS]") {
            if has("[ARGS]") {
                ToolCallFormat::MistralArgs
            } else {
                ToolCallFormat::Mistral
            }
        } else if has("<tool_call>") {
            ToolCallFormat::Hermes
        } else if has("<|start_header_id|>") || has("<|python_tag|>") {
            ToolCallFormat::Llama3
        } else {
            ToolCallFormat::Generic
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            ToolCallFormat::Hermes => "hermes",
            ToolCallFormat::Llama3 => "llama3",
            ToolCallFormat::Mistral => "mistral",
            ToolCallFormat::MistralArgs => "mistral-args",
            ToolCallFormat::Harmony => "harmony",
            ToolCallFormat::Generic => "generic",
        }
    }

    /// Whether the template itself renders the tools (else they go into the system prompt).
    pub fn template_renders_tools(self) -> bool {
        self != ToolCallFormat::Generic
    }

    /// Where a call starts in the output.
    pub fn triggers(self) -> &'static [Trigger] {
        match self {
            ToolCallFormat::Hermes => &[Trigger::Anywhere("<tool_call>")],
            ToolCallFormat::Llama3 => &[
                Trigger::AtStart("<|python_tag|>"),
                Trigger::AtStart("{"),
                Trigger::Anywhere("<|python_tag|>"),
            ],
            ToolCallFormat::Mistral | ToolCallFormat::MistralArgs => {
                &[Trigger::Anywhere("[TOOL_CALLS]")]
            }
            // The recipient can sit in the channel header or in the role header.
            ToolCallFormat::Harmony => &[
                Trigger::Anywhere("<|channel|>commentary to="),
                Trigger::Anywhere("<|start|>assistant to="),
            ],
            ToolCallFormat::Generic => &[Trigger::AtStart("{")],
        }
    }

    /// The exact text of one call, around its arguments (what a constrained call is forced
    /// to write): `(before, after)`.
    pub fn call_envelope(self, name: &str) -> (String, String) {
        let quoted = serde_json::Value::String(name.to_owned()).to_string();
        match self {
            ToolCallFormat::Hermes => (
                format!("<tool_call>\n{{\"name\": {quoted}, \"arguments\": "),
                "}\n</tool_call>".into(),
            ),
            ToolCallFormat::Llama3 => (
                format!("{{\"name\": {quoted}, \"parameters\": "),
                "}".into(),
            ),
            ToolCallFormat::Mistral => (
                format!("[TOOL_CALLS][{{\"name\": {quoted}, \"arguments\": "),
                "}]".into(),
            ),
            ToolCallFormat::MistralArgs => (format!("[TOOL_CALLS]{name}[ARGS]"), String::new()),
            ToolCallFormat::Harmony => (
                format!("<|channel|>commentary to=functions.{name} <|constrain|>json<|message|>"),
                String::new(),
            ),
            ToolCallFormat::Generic => {
                (format!("{{\"name\": {quoted}, \"arguments\": "), "}".into())
            }
        }
    }
}

/// Whether a template's source reads the `tools` variable at all.
pub fn template_renders_tools(source: &str) -> bool {
    source.match_indices("tools").any(|(at, _)| {
        !is_ident_byte(source.as_bytes().get(at.wrapping_sub(1)).copied()) && {
            let after = source.as_bytes().get(at + "tools".len()).copied();
            !is_ident_byte(after)
        }
    })
}

fn is_ident_byte(byte: Option<u8>) -> bool {
    byte.is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// The system-prompt text that offers tools to a model whose template cannot (the `generic`
/// format). `forced` names the tool(s) the answer must call.
pub fn generic_tool_instructions(tools: &[ToolSpec]) -> String {
    let mut text = String::from(
        "You can call tools. To call one, answer with only a JSON object of the form \
         {\"name\": \"<tool name>\", \"arguments\": {<the arguments>}} and nothing else.\n\
         Tools:",
    );
    for tool in tools {
        let mut entry = json!({"name": tool.name});
        if let Some(description) = &tool.description {
            entry["description"] = json!(description);
        }
        entry["parameters"] = tool.parameters.clone();
        text.push('\n');
        text.push_str(&dumps(&entry, &PyJsonStyle::default()));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detection_by_markers() {
        let cases = [
            (
                "{% for t in tools %}<tool_call>{% endfor %}",
                ToolCallFormat::Hermes,
            ),
            (
                "{% if tools %}<|start_header_id|>ipython{% endif %}",
                ToolCallFormat::Llama3,
            ),
            (
                "{% if tools %}[TOOL_CALLS]{% endif %}",
                ToolCallFormat::Mistral,
            ),
            (
                "{% if tools %}[TOOL_CALLS]{{ n }}[ARGS]{% endif %}",
                ToolCallFormat::MistralArgs,
            ),
            (
                "{% if tools %}<|channel|>{% endif %}",
                ToolCallFormat::Harmony,
            ),
            ("{% if tools %}plain{% endif %}", ToolCallFormat::Generic),
            // Markers without any use of `tools`: the template cannot offer them.
            ("<tool_call>{{ messages }}", ToolCallFormat::Generic),
            ("{{ my_tools_list }}<tool_call>", ToolCallFormat::Generic),
        ];
        for (source, want) in cases {
            assert_eq!(ToolCallFormat::detect(source), want, "{source}");
        }
    }

    #[test]
    fn generic_instructions_list_each_tool_as_python_json() {
        let text = generic_tool_instructions(&[ToolSpec {
            name: "get_weather".into(),
            description: Some("Weather now".into()),
            parameters: json!({"type": "object"}),
        }]);
        assert!(text.ends_with(
            "Tools:\n{\"name\": \"get_weather\", \"description\": \"Weather now\", \"parameters\": {\"type\": \"object\"}}"
        ));
    }

    #[test]
    fn envelopes_quote_names_for_json() {
        let (before, after) = ToolCallFormat::Hermes.call_envelope("f");
        assert_eq!(before, "<tool_call>\n{\"name\": \"f\", \"arguments\": ");
        assert_eq!(after, "}\n</tool_call>");
    }
}
