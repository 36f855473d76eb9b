//! One request's prompt and how to read the answer: the text to tokenize, the tool plan
//! (tools not in play, offered, or forced), and extra stop sequences. Chosen per model at load
//! ([`PromptTemplate`]) and applied per request ([`prepare_prompt`]).
//!
//! Tools are never dropped without saying so: a chat model gets them through its template
//! (or, when the template has no tool markup, as a list in the system prompt); a forced call is
//! grammar-constrained for every model, base models included; only a *base* model offered
//! tools with `tool_choice: auto` answers in text (it was never taught to decide to call a
//! tool), which `ModelInfo::tool_calls` reports and the docs state.

use clawgate_wire::{Request, ToolChoice, ToolSpec};

use crate::EngineError;
use crate::chat_template::jinja::{JinjaChatTemplate, RenderInput};
use crate::chat_template::messages::{
    ArgumentsAs, IdStyle, MessageStyle, template_messages, template_tools,
};
use crate::prompt::conversation_turns;
use crate::templates::{BuiltinTemplate, ChatTurn, TurnRole};
use crate::tool_calls::format::{ToolCallFormat, generic_tool_instructions};
use crate::transcript::{TRANSCRIPT_STOPS, render_transcript};

/// How a model's prompts are written.
#[derive(Debug)]
pub enum PromptTemplate {
    /// A Jinja chat template (the GGUF's or the config's), with the tool-call format its
    /// markup shows.
    Jinja {
        template: Box<JinjaChatTemplate>,
        format: ToolCallFormat,
        style: MessageStyle,
    },
    /// A built-in template (a chat model whose GGUF carries none); tools go in the system
    /// prompt (`generic` format).
    Builtin(BuiltinTemplate),
    /// A base model: a plain transcript (see `transcript`).
    Transcript,
}

impl PromptTemplate {
    /// Wraps a compiled Jinja template: detects its tool-call format, then finds how it takes
    /// a conversation with a system prompt and an earlier tool call (the way llama.cpp probes
    /// a template's capabilities): arguments as objects (most templates) or strings, and the
    /// system prompt as a `system` message or (for templates that reject one, like gemma 2's)
    /// in front of the first user message. Fails when no way renders.
    pub fn jinja(template: JinjaChatTemplate, tokens: &SpecialTokens) -> Result<Self, String> {
        let format = ToolCallFormat::detect(template.source());
        let base = MessageStyle {
            ids: if matches!(
                format,
                ToolCallFormat::Mistral | ToolCallFormat::MistralArgs
            ) {
                IdStyle::NineAlphanumeric
            } else {
                IdStyle::AsGiven
            },
            tools_as_text: !format.template_renders_tools(),
            ..MessageStyle::default()
        };
        let mut this = PromptTemplate::Jinja {
            template: Box::new(template),
            format,
            style: base,
        };
        let probe = probe_request();
        let now = jiff::ZonedDateTime::now();
        let mut first_error = None;
        for system_in_first_user in [false, true] {
            for arguments_as in [ArgumentsAs::Object, ArgumentsAs::String] {
                if let PromptTemplate::Jinja { style, .. } = &mut this {
                    *style = MessageStyle {
                        arguments_as,
                        system_in_first_user,
                        ..base
                    };
                }
                match prepare_prompt(&probe, &this, tokens, &now) {
                    Ok(_) => return Ok(this),
                    Err(err) => {
                        first_error.get_or_insert(err.to_string());
                    }
                }
            }
        }
        Err(first_error.unwrap_or_default())
    }

    /// The tool-call format answers are read in.
    pub fn tool_format(&self) -> ToolCallFormat {
        match self {
            PromptTemplate::Jinja { format, .. } => *format,
            PromptTemplate::Builtin(_) | PromptTemplate::Transcript => ToolCallFormat::Generic,
        }
    }
}

/// The vocabulary's BOS and EOS as text (`bos_token`, `eos_token` in templates).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SpecialTokens {
    pub bos: String,
    pub eos: String,
}

/// What happens with the request's tools.
#[derive(Debug, Clone, PartialEq)]
pub enum ToolPlan {
    /// No tools offered, or `tool_choice: none`.
    NotInPlay,
    /// Offered: the model may call one; calls in `format` are read back out of the answer.
    Offered { format: ToolCallFormat },
    /// The answer must be one call to one of `allowed`, grammar-constrained.
    Forced {
        format: ToolCallFormat,
        allowed: Vec<ToolSpec>,
    },
    /// A base model offered tools with `tool_choice: auto`: it answers in text, and its
    /// stream says so ([`base_model_tools_notice`]).
    BaseModelAnswersInText,
}

/// The notice (`Event::Notice`) of a base model that was offered tools with `tool_choice:
/// auto`: what it did instead, and how to get a call anyway.
pub fn base_model_tools_notice(model: &str) -> String {
    format!(
        "{model} is a base model and cannot choose when to call a tool: the offered tools were \
         not shown to it and it answers in text (force a call with tool_choice \"required\" or a \
         named tool, or use a chat-tuned model)"
    )
}

