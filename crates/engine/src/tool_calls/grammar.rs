//! The GBNF grammar that forces a tool call (`tool_choice: required` or a named tool): the
//! output must be exactly one call, in the model's [`ToolCallFormat`], naming one of the
//! allowed tools, with arguments valid for that tool's JSON schema.
//!
//! Each tool's argument grammar comes from llama.cpp's own JSON-schema converter (called by
//! the engine, which links it); this module only combines them. The converter names rules
//! after schema paths (`root`, `city-kv`, `string`, …), so two tools' grammars would clash:
//! every rule of tool *i* is renamed with a `t<i>-` prefix ([`prefix_rules`]), a small walk
//! over GBNF that skips string literals, character classes, repetition counts and comments.
//! Hand-written because no crate edits GBNF; the walk follows llama.cpp's grammar parser
//! (`src/llama-grammar.cpp`: names are `[a-zA-Z0-9-]+`).

use super::format::ToolCallFormat;

/// One allowed tool: its name and the GBNF (root rule `root`) of its arguments.
#[derive(Debug, Clone)]
pub struct ToolArgsGrammar {
    pub name: String,
    pub gbnf: String,
}

/// The grammar (root rule `root`) of a single call to one of `tools`.
pub fn forced_call_grammar(format: ToolCallFormat, tools: &[ToolArgsGrammar]) -> String {
    let mut out = String::new();
    let alternatives: Vec<String> = (0..tools.len()).map(|i| format!("call-{i}")).collect();
    out.push_str(&format!("root ::= {}\n", alternatives.join(" | ")));
    for (i, tool) in tools.iter().enumerate() {
        let prefix = format!("t{i}-");
        let (before, after) = format.call_envelope(&tool.name);
        let mut rule = format!("call-{i} ::= {} {prefix}root", gbnf_literal(&before));
        if !after.is_empty() {
            rule.push(' ');
            rule.push_str(&gbnf_literal(&after));
        }
        out.push_str(&rule);
        out.push('\n');
        out.push_str(&prefix_rules(&tool.gbnf, &prefix));
        if !out.ends_with('\n') {
            out.push('\n');
        }
    }
    out
}

/// `text` as a GBNF string literal.
pub fn gbnf_literal(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Every rule name (definitions and references) in `gbnf` with `prefix` in front.
pub fn prefix_rules(gbnf: &str, prefix: &str) -> String {
    let chars: Vec<char> = gbnf.chars().collect();
    let mut out = String::with_capacity(gbnf.len() * 2);
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '"' | '[' => {
                let close = if c == '"' { '"' } else { ']' };
                let end = skip_quoted(&chars, i, close);
                out.extend(&chars[i..end]);
                i = end;
            }
            '{' | '<' => {
                let close = if c == '{' { '}' } else { '>' };
                let end = chars[i..]
                    .iter()
                    .position(|&x| x == close)
                    .map_or(chars.len(), |p| i + p + 1);
                out.extend(&chars[i..end]);
                i = end;
            }
            '#' => {
                let end = chars[i..]
                    .iter()
                    .position(|&x| x == '\n')
                    .map_or(chars.len(), |p| i + p);
                out.extend(&chars[i..end]);
                i = end;
            }
            c if is_name_char(c) => {
                let end = chars[i..]
                    .iter()
                    .position(|&x| !is_name_char(x))
                    .map_or(chars.len(), |p| i + p);
                out.push_str(prefix);
                out.extend(&chars[i..end]);
                i = end;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-'
}

/// Index just past the closing `close` of a literal or class opened at `start` (backslash
/// escapes skipped).
fn skip_quoted(chars: &[char], start: usize, close: char) -> usize {
    let mut i = start + 1;
    while i < chars.len() {
        match chars[i] {
            '\\' => i += 2,
            c if c == close => return i + 1,
            _ => i += 1,
        }
    }
    chars.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_names_but_not_literals_classes_or_counts() {
        let gbnf = "root ::= \"{\" space city-kv \"}\" space\n\
                    city-kv ::= \"\\\"city\\\"\" space \":\" space string\n\
                    char ::= [^\"\\\\\\x7F\\x00-\\x1F] | [\\\\] ([\"\\\\bfnrt] | \"u\" [0-9a-fA-F]{4})\n\
                    space ::= | \" \" | \"\\n\"{1,2} [ \\t]{0,20} # trailing comment root\n";
        let out = prefix_rules(gbnf, "t0-");
        assert!(out.starts_with("t0-root ::= \"{\" t0-space t0-city-kv \"}\" t0-space\n"));
        assert!(
            out.contains("t0-city-kv ::= \"\\\"city\\\"\" t0-space \":\" t0-space t0-string\n")
        );
        assert!(out.contains("[0-9a-fA-F]{4}"));
        assert!(out.contains("\"\\n\"{1,2} [ \\t]{0,20} # trailing comment root"));
        assert!(
            out.contains("t0-char ::= [^\"\\\\\\x7F\\x00-\\x1F] | [\\\\] ([\"\\\\bfnrt] | \"u\"")
        );
    }

    #[test]
    fn one_alternative_per_tool_in_the_models_envelope() {
        let tools = [
            ToolArgsGrammar {
                name: "get_weather".into(),
                gbnf: "root ::= \"{}\"\n".into(),
            },
            ToolArgsGrammar {
                name: "get_time".into(),
                gbnf: "root ::= obj\nobj ::= \"{}\"\n".into(),
            },
        ];
        let grammar = forced_call_grammar(ToolCallFormat::Hermes, &tools);
        assert_eq!(
            grammar,
            "root ::= call-0 | call-1\n\
             call-0 ::= \"<tool_call>\\n{\\\"name\\\": \\\"get_weather\\\", \\\"arguments\\\": \" t0-root \"}\\n</tool_call>\"\n\
             t0-root ::= \"{}\"\n\
             call-1 ::= \"<tool_call>\\n{\\\"name\\\": \\\"get_time\\\", \\\"arguments\\\": \" t1-root \"}\\n</tool_call>\"\n\
             t1-root ::= t1-obj\nt1-obj ::= \"{}\"\n"
        );
        let harmony = forced_call_grammar(ToolCallFormat::Harmony, &tools[..1]);
        assert!(harmony.contains(
            "call-0 ::= \"<|channel|>commentary to=functions.get_weather <|constrain|>json<|message|>\" t0-root\n"
        ));
    }
}
