//! Built-in chat templates, chosen by the GGUF's `general.architecture` when the file carries
//! no `tokenizer.chat_template` (the demo gemma-3 270M base model has none; llama.cpp's own
//! lookup then fails). Each renders a conversation into the prompt text the model family
//! was tuned on, ending with the open assistant turn. The markup follows llama.cpp's
//! `llm_chat_apply_template` for the same families, so a model renders the same whether its
//! template came from the file or from here.
//!
//! Pure string work: no llama.cpp, unit-tested on its own. BOS is not written here; the
//! tokenizer adds it when the vocabulary asks for it.

/// Who said a turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TurnRole {
    System,
    User,
    Assistant,
}

impl TurnRole {
    /// The role name llama.cpp's template engine expects.
    pub fn as_str(self) -> &'static str {
        match self {
            TurnRole::System => "system",
            TurnRole::User => "user",
            TurnRole::Assistant => "assistant",
        }
    }
}

/// One turn of the conversation, already flattened to text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatTurn {
    pub role: TurnRole,
    pub text: String,
}

impl ChatTurn {
    pub fn new(role: TurnRole, text: impl Into<String>) -> Self {
        Self {
            role,
            text: text.into(),
        }
    }
}

/// The built-in table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BuiltinTemplate {
    /// gemma, gemma2, gemma3: `<start_of_turn>user\n…<end_of_turn>\n`, no system role (the
    /// system text is prepended to the first user turn), the assistant is `model`.
    Gemma,
    /// ChatML (`<|im_start|>role\n…<|im_end|>\n`): qwen2/qwen3 and many fine-tunes.
    ChatMl,
    /// Llama 3: `<|start_header_id|>role<|end_header_id|>\n\n…<|eot_id|>`.
    Llama3,
    /// Phi-3: `<|role|>\n…<|end|>\n`.
    Phi3,
    /// Mistral / Llama 2 instruct: `[INST] …[/INST] …</s>`.
    Mistral,
}

impl BuiltinTemplate {
    pub const ALL: [BuiltinTemplate; 5] = [
        BuiltinTemplate::Gemma,
        BuiltinTemplate::ChatMl,
        BuiltinTemplate::Llama3,
        BuiltinTemplate::Phi3,
        BuiltinTemplate::Mistral,
    ];

    /// Markup that opens a turn in one of the templates above. When the model produces one
    /// as a single control token, its answer is over.
    pub const TURN_START_MARKERS: [&'static str; 5] = [
        "<start_of_turn>",
        "<|im_start|>",
        "<|start_header_id|>",
        "<|user|>",
        "[INST]",
    ];

