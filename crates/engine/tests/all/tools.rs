//! Tool calls on the demo model. A forced call (`tool_choice: required` or a named tool) is
//! grammar-constrained: whatever the (untuned) model would have written, the output is one
//! call, to an allowed tool, whose arguments validate against the tool's JSON schema; in each
//! family's syntax when the template is one of theirs. A base model offered tools with
//! `auto` answers in text and says so in a notice; limits and bad schemas are clear errors.

use clawgate_engine::LlamaCppProvider;
use clawgate_providers::FailureKind;
use clawgate_wire::{Event, Request, StopReason, ToolChoice, ToolSpec};
use serde_json::{Value, json};

use crate::common::{demo_spec, request, run, shared_provider, try_run};

pub fn weather_tool() -> ToolSpec {
    ToolSpec {
        name: "get_weather".into(),
        description: Some("Current weather for a city".into()),
        parameters: json!({
            "type": "object",
            "properties": {
                "city": {"type": "string", "minLength": 1, "maxLength": 40},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                "days": {"type": "integer", "minimum": 1, "maximum": 7}
            },
            "required": ["city", "unit"],
            "additionalProperties": false
        }),
    }
}

pub fn search_tool() -> ToolSpec {
    ToolSpec {
        name: "search_notes".into(),
        description: Some("Search the user's notes".into()),
        parameters: json!({
            "type": "object",
            "properties": {
                "query": {"type": "string", "maxLength": 60},
                "tags": {"type": "array", "items": {"type": "string", "maxLength": 12},
                         "maxItems": 3},
                "limit": {"type": "integer", "minimum": 1, "maximum": 20},
                "exact": {"type": "boolean"}
            },
            "required": ["query", "tags", "exact"],
            "additionalProperties": false
        }),
    }
}

/// The calls of one answer: `(name, arguments JSON)`.
pub fn calls(events: &[Event]) -> Vec<(String, Value)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for event in events {
        match event {
            Event::ToolCallStart { index, name, id } => {
                assert_eq!(*index as usize, out.len(), "indexes count up");
                assert!(id.starts_with("call_"), "{id}");
                out.push((name.clone(), String::new()));
            }
            Event::ToolCallArgsDelta { index, delta } => out[*index as usize].1.push_str(delta),
            _ => {}
        }
    }
    out.into_iter()
        .map(|(name, args)| {
            let args = serde_json::from_str(&args)
                .unwrap_or_else(|e| panic!("arguments of {name} are not JSON ({e}): {args}"));
            (name, args)
        })
        .collect()
}

/// Asserts `args` is valid for the schema of the tool called `name` among `tools`.
pub fn assert_valid(tools: &[ToolSpec], name: &str, args: &Value) {
    let tool = tools
        .iter()
        .find(|t| t.name == name)
        .unwrap_or_else(|| panic!("called {name}, which was not allowed"));
    let validator = jsonschema::validator_for(&tool.parameters).unwrap();
    let errors: Vec<String> = validator.iter_errors(args).map(|e| e.to_string()).collect();
    assert!(
        errors.is_empty(),
        "{name}({args}) breaks its schema: {errors:?}"
    );
}

fn forced(prompt: &str, tools: Vec<ToolSpec>, choice: ToolChoice, seed: i64) -> Request {
    let mut req = request(prompt, 160);
    req.tools = tools;
    req.tool_choice = choice;
    req.temperature = Some(1.0);
    req.seed = Some(seed);
    req
}

#[tokio::test]
async fn required_calls_always_parse_and_validate() {
    let tools = vec![weather_tool(), search_tool()];
    let prompts = [
        "What's the weather in Lisbon this week?",
        "Find my notes about the garden.",
        "Hello there!",
    ];
    for (seed, prompt) in (1..).zip(prompts) {
        let req = forced(prompt, tools.clone(), ToolChoice::Required, seed);
        let out = run(shared_provider(), req).await;
        assert_eq!(
            out.stop_reason,
            StopReason::ToolUse,
            "{prompt}: {:?}",
            out.events
        );
        assert_eq!(out.text, "", "a forced call has no text");
        let calls = calls(&out.events);
        assert_eq!(calls.len(), 1, "{prompt}: {calls:?}");
        assert_valid(&tools, &calls[0].0, &calls[0].1);
    }
}

#[tokio::test]
async fn a_named_tool_is_the_one_called() {
    let tools = vec![weather_tool(), search_tool()];
    for seed in [3, 4] {
        let req = forced(
            "What's the weather in Oslo?",
            tools.clone(),
            ToolChoice::Tool("search_notes".into()),
            seed,
        );
        let out = run(shared_provider(), req).await;
        let calls = calls(&out.events);
        assert_eq!(calls.len(), 1);
        assert_eq!(calls[0].0, "search_notes");
        assert_valid(&tools, "search_notes", &calls[0].1);
    }
}

