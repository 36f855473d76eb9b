//! One conversation (system prompt, a user question, an earlier tool call and its result,
//! tools offered) rendered through test templates written in the style of each family
//! (`test_templates/*.jinja`), compared with the exact prompt text the family expects, and
//! the tool-call format each template is read with.

#![allow(clippy::unwrap_used)]

use clawgate_wire::{ContentBlock, Message, Request, Role, ToolChoice, ToolSpec};
use pretty_assertions::assert_eq;
use serde_json::json;

use super::jinja::JinjaChatTemplate;
use crate::prompt_plan::{PromptTemplate, SpecialTokens, ToolPlan, prepare_prompt};
use crate::tool_calls::format::ToolCallFormat;

const CHATML_HERMES: &str = include_str!("test_templates/chatml_hermes.jinja");
const LLAMA3: &str = include_str!("test_templates/llama3.jinja");
const MISTRAL: &str = include_str!("test_templates/mistral.jinja");
const GEMMA: &str = include_str!("test_templates/gemma.jinja");
const HARMONY: &str = include_str!("test_templates/harmony.jinja");

fn weather_tool() -> ToolSpec {
    ToolSpec {
        name: "get_weather".into(),
        description: Some("Current weather for a city".into()),
        parameters: json!({"type": "object", "properties": {"city": {"type": "string"}},
            "required": ["city"]}),
    }
}

/// System prompt, question, earlier call and its result; the model answers next.
fn conversation() -> Request {
    Request {
        model: "m".into(),
        system: Some("You are terse.".into()),
        messages: vec![
            Message::text(Role::User, "What's the weather in Paris?"),
            Message {
                role: Role::Assistant,
                content: vec![ContentBlock::ToolCall {
                    id: "call_1".into(),
                    name: "get_weather".into(),
                    arguments: "{\"city\":\"Paris\"}".into(),
                }],
            },
            Message {
                role: Role::Tool,
                content: vec![ContentBlock::ToolResult {
                    call_id: "call_1".into(),
                    name: Some("get_weather".into()),
                    content: "sunny, 21 C".into(),
                    is_error: false,
                }],
            },
        ],
        tools: vec![weather_tool()],
        tool_choice: ToolChoice::Auto,
        ..Request::default()
    }
}

fn tokens(bos: &str, eos: &str) -> SpecialTokens {
    SpecialTokens {
        bos: bos.into(),
        eos: eos.into(),
    }
}

fn now() -> jiff::ZonedDateTime {
    "2026-03-01T10:00:00+00:00[UTC]".parse().unwrap()
}

fn template(source: &str, tokens: &SpecialTokens) -> PromptTemplate {
    PromptTemplate::jinja(JinjaChatTemplate::compile(source).unwrap(), tokens).unwrap()
}

fn render(source: &str, tokens: &SpecialTokens, request: &Request) -> (String, ToolPlan) {
    let prepared = prepare_prompt(request, &template(source, tokens), tokens, &now()).unwrap();
    (prepared.text, prepared.tools)
}