    pub fn name(self) -> &'static str {
        match self {
            BuiltinTemplate::Gemma => "gemma",
            BuiltinTemplate::ChatMl => "chatml",
            BuiltinTemplate::Llama3 => "llama3",
            BuiltinTemplate::Phi3 => "phi3",
            BuiltinTemplate::Mistral => "mistral",
        }
    }

    /// A template by its name in the spec (case-insensitive; a few common aliases).
    pub fn from_name(name: &str) -> Option<Self> {
        match name.trim().to_ascii_lowercase().as_str() {
            "gemma" | "gemma2" | "gemma3" => Some(BuiltinTemplate::Gemma),
            "chatml" | "qwen" | "qwen2" | "qwen3" => Some(BuiltinTemplate::ChatMl),
            "llama3" | "llama-3" => Some(BuiltinTemplate::Llama3),
            "phi3" | "phi-3" => Some(BuiltinTemplate::Phi3),
            "mistral" | "llama2" | "llama-2" => Some(BuiltinTemplate::Mistral),
            _ => None,
        }
    }

    /// The template for a GGUF architecture. `llama` covers both Llama 3 and Llama 2 /
    /// Mistral 7B; `vocab_has_llama3_headers` (the vocabulary knows `<|start_header_id|>`)
    /// tells them apart. `None` for architectures not in the table.
    pub fn for_architecture(arch: &str, vocab_has_llama3_headers: bool) -> Option<Self> {
        let arch = arch.to_ascii_lowercase();
        if arch.starts_with("gemma") {
            Some(BuiltinTemplate::Gemma)
        } else if arch.starts_with("qwen") {
            Some(BuiltinTemplate::ChatMl)
        } else if arch == "phi3" {
            Some(BuiltinTemplate::Phi3)
        } else if arch == "llama" {
            Some(if vocab_has_llama3_headers {
                BuiltinTemplate::Llama3
            } else {
                BuiltinTemplate::Mistral
            })
        } else if arch.starts_with("mistral") {
            Some(BuiltinTemplate::Mistral)
        } else {
            None
        }
    }

    /// Renders the turns and opens the assistant turn.
    pub fn render(self, turns: &[ChatTurn]) -> String {
        match self {
            BuiltinTemplate::Gemma => render_gemma(turns),
            BuiltinTemplate::ChatMl => {
                let mut out = String::new();
                for turn in turns {
                    out.push_str(&format!(
                        "<|im_start|>{}\n{}<|im_end|>\n",
                        turn.role.as_str(),
                        turn.text
                    ));
                }
                out.push_str("<|im_start|>assistant\n");
                out
            }
            BuiltinTemplate::Llama3 => {
                let mut out = String::new();
                for turn in turns {
                    out.push_str(&format!(
                        "<|start_header_id|>{}<|end_header_id|>\n\n{}<|eot_id|>",
                        turn.role.as_str(),
                        turn.text.trim()
                    ));
                }
                out.push_str("<|start_header_id|>assistant<|end_header_id|>\n\n");
                out
            }
            BuiltinTemplate::Phi3 => {
                let mut out = String::new();
                for turn in turns {
                    out.push_str(&format!(
                        "<|{}|>\n{}<|end|>\n",
                        turn.role.as_str(),
                        turn.text
                    ));
                }
                out.push_str("<|assistant|>\n");
                out
            }
            BuiltinTemplate::Mistral => render_mistral(turns),
        }
    }
}

/// Gemma has no system role: system text goes in front of the next user turn.
fn render_gemma(turns: &[ChatTurn]) -> String {
    let mut out = String::new();
    let mut system = String::new();
    for turn in turns {
        let role = match turn.role {
            TurnRole::System => {
                if !system.is_empty() {
                    system.push_str("\n\n");
                }
                system.push_str(turn.text.trim());
                continue;
            }
            TurnRole::User => "user",
            TurnRole::Assistant => "model",
        };
        out.push_str("<start_of_turn>");
        out.push_str(role);
        out.push('\n');
        if turn.role == TurnRole::User && !system.is_empty() {
            out.push_str(&system);
            out.push_str("\n\n");
            system.clear();
        }
        out.push_str(turn.text.trim());
        out.push_str("<end_of_turn>\n");
    }
    if !system.is_empty() {
        // A system prompt with no user turn after it still has to reach the model.
        out.push_str(&format!("<start_of_turn>user\n{system}<end_of_turn>\n"));
    }
    out.push_str("<start_of_turn>model\n");
    out
}