/// Each family's syntax, forced on the demo model through a template in that family's style:
/// the grammar writes the family's envelope and the parser reads it back.
#[tokio::test]
async fn forced_calls_in_every_family_format() {
    let templates = [
        (
            "hermes",
            include_str!("../../src/chat_template/test_templates/chatml_hermes.jinja"),
        ),
        (
            "llama3",
            include_str!("../../src/chat_template/test_templates/llama3.jinja"),
        ),
        (
            "mistral",
            include_str!("../../src/chat_template/test_templates/mistral.jinja"),
        ),
        (
            "harmony",
            include_str!("../../src/chat_template/test_templates/harmony.jinja"),
        ),
        (
            "generic",
            include_str!("../../src/chat_template/test_templates/gemma.jinja"),
        ),
        ("mistral-args", MISTRAL_ARGS),
    ];
    let tools = vec![weather_tool()];
    for (format, template) in templates {
        let provider = LlamaCppProvider::new("embedded", demo_spec().with_chat_template(template));
        let info = provider.warm().await.unwrap();
        assert_eq!(info.tool_call_format, format);
        let req = forced("Weather in Rome?", tools.clone(), ToolChoice::Required, 7);
        let out = run(&provider, req).await;
        assert_eq!(
            out.stop_reason,
            StopReason::ToolUse,
            "{format}: {:?}",
            out.events
        );
        let calls = calls(&out.events);
        assert_eq!(calls.len(), 1, "{format}");
        assert_valid(&tools, "get_weather", &calls[0].1);
    }
}

/// Mistral Small 3.2 style: `[TOOL_CALLS]name[ARGS]{…}`.
const MISTRAL_ARGS: &str = "{%- for m in messages %}{%- if m.role == 'user' %}[INST]{{ m.content }}[/INST]\
    {%- elif m.tool_calls %}{%- for c in m.tool_calls %}[TOOL_CALLS]{{ c.function.name }}[ARGS]{{ c.function.arguments | tojson }}{%- endfor %}\
    {%- endif %}{%- endfor %}{%- if tools %}[AVAILABLE_TOOLS]{{ tools | tojson }}[/AVAILABLE_TOOLS]{%- endif %}";

#[tokio::test]
async fn a_base_model_offered_tools_with_auto_answers_in_text() {
    let mut req = request("What's the weather in Paris?", 16);
    req.tools = vec![weather_tool()];
    req.tool_choice = ToolChoice::Auto;
    let out = run(shared_provider(), req).await;
    assert!(calls(&out.events).is_empty());
    assert_ne!(out.stop_reason, StopReason::ToolUse);
    assert!(!out.text.is_empty());
    // ...and says so in its stream, right after `Started`, before any answer text.
    let Some(Event::Notice { text }) = out.events.get(1) else {
        panic!("no notice second in the stream: {:?}", out.events)
    };
    assert!(text.contains("is a base model"), "{text}");
    assert!(text.contains("tool_choice"), "{text}");
    let notices = out
        .events
        .iter()
        .filter(|e| matches!(e, Event::Notice { .. }))
        .count();
    assert_eq!(notices, 1);

    // Without tools: no notice.
    let plain = run(shared_provider(), request("Hello", 4)).await;
    assert!(
        !plain
            .events
            .iter()
            .any(|e| matches!(e, Event::Notice { .. })),
        "{:?}",
        plain.events
    );
}

#[tokio::test]
async fn a_forced_call_cut_by_max_tokens_is_a_truncation_error() {
    let mut req = forced("Weather?", vec![weather_tool()], ToolChoice::Required, 1);
    req.max_tokens = Some(3);
    let err = try_run(shared_provider(), req).await.unwrap_err();
    assert_eq!(err.kind, FailureKind::Truncated, "{}", err.message);
    assert!(err.message.contains("output cap"), "{}", err.message);
}

#[tokio::test]
async fn forcing_needs_the_named_tool_and_a_convertible_schema() {
    let mut req = forced(
        "x",
        vec![weather_tool()],
        ToolChoice::Tool("nope".into()),
        1,
    );
    let err = try_run(shared_provider(), req.clone()).await.unwrap_err();
    assert_eq!(err.kind, FailureKind::Format);
    assert!(err.message.contains("nope"), "{}", err.message);

    req.tools = vec![ToolSpec {
        name: "remote".into(),
        description: None,
        parameters: json!({"type": "object",
            "properties": {"a": {"$ref": "https://example.com/schema.json"}}}),
    }];
    req.tool_choice = ToolChoice::Required;
    let err = try_run(shared_provider(), req).await.unwrap_err();
    assert_eq!(err.kind, FailureKind::Format);
    assert!(err.message.contains("tool `remote`"), "{}", err.message);
}