#[test]
fn chatml_hermes_with_tools() {
    let (text, plan) = render(CHATML_HERMES, &tokens("", "<|im_end|>"), &conversation());
    assert_eq!(
        text,
        "<|im_start|>system\nYou are terse.\n\n# Tools\n\nFunctions you may call, one JSON \
         signature per line:\n<tools>\n{\"type\": \"function\", \"function\": {\"name\": \
         \"get_weather\", \"description\": \"Current weather for a city\", \"parameters\": \
         {\"type\": \"object\", \"properties\": {\"city\": {\"type\": \"string\"}}, \
         \"required\": [\"city\"]}}}\n</tools>\n\nTo call a function, write a JSON object with \
         its name and arguments inside <tool_call></tool_call> tags.<|im_end|>\n\
         <|im_start|>user\nWhat's the weather in Paris?<|im_end|>\n\
         <|im_start|>assistant\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": \
         {\"city\": \"Paris\"}}\n</tool_call><|im_end|>\n\
         <|im_start|>user\n<tool_response>\nsunny, 21 C\n</tool_response><|im_end|>\n\
         <|im_start|>assistant\n"
    );
    assert_eq!(
        plan,
        ToolPlan::Offered {
            format: ToolCallFormat::Hermes
        }
    );
}

#[test]
fn llama3_with_tools_and_the_date() {
    let (text, plan) = render(
        LLAMA3,
        &tokens("<|begin_of_text|>", "<|eot_id|>"),
        &conversation(),
    );
    assert_eq!(
        text,
        "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nToday Date: 01 Mar \
         2026\n\nTo call a function, answer with JSON {\"name\": function name, \
         \"parameters\": object of arguments}. Functions:\n\n{\n    \"type\": \"function\",\n    \
         \"function\": {\n        \"name\": \"get_weather\",\n        \"description\": \
         \"Current weather for a city\",\n        \"parameters\": {\n            \"type\": \
         \"object\",\n            \"properties\": {\n                \"city\": {\n                    \
         \"type\": \"string\"\n                }\n            },\n            \"required\": [\n                \
         \"city\"\n            ]\n        }\n    }\n}\n\nYou are terse.<|eot_id|>\
         <|start_header_id|>user<|end_header_id|>\n\nWhat's the weather in Paris?<|eot_id|>\
         <|start_header_id|>assistant<|end_header_id|>\n\n{\"name\": \"get_weather\", \
         \"parameters\": {\"city\": \"Paris\"}}<|eot_id|>\
         <|start_header_id|>ipython<|end_header_id|>\n\nsunny, 21 C<|eot_id|>\
         <|start_header_id|>assistant<|end_header_id|>\n\n"
    );
    assert_eq!(
        plan,
        ToolPlan::Offered {
            format: ToolCallFormat::Llama3
        }
    );
}

#[test]
fn mistral_with_tools_and_nine_character_ids() {
    let (text, plan) = render(MISTRAL, &tokens("<s>", "</s>"), &conversation());
    // The same 9-character digest of `call_1` on the call and on its result.
    let id = crate::chat_template::messages::call_id_for(
        "call_1",
        crate::chat_template::messages::IdStyle::NineAlphanumeric,
    );
    assert_eq!(id.len(), 9);
    assert_eq!(
        text,
        format!(
            "<s>[AVAILABLE_TOOLS] [{{\"type\": \"function\", \"function\": {{\"name\": \
             \"get_weather\", \"description\": \"Current weather for a city\", \"parameters\": \
             {{\"type\": \"object\", \"properties\": {{\"city\": {{\"type\": \"string\"}}}}, \
             \"required\": [\"city\"]}}}}}}][/AVAILABLE_TOOLS][INST] You are terse.\n\nWhat's \
             the weather in Paris?[/INST][TOOL_CALLS] [{{\"name\": \"get_weather\", \
             \"arguments\": {{\"city\": \"Paris\"}}, \"id\": \"{id}\"}}]</s>[TOOL_RESULTS] \
             {{\"content\": \"sunny, 21 C\", \"call_id\": \"{id}\"}}[/TOOL_RESULTS]"
        )
    );
    assert_eq!(
        plan,
        ToolPlan::Offered {
            format: ToolCallFormat::Mistral
        }
    );
}

#[test]
fn gemma_without_tool_markup_gets_tools_and_history_as_text() {
    let (text, plan) = render(GEMMA, &tokens("<bos>", "<eos>"), &conversation());
    assert_eq!(
        text,
        "<bos><start_of_turn>user\nYou are terse.\n\nYou can call tools. To call one, answer \
         with only a JSON object of the form {\"name\": \"<tool name>\", \"arguments\": {<the \
         arguments>}} and nothing else.\nTools:\n{\"name\": \"get_weather\", \"description\": \
         \"Current weather for a city\", \"parameters\": {\"type\": \"object\", \
         \"properties\": {\"city\": {\"type\": \"string\"}}, \"required\": \
         [\"city\"]}}\n\nWhat's the weather in Paris?<end_of_turn>\n\
         <start_of_turn>model\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \
         \"Paris\"}}<end_of_turn>\n\
         <start_of_turn>user\n[get_weather result]\nsunny, 21 C<end_of_turn>\n\
         <start_of_turn>model\n"
    );
    assert_eq!(
        plan,
        ToolPlan::Offered {
            format: ToolCallFormat::Generic
        }
    );
}

#[test]
fn harmony_with_tools_reasoning_effort_and_a_named_tool() {
    let mut request = conversation();
    request.reasoning = Some(clawgate_wire::ReasoningEffort::High);
    request.tool_choice = ToolChoice::Tool("get_weather".into());
    let (text, plan) = render(HARMONY, &tokens("<|startoftext|>", "<|return|>"), &request);
    assert_eq!(
        text,
        "<|start|>system<|message|>You are a helpful assistant.\nReasoning: high\n\n# Valid \
         channels: analysis, commentary, final.<|end|><|start|>developer<|message|># \
         Instructions\n\nYou are terse.\n\n# Tools\n\n## functions\n\nnamespace functions \
         {\n\n// Current weather for a city\ntype get_weather = (_: {\"type\": \"object\", \
         \"properties\": {\"city\": {\"type\": \"string\"}}, \"required\": [\"city\"]}) => \
         any;\n\n} // namespace functions<|end|>\
         <|start|>user<|message|>What's the weather in Paris?<|end|>\
         <|start|>assistant<|channel|>commentary to=functions.get_weather \
         <|constrain|>json<|message|>{\"city\": \"Paris\"}<|call|>\
         <|start|>functions.get_weather to=assistant<|channel|>commentary<|message|>\"sunny, \
         21 C\"<|end|><|start|>assistant"
    );
    assert_eq!(
        plan,
        ToolPlan::Forced {
            format: ToolCallFormat::Harmony,
            allowed: vec![weather_tool()],
        }
    );
}

#[test]
fn tool_choice_none_hides_the_tools() {
    let mut request = conversation();
    request.tool_choice = ToolChoice::None;
    let (text, plan) = render(CHATML_HERMES, &tokens("", "<|im_end|>"), &request);
    assert!(!text.contains("<tools>"), "{text}");
    assert_eq!(plan, ToolPlan::NotInPlay);
}

#[test]
fn a_template_that_rejects_system_messages_gets_the_text_in_the_first_user_turn() {
    let source = "{% for m in messages %}{% if m.role == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}[{{ m.role }}] {{ m.content }}\n{% endfor %}";
    let request = Request {
        model: "m".into(),
        system: Some("sys".into()),
        messages: vec![Message::text(Role::User, "hi")],
        ..Request::default()
    };
    let (text, _) = render(source, &SpecialTokens::default(), &request);
    assert_eq!(text, "[user] sys\n\nhi\n");
}

#[test]
fn a_template_that_wants_string_arguments_gets_strings() {
    // `+` on a mapping fails; this template only works with the JSON text.
    let source = "{% for m in messages %}{% if m.tool_calls %}{{ 'ARGS ' + m.tool_calls[0].function.arguments }}{% endif %}{% endfor %}{% if tools %}{% endif %}<tool_call>";
    let (text, _) = render(source, &SpecialTokens::default(), &conversation());
    assert_eq!(text, "ARGS {\"city\":\"Paris\"}<tool_call>");
}

#[test]
fn named_tool_must_be_offered_and_forcing_needs_tools() {
    let template = template(CHATML_HERMES, &SpecialTokens::default());
    let mut request = conversation();
    request.tool_choice = ToolChoice::Tool("rm_rf".into());
    let err = prepare_prompt(&request, &template, &SpecialTokens::default(), &now()).unwrap_err();
    assert!(err.to_string().contains("rm_rf"), "{err}");
    request.tools.clear();
    request.tool_choice = ToolChoice::Required;
    assert!(prepare_prompt(&request, &template, &SpecialTokens::default(), &now()).is_err());
}

#[test]
fn a_template_error_is_reported_with_its_message() {
    let template = template(GEMMA, &SpecialTokens::default());
    let request = Request {
        model: "m".into(),
        messages: vec![
            Message::text(Role::Assistant, "Hello."),
            Message::text(Role::User, "hi"),
        ],
        ..Request::default()
    };
    let err = prepare_prompt(&request, &template, &SpecialTokens::default(), &now()).unwrap_err();
    assert!(
        err.to_string()
            .contains("Conversation roles must alternate"),
        "{err}"
    );
}