/// `[INST] system\n\nuser[/INST] assistant</s>`, as llama.cpp's mistral-v3 rendering.
fn render_mistral(turns: &[ChatTurn]) -> String {
    let mut out = String::new();
    let mut inside_turn = false;
    for turn in turns {
        if !inside_turn {
            out.push_str("[INST] ");
            inside_turn = true;
        }
        match turn.role {
            TurnRole::System => {
                out.push_str(&turn.text);
                out.push_str("\n\n");
            }
            TurnRole::User => {
                out.push_str(&turn.text);
                out.push_str("[/INST]");
            }
            TurnRole::Assistant => {
                out.push(' ');
                out.push_str(&turn.text);
                out.push_str("</s>");
                inside_turn = false;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn convo() -> Vec<ChatTurn> {
        vec![
            ChatTurn::new(TurnRole::System, "Be brief."),
            ChatTurn::new(TurnRole::User, "Say hi"),
            ChatTurn::new(TurnRole::Assistant, "hi"),
            ChatTurn::new(TurnRole::User, "Again"),
        ]
    }

    #[test]
    fn gemma_prepends_system_to_first_user_turn() {
        assert_eq!(
            BuiltinTemplate::Gemma.render(&convo()),
            "<start_of_turn>user\nBe brief.\n\nSay hi<end_of_turn>\n\
             <start_of_turn>model\nhi<end_of_turn>\n\
             <start_of_turn>user\nAgain<end_of_turn>\n\
             <start_of_turn>model\n"
        );
    }

    #[test]
    fn gemma_without_system() {
        let turns = [ChatTurn::new(TurnRole::User, "Say hi")];
        assert_eq!(
            BuiltinTemplate::Gemma.render(&turns),
            "<start_of_turn>user\nSay hi<end_of_turn>\n<start_of_turn>model\n"
        );
    }

    #[test]
    fn chatml_keeps_the_system_role() {
        assert_eq!(
            BuiltinTemplate::ChatMl.render(&convo()[..2]),
            "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nSay hi<|im_end|>\n\
             <|im_start|>assistant\n"
        );
    }

    #[test]
    fn llama3_headers() {
        assert_eq!(
            BuiltinTemplate::Llama3.render(&convo()[1..2]),
            "<|start_header_id|>user<|end_header_id|>\n\nSay hi<|eot_id|>\
             <|start_header_id|>assistant<|end_header_id|>\n\n"
        );
    }

    #[test]
    fn phi3_markup() {
        assert_eq!(
            BuiltinTemplate::Phi3.render(&convo()[1..2]),
            "<|user|>\nSay hi<|end|>\n<|assistant|>\n"
        );
    }

    #[test]
    fn mistral_folds_system_into_the_instruction() {
        assert_eq!(
            BuiltinTemplate::Mistral.render(&convo()),
            "[INST] Be brief.\n\nSay hi[/INST] hi</s>[INST] Again[/INST]"
        );
    }

    #[test]
    fn architecture_table() {
        let cases = [
            ("gemma3", false, Some(BuiltinTemplate::Gemma)),
            ("gemma2", false, Some(BuiltinTemplate::Gemma)),
            ("gemma", false, Some(BuiltinTemplate::Gemma)),
            ("qwen2", false, Some(BuiltinTemplate::ChatMl)),
            ("qwen3", false, Some(BuiltinTemplate::ChatMl)),
            ("phi3", false, Some(BuiltinTemplate::Phi3)),
            ("llama", true, Some(BuiltinTemplate::Llama3)),
            ("llama", false, Some(BuiltinTemplate::Mistral)),
            ("mistral3", false, Some(BuiltinTemplate::Mistral)),
            ("bert", false, None),
        ];
        for (arch, headers, want) in cases {
            assert_eq!(
                BuiltinTemplate::for_architecture(arch, headers),
                want,
                "{arch}"
            );
        }
    }

    #[test]
    fn the_config_accepts_exactly_the_names_the_engine_knows() {
        let config_names = clawgate_config::schema::engine::CHAT_TEMPLATE_NAMES;
        for name in config_names {
            assert!(
                *name == "transcript" || BuiltinTemplate::from_name(name).is_some(),
                "config accepts `{name}`, the engine does not"
            );
        }
        for template in BuiltinTemplate::ALL {
            assert!(
                config_names.contains(&template.name()),
                "{}",
                template.name()
            );
        }
    }

    #[test]
    fn names_round_trip() {
        for template in BuiltinTemplate::ALL {
            assert_eq!(BuiltinTemplate::from_name(template.name()), Some(template));
        }
        assert_eq!(BuiltinTemplate::from_name("{% jinja %}"), None);
    }
}
