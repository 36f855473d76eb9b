//! The step every answer takes inside a provider, for every api, streamed or not, before
//! the answer check: inline reasoning and harmony markup out of the text (the wire crate's
//! `ReasoningTagSplitter`, with the request's tool names so a harmony call becomes a tool
//! call), tool-call ids made unique in the conversation (`tool_call_ids`), and an orphan
//! `</think>` remembered for the model (`learned`) so its next answers are held until the
//! tag, and HTML-escaped tool-call arguments decoded for servers that send them so
//! (`compat.toolCallArgumentsEncoding`). One place, so no dialect can skip a step.

use std::sync::Arc;

use clawgate_wire::Event;
use clawgate_wire::reasoning_tags::{ReasoningTagSplitter, SplitterOptions};

use crate::html_entity_arguments::ArgumentsDecoder;
use crate::learned::Learned;
use crate::tool_call_ids::ToolCallIds;

/// Leading answer text a model known to write its reasoning inline may hold back while the
/// stream has shown no reasoning tag yet (about 16k tokens of reasoning). Past it the text is
/// released as answer: memory stays bounded.
pub const REASONING_LEAD_BYTES: usize = 64 * 1024;

/// What shaping needs to know about one call.
#[derive(Debug, Clone, Default)]
pub struct ShapingOptions {
    /// Tool names and the lead (streams; a complete body always gets an unlimited lead).
    pub splitter: SplitterOptions,
    /// The ids of the request's history.
    pub ids: ToolCallIds,
    /// Where to remember an orphan `</think>`, and for which model.
    pub learn: Option<(Arc<Learned>, String)>,
    /// Decode HTML entities in tool-call arguments.
    pub html_entity_arguments: bool,
}

/// Shapes one answer's events.
#[derive(Debug)]
pub struct AnswerShaper {
    splitter: ReasoningTagSplitter,
    ids: ToolCallIds,
    learn: Option<(Arc<Learned>, String)>,
    arguments: Option<ArgumentsDecoder>,
}

impl AnswerShaper {
    pub fn new(options: ShapingOptions) -> Self {
        Self {
            splitter: ReasoningTagSplitter::with_options(options.splitter),
            ids: options.ids,
            learn: options.learn,
            arguments: options
                .html_entity_arguments
                .then(ArgumentsDecoder::default),
        }
    }

    /// The events `event` becomes (`Finished` first resolves whatever was held).
    pub fn push(&mut self, event: &Event) -> Vec<Event> {
        let mut events: Vec<Event> = self
            .splitter
            .push(event)
            .into_iter()
            .map(|e| self.ids.event(e))
            .collect();
        if let Some(decoder) = &mut self.arguments {
            events = events.into_iter().flat_map(|e| decoder.push(e)).collect();
        }
        if self.splitter.saw_orphan_close()
            && let Some((learned, model)) = self.learn.take()
        {
            learned.set_inline_reasoning(&model);
        }
        events
    }
}

#[cfg(test)]
mod tests {
    use clawgate_wire::StopReason;

    use super::*;

    #[test]
    fn splits_renames_and_remembers() {
        let learned = Arc::new(Learned::default());
        let mut ids = ToolCallIds::default();
        ids.assign("call_0");
        let mut shaper = AnswerShaper::new(ShapingOptions {
            splitter: SplitterOptions::default(),
            ids,
            learn: Some((learned.clone(), "m".into())),
            html_entity_arguments: false,
        });
        let mut events = shaper.push(&Event::TextDelta {
            text: "plan</think>Answer".into(),
        });
        events.extend(shaper.push(&Event::ToolCallStart {
            index: 0,
            id: "call_0".into(),
            name: "f".into(),
        }));
        events.extend(shaper.push(&Event::Finished {
            stop_reason: StopReason::ToolUse,
        }));
        assert!(events.contains(&Event::ToolCallStart {
            index: 0,
            id: "call_1".into(),
            name: "f".into()
        }));
        assert!(
            learned.inline_reasoning("m"),
            "the orphan close is remembered"
        );
    }
}
