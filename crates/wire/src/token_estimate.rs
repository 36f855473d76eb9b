//! The one rough token count of canonical text, messages and requests, used wherever a prompt's
//! size matters before a server has counted it: the agent's context budget (which then
//! calibrates it per model from the counts servers report) and the providers' empty-answer
//! guard (which tells a masked context overflow from a plain empty answer).
//!
//! Why weight by UTF-8 length rather than count characters or bytes: tokenizers split English
//! into about four characters a token, but give a CJK ideograph about one token and an emoji
//! about two, and characters / 4 then undercounts such text three- to eightfold (bytes / 4
//! undercounts CJK too and disagrees with characters / 4 on everything non-ASCII). So each
//! character counts in quarter tokens by its UTF-8 length: one byte (ASCII) ¼, two bytes
//! (accented Latin, Greek, Cyrillic, Hebrew, Arabic) ½, three bytes (CJK, most of the rest of
//! the BMP) 1, four bytes (emoji, rare scripts) 2. The total is rounded up once per text,
//! message or tool, so many short pieces do not each round up.
//!
//! Message framing (role markers, separators that a chat template adds) and images (a fixed
//! cost: their token count depends on the server's vision encoder, not on their bytes) are
//! counted on top.

use crate::{ContentBlock, Message, Request};

/// Tokens assumed for one image block.
pub const IMAGE_TOKENS: u64 = 1_600;
/// Per-message framing (role markers, separators) that every chat template adds.
pub const MESSAGE_OVERHEAD: u64 = 4;
/// Characters of framing assumed around a tool call or tool result (ids, JSON keys).
const TOOL_FRAMING_CHARS: u64 = 8;

/// A character's weight in quarter tokens, by its UTF-8 length.
fn char_quarters(c: char) -> u64 {
    match c.len_utf8() {
        1 => 1,
        2 => 2,
        3 => 4,
        _ => 8,
    }
}

/// The weight of a text in quarter tokens (see the module header).
fn text_quarters(text: &str) -> u64 {
    // ASCII is the common case and weighs one quarter a byte.
    if text.is_ascii() {
        return text.len() as u64;
    }
    text.chars().map(char_quarters).sum()
}

fn quarters_to_tokens(quarters: u64) -> u64 {
    quarters.div_ceil(4)
}

/// Estimated tokens of one text, without any framing.
pub fn text_tokens(text: &str) -> u64 {
    quarters_to_tokens(text_quarters(text))
}

/// Estimated tokens of one message: its blocks plus [`MESSAGE_OVERHEAD`].
pub fn message_tokens(message: &Message) -> u64 {
    let mut quarters = 0;
    let mut extra = MESSAGE_OVERHEAD;
    for block in &message.content {
        match block {
            ContentBlock::Text { text } | ContentBlock::Reasoning { text, .. } => {
                quarters += text_quarters(text);
            }
            ContentBlock::Image { .. } => extra += IMAGE_TOKENS,
            ContentBlock::ToolCall {
                id,
                name,
                arguments,
            } => {
                quarters += text_quarters(id)
                    + text_quarters(name)
                    + text_quarters(arguments)
                    + TOOL_FRAMING_CHARS;
            }
            ContentBlock::ToolResult {
                call_id, content, ..
            } => quarters += text_quarters(call_id) + text_quarters(content) + TOOL_FRAMING_CHARS,
        }
    }
    quarters_to_tokens(quarters) + extra
}

/// Estimated tokens of a whole request: system prompt, tool definitions and messages, each
/// with [`MESSAGE_OVERHEAD`].
pub fn request_tokens(request: &Request) -> u64 {
    let system = request
        .system
        .as_deref()
        .map_or(0, |s| text_tokens(s) + MESSAGE_OVERHEAD);
    let tools: u64 = request
        .tools
        .iter()
        .map(|tool| {
            let quarters = text_quarters(&tool.name)
                + tool.description.as_deref().map_or(0, text_quarters)
                + text_quarters(&tool.parameters.to_string());
            quarters_to_tokens(quarters) + MESSAGE_OVERHEAD
        })
        .sum();
    system + tools + request.messages.iter().map(message_tokens).sum::<u64>()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ImageSource, Role};

    #[test]
    fn ascii_is_four_characters_a_token_rounded_up() {
        assert_eq!(text_tokens(""), 0);
        assert_eq!(text_tokens("abc"), 1);
        assert_eq!(text_tokens("abcdefgh"), 2);
        assert_eq!(text_tokens(&"x".repeat(4000)), 1000);
    }

    #[test]
    fn cjk_ideographs_count_one_token_each() {
        // Four ideographs, 12 UTF-8 bytes: bytes / 4 would say 3 and characters / 4 would say 1.
        assert_eq!(text_tokens("你好世界"), 4);
        assert_eq!(text_tokens("こんにちは"), 5);
    }

    #[test]
    fn emoji_count_two_tokens_each() {
        assert_eq!(text_tokens("🙂"), 2);
        assert_eq!(text_tokens("🙂🚀🎉"), 6);
    }

    #[test]
    fn two_byte_scripts_count_half_a_token() {
        assert_eq!(text_tokens("привет"), 3);
        // Mixed text sums the weights before rounding: 3 ASCII + 1 two-byte + 1 emoji is 13
        // quarters, 4 tokens (characters / 4 would say 2, bytes / 4 would say 3).
        assert_eq!(text_tokens("café🙂"), 4);
    }

    #[test]
    fn message_adds_framing_images_and_tool_blocks() {
        let text = Message::text(Role::User, "abcdefgh");
        assert_eq!(message_tokens(&text), 2 + MESSAGE_OVERHEAD);
        let mixed = Message {
            role: Role::Assistant,
            content: vec![
                ContentBlock::Text {
                    text: "你好".into(),
                },
                ContentBlock::Image {
                    source: ImageSource::Url {
                        url: "https://example.com/a.png".into(),
                    },
                },
                ContentBlock::ToolCall {
                    id: "c1".into(),
                    name: "read".into(),
                    arguments: "{}".into(),
                },
            ],
        };
        // 2 ideographs (8 quarters) + "c1" "read" "{}" (8) + framing (8) = 24 quarters = 6.
        assert_eq!(message_tokens(&mixed), 6 + IMAGE_TOKENS + MESSAGE_OVERHEAD);
    }

    #[test]
    fn request_counts_system_tools_and_messages() {
        let request = Request {
            model: "m".into(),
            system: Some("x".repeat(40)),
            messages: vec![Message::text(Role::User, "x".repeat(4000))],
            ..Request::default()
        };
        assert_eq!(
            request_tokens(&request),
            10 + MESSAGE_OVERHEAD + 1000 + MESSAGE_OVERHEAD
        );
    }
}
