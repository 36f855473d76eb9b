//! What a gpt-oss harmony message header says about its content. A header is the role part
//! (after `<|start|>`, e.g. `assistant to=functions.exec`) and the channel part (after
//! `<|channel|>`, e.g. `commentary to=functions.exec <|constrain|>json`); the recipient
//! `to=…` may sit in either (OpenAI's harmony format guide, "Receiving tool calls").
//!
//! - a recipient that names a tool of the request (`to=exec` or `to=functions.exec`): the
//!   content is that tool's JSON arguments;
//! - any other recipient (a built-in tool such as `browser.search`, or `to=assistant` on a
//!   tool's own reply): not for the user, so reasoning;
//! - channel `final`, or `commentary` without a recipient (a preamble the guide says is meant
//!   for the user): answer text;
//! - `analysis` and any other channel: reasoning.

/// Where a harmony message's content goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Destination {
    Answer,
    Reasoning,
    /// A call of this tool (the name as the request spells it).
    Call(String),
}

/// The namespace gpt-oss puts function tools in.
const FUNCTIONS_PREFIX: &str = "functions.";

/// Decides where the content of a message with these header parts goes.
pub(super) fn destination(role: &str, channel: &str, tools: &[String]) -> Destination {
    let words = || role.split_whitespace().chain(channel.split_whitespace());
    if let Some(recipient) = words().find_map(|w| w.strip_prefix("to=")) {
        let bare = recipient
            .strip_prefix(FUNCTIONS_PREFIX)
            .unwrap_or(recipient);
        return match tools.iter().find(|t| *t == bare || *t == recipient) {
            Some(tool) => Destination::Call(tool.clone()),
            None => Destination::Reasoning,
        };
    }
    let name = channel.split_whitespace().next().unwrap_or("");
    if name.starts_with("final") || name == "commentary" {
        Destination::Answer
    } else {
        Destination::Reasoning
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tools() -> Vec<String> {
        vec!["exec".to_owned(), "read".to_owned()]
    }

    #[test]
    fn recipients_in_either_part_name_a_tool() {
        let call = Destination::Call("exec".into());
        assert_eq!(
            destination("", "commentary to=functions.exec json", &tools()),
            call
        );
        assert_eq!(destination("", "commentary to=exec", &tools()), call);
        assert_eq!(
            destination("assistant to=functions.exec", "commentary json", &tools()),
            call
        );
    }

    #[test]
    fn unknown_recipients_are_reasoning_and_channels_decide_the_rest() {
        assert_eq!(
            destination("", "commentary to=browser.search", &tools()),
            Destination::Reasoning
        );
        assert_eq!(
            destination("functions.exec to=assistant", "commentary", &tools()),
            Destination::Reasoning
        );
        assert_eq!(destination("", "final", &[]), Destination::Answer);
        assert_eq!(
            destination("assistant", "commentary", &[]),
            Destination::Answer
        );
        assert_eq!(
            destination("", "analysis", &tools()),
            Destination::Reasoning
        );
        assert_eq!(destination("", "", &tools()), Destination::Reasoning);
    }
}