/// A request made ready for the tokenizer.
#[derive(Debug, Clone, PartialEq)]
pub struct PreparedPrompt {
    pub text: String,
    pub tools: ToolPlan,
    /// Stop sequences the prompt format needs (the transcript's turn starts).
    pub stops: Vec<String>,
    /// The answer continues a `Speaker:` line: drop its leading blank.
    pub trim_leading_blank: bool,
}

pub fn prepare_prompt(
    request: &Request,
    template: &PromptTemplate,
    tokens: &SpecialTokens,
    now: &jiff::ZonedDateTime,
) -> Result<PreparedPrompt, EngineError> {
    let base_model = matches!(template, PromptTemplate::Transcript);
    let format = template.tool_format();
    let tools = tool_plan(request, format, base_model)?;
    let shown: &[ToolSpec] = match &tools {
        ToolPlan::NotInPlay | ToolPlan::BaseModelAnswersInText => &[],
        ToolPlan::Offered { .. } => &request.tools,
        ToolPlan::Forced { allowed, .. } => allowed,
    };
    let instructions = (!shown.is_empty() && !format.template_renders_tools())
        .then(|| generic_tool_instructions(shown));
    let text = match template {
        PromptTemplate::Jinja {
            template,
            format,
            style,
        } => {
            let input = RenderInput {
                messages: template_messages(request, instructions.as_deref(), *style)?,
                tools: (!shown.is_empty() && format.template_renders_tools())
                    .then(|| template_tools(shown)),
                add_generation_prompt: true,
                bos_token: tokens.bos.clone(),
                eos_token: tokens.eos.clone(),
                enable_thinking: true,
                reasoning_effort: request.reasoning.map(|r| {
                    match r {
                        clawgate_wire::ReasoningEffort::Minimal
                        | clawgate_wire::ReasoningEffort::Low => "low",
                        clawgate_wire::ReasoningEffort::Medium => "medium",
                        clawgate_wire::ReasoningEffort::High => "high",
                    }
                    .to_owned()
                }),
                now: now.clone(),
            };
            template.render(&input).map_err(EngineError::Template)?
        }
        PromptTemplate::Builtin(builtin) => {
            let mut turns = conversation_turns(request)?;
            if let Some(instructions) = &instructions {
                add_system_text(&mut turns, instructions);
            }
            builtin.render(&turns)
        }
        PromptTemplate::Transcript => {
            render_transcript(&conversation_turns(request)?, instructions.as_deref())
        }
    };
    Ok(PreparedPrompt {
        text,
        tools,
        stops: if base_model {
            TRANSCRIPT_STOPS.iter().map(|s| (*s).to_owned()).collect()
        } else {
            Vec::new()
        },
        trim_leading_blank: base_model,
    })
}

fn tool_plan(
    request: &Request,
    format: ToolCallFormat,
    base_model: bool,
) -> Result<ToolPlan, EngineError> {
    if request.tools.is_empty() {
        return match &request.tool_choice {
            ToolChoice::Required | ToolChoice::Tool(_) => Err(EngineError::Unsupported(
                "tool_choice forces a tool call but the request offers no tools".into(),
            )),
            ToolChoice::Auto | ToolChoice::None => Ok(ToolPlan::NotInPlay),
        };
    }
    Ok(match &request.tool_choice {
        ToolChoice::None => ToolPlan::NotInPlay,
        ToolChoice::Auto if base_model => ToolPlan::BaseModelAnswersInText,
        ToolChoice::Auto => ToolPlan::Offered { format },
        ToolChoice::Required => ToolPlan::Forced {
            format,
            allowed: request.tools.clone(),
        },
        ToolChoice::Tool(name) => {
            let Some(tool) = request.tools.iter().find(|t| &t.name == name) else {
                return Err(EngineError::Unsupported(format!(
                    "tool_choice names the tool `{name}`, which the request does not offer"
                )));
            };
            ToolPlan::Forced {
                format,
                allowed: vec![tool.clone()],
            }
        }
    })
}

/// Adds text to the system turn (creating one at the front when there is none).
fn add_system_text(turns: &mut Vec<ChatTurn>, text: &str) {
    match turns.first_mut() {
        Some(first) if first.role == TurnRole::System => {
            first.text.push_str("\n\n");
            first.text.push_str(text);
        }
        _ => turns.insert(0, ChatTurn::new(TurnRole::System, text)),
    }
}

/// A conversation with an earlier tool call, to check how a template takes its arguments.
fn probe_request() -> Request {
    use clawgate_wire::{ContentBlock, Message, Role};
    Request {
        model: String::new(),
        system: Some("s".into()),
        messages: vec![
            Message::text(Role::User, "u"),
            Message {
                role: Role::Assistant,
                content: vec![ContentBlock::ToolCall {
                    id: "call00001".into(),
                    name: "probe".into(),
                    arguments: "{\"arg\":\"value\"}".into(),
                }],
            },
            Message {
                role: Role::Tool,
                content: vec![ContentBlock::ToolResult {
                    call_id: "call00001".into(),
                    name: Some("probe".into()),
                    content: "r".into(),
                    is_error: false,
                }],
            },
        ],
        tools: vec![ToolSpec {
            name: "probe".into(),
            description: Some("d".into()),
            parameters: serde_json::json!({"type": "object",
                "properties": {"arg": {"type": "string"}}, "required": ["arg"]}),
        }],
        ..Request::default()
    }
}
