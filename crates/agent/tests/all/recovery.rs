//! JSON tool-call recovery: the unambiguous cases are recovered, everything else is left as
//! text.

use clawgate_agent::tool_text_recovery::recover_tool_call;
use clawgate_wire::ToolSpec;

fn tools() -> Vec<ToolSpec> {
    ["read", "web_fetch"]
        .iter()
        .map(|n| ToolSpec {
            name: n.to_string(),
            description: None,
            parameters: serde_json::json!({"type": "object"}),
        })
        .collect()
}

#[test]
fn recovered() {
    let cases = [
        (
            r#"{"name": "read", "arguments": {"path": "a.txt"}}"#,
            "read",
            r#"{"path":"a.txt"}"#,
        ),
        (
            r#"  {"name":"read","parameters":{"path":"b"}}  "#,
            "read",
            r#"{"path":"b"}"#,
        ),
        (
            "```json\n{\"name\": \"web_fetch\", \"arguments\": {\"url\": \"https://x\"}}\n```",
            "web_fetch",
            r#"{"url":"https://x"}"#,
        ),
        (
            "```\n{\"name\": \"read\", \"arguments\": {}}\n```\n",
            "read",
            "{}",
        ),
        (
            r#"{"name": "read", "arguments": "{\"path\": \"c\"}"}"#,
            "read",
            r#"{"path":"c"}"#,
        ),
    ];
    for (text, name, args) in cases {
        let got =
            recover_tool_call(text, &tools()).unwrap_or_else(|| panic!("not recovered: {text}"));
        assert_eq!(got.name, name);
        assert_eq!(got.arguments, args);
    }
}

#[test]
fn left_as_text() {
    let cases = [
        // Prose around the JSON.
        r#"Sure! {"name": "read", "arguments": {"path": "a"}}"#,
        r#"{"name": "read", "arguments": {"path": "a"}} done"#,
        // Two calls, or an array of calls.
        r#"{"name": "read", "arguments": {}} {"name": "read", "arguments": {}}"#,
        r#"[{"name": "read", "arguments": {}}]"#,
        // Unknown tool, wrong case, missing name.
        r#"{"name": "exec", "arguments": {"command": "ls"}}"#,
        r#"{"name": "Read", "arguments": {}}"#,
        r#"{"arguments": {}}"#,
        // Extra keys, non-object arguments.
        r#"{"name": "read", "arguments": {}, "id": "1"}"#,
        r#"{"name": "read", "arguments": "not json"}"#,
        r#"{"name": "read", "arguments": [1, 2]}"#,
        // Other fences, several fences, text around a fence.
        "```python\n{\"name\": \"read\", \"arguments\": {}}\n```",
        "```json\n{\"name\": \"read\", \"arguments\": {}}\n```\n```json\n{}\n```",
        "Here:\n```json\n{\"name\": \"read\", \"arguments\": {}}\n```",
        // Plain JSON data that is not a call.
        r#"{"city": "Paris", "temp": 21}"#,
        "Just an answer.",
    ];
    for text in cases {
        assert_eq!(recover_tool_call(text, &tools()), None, "recovered: {text}");
    }
    // Nothing is recovered when no tools were offered.
    assert_eq!(
        recover_tool_call(r#"{"name": "read", "arguments": {}}"#, &[]),
        None
    );
}
