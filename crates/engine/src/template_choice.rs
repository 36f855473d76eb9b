//! Choosing how a loaded model's prompts are written, once at load:
//!
//! 1. the spec's `chat_template` (config `chatTemplate`): a built-in name, `transcript`,
//!    Jinja text, or a Jinja file; a bad one fails the load with the reason;
//! 2. the GGUF's `tokenizer.chat_template`, rendered with minijinja (a template that does
//!    not compile or render is reported and skipped);
//! 3. a chat-tuned model without a template (its metadata says `instruct`, `it`, `chat`, …):
//!    the built-in template of its architecture;
//! 4. otherwise a base model: the plain-text transcript.

use llama_cpp_2::model::LlamaModel;

use crate::chat_template::jinja::JinjaChatTemplate;
use crate::prompt_plan::{PromptTemplate, SpecialTokens};
use crate::spec::ChatTemplateSetting;
use crate::templates::BuiltinTemplate;
use crate::{EngineModelSpec, TemplateSource};

/// The name that selects the base-model transcript.
pub(crate) const TRANSCRIPT_NAME: &str = "transcript";

pub(crate) fn choose_template(
    model: &LlamaModel,
    spec: &EngineModelSpec,
    architecture: &str,
    tokens: &SpecialTokens,
) -> Result<(PromptTemplate, TemplateSource), String> {
    if let Some(setting) = &spec.chat_template {
        return from_setting(setting, tokens);
    }
    if let Some(source) = model
        .chat_template(None)
        .ok()
        .and_then(|t| t.to_string().ok())
    {
        match JinjaChatTemplate::compile(source).and_then(|t| PromptTemplate::jinja(t, tokens)) {
            Ok(template) => return Ok((template, TemplateSource::Gguf)),
            Err(reason) => tracing::warn!(
                architecture,
                %reason,
                "the GGUF's chat template does not render; using a built-in template"
            ),
        }
    } else if !chat_tuned(model) {
        return Ok((PromptTemplate::Transcript, TemplateSource::Transcript));
    }
    let has_llama3_headers = model
        .vocab()
        .tokenize(b"<|start_header_id|>", false, true)
        .len()
        == 1;
    let builtin = BuiltinTemplate::for_architecture(architecture, has_llama3_headers)
        .unwrap_or_else(|| {
            tracing::warn!(
                architecture,
                "no built-in chat template for this architecture; using chatml"
            );
            BuiltinTemplate::ChatMl
        });
    Ok((
        PromptTemplate::Builtin(builtin),
        TemplateSource::Builtin(builtin.name().to_owned()),
    ))
}

fn from_setting(
    setting: &ChatTemplateSetting,
    tokens: &SpecialTokens,
) -> Result<(PromptTemplate, TemplateSource), String> {
    let (source, label) = match setting {
        ChatTemplateSetting::Named(name) if name.trim().eq_ignore_ascii_case(TRANSCRIPT_NAME) => {
            return Ok((PromptTemplate::Transcript, TemplateSource::Transcript));
        }
        ChatTemplateSetting::Named(name) => {
            let Some(builtin) = BuiltinTemplate::from_name(name) else {
                return Err(format!(
                    "chat_template `{name}` is not a built-in template ({}, {TRANSCRIPT_NAME}), \
                     Jinja text or a file",
                    builtin_names()
                ));
            };
            return Ok((
                PromptTemplate::Builtin(builtin),
                TemplateSource::Builtin(builtin.name().to_owned()),
            ));
        }
        ChatTemplateSetting::Jinja(source) => (source.clone(), "inline".to_owned()),
        ChatTemplateSetting::File(path) => {
            let path = crate::spec::expand_home(path);
            let source = std::fs::read_to_string(&path).map_err(|e| {
                format!("chat_template file {}: cannot read it: {e}", path.display())
            })?;
            (source, path.display().to_string())
        }
    };
    let template = JinjaChatTemplate::compile(source)
        .and_then(|t| PromptTemplate::jinja(t, tokens))
        .map_err(|reason| format!("chat_template ({label}): {reason}"))?;
    Ok((template, TemplateSource::Spec(label)))
}

/// Whether the GGUF's metadata says the model was tuned to chat (`general.finetune` or
/// `general.name` has a word like `instruct`, `it`, `chat`).
fn chat_tuned(model: &LlamaModel) -> bool {
    ["general.finetune", "general.name"]
        .iter()
        .filter_map(|key| model.meta_val_str(key).ok())
        .any(|value| names_a_chat_tune(&value))
}

pub(crate) fn names_a_chat_tune(value: &str) -> bool {
    const WORDS: [&str; 8] = [
        "it",
        "instruct",
        "chat",
        "sft",
        "dpo",
        "rlhf",
        "assistant",
        "thinking",
    ];
    value
        .to_ascii_lowercase()
        .split(|c: char| !c.is_ascii_alphanumeric())
        .any(|word| WORDS.contains(&word))
}

fn builtin_names() -> String {
    BuiltinTemplate::ALL
        .iter()
        .map(|t| t.name())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chat_tune_words() {
        assert!(names_a_chat_tune("Gemma 3 270m It"));
        assert!(names_a_chat_tune("Qwen2.5-7B-Instruct"));
        assert!(names_a_chat_tune("instruct"));
        assert!(!names_a_chat_tune("Gemma 3 270m"));
        assert!(!names_a_chat_tune("Llama-3.1-8B"));
        assert!(!names_a_chat_tune("Italian-Base"));
    }
}
