//! From sampled token bytes to the canonical events of one answer. The stages, in order:
//!
//! 1. [`Utf8Assembler`]: never half a character;
//! 2. [`StopScanner`]: the request's stop sequences and the prompt format's own (the base-model
//!    transcript's turn starts) end the answer, never emitted;
//! 3. [`ToolCallScanner`]: from a call's start marker on, text is captured and parsed into
//!    `ToolCallStart`/`ToolCallArgsDelta` events when the answer ends (a forced call captures
//!    everything);
//! 4. [`ReasoningTagSplitter`] (the wire crate's, shared with HTTP upstreams): `<think>…`
//!    and harmony analysis channels become `ReasoningDelta`, leaked template tokens go.
//!
//! Pure (no llama.cpp), so the whole path is unit-tested with plain strings.

use clawgate_wire::reasoning_tags::ReasoningTagSplitter;
use clawgate_wire::{Event, StopReason, ToolSpec};

use crate::EngineError;
use crate::prompt_plan::ToolPlan;
use crate::text_stream::{ScanOutcome, StopScanner, Utf8Assembler};
use crate::tool_calls::format::ToolCallFormat;
use crate::tool_calls::parse::parse_calls;
use crate::tool_calls::scanner::ToolCallScanner;

/// What became of the answer once generation ended.
#[derive(Debug, PartialEq)]
pub struct AnswerEnd {
    pub events: Vec<Event>,
    pub stop_reason: StopReason,
}

#[derive(Debug)]
pub struct AnswerAssembler {
    utf8: Utf8Assembler,
    stops: StopScanner,
    calls: Option<(ToolCallScanner, ToolCallFormat, Vec<ToolSpec>)>,
    forced: bool,
    /// The prompt format's own stops (turn starts): a partial one left at the end is the
    /// start of a turn the output cap cut off, not answer text.
    format_stops: Vec<String>,
    reasoning: ReasoningTagSplitter,
    trim_leading_blank: bool,
    stopped: bool,
}

impl AnswerAssembler {
    /// `offered` are the request's tools (read back when the plan lets the model call them);
    /// `stops` the request's stop sequences, `format_stops` the prompt format's.
    pub fn new(
        plan: &ToolPlan,
        offered: &[ToolSpec],
        stops: &[String],
        format_stops: &[String],
        trim_leading_blank: bool,
    ) -> Self {
        let (calls, forced) = match plan {
            ToolPlan::Offered { format } => (
                Some((
                    ToolCallScanner::new(format.triggers()),
                    *format,
                    offered.to_vec(),
                )),
                false,
            ),
            ToolPlan::Forced { format, allowed } => (
                Some((ToolCallScanner::capture_all(), *format, allowed.clone())),
                true,
            ),
            ToolPlan::NotInPlay | ToolPlan::BaseModelAnswersInText => (None, false),
        };
        let all_stops: Vec<String> = stops.iter().chain(format_stops).cloned().collect();
        Self {
            utf8: Utf8Assembler::new(),
            stops: StopScanner::new(&all_stops),
            calls,
            forced,
            format_stops: format_stops.to_vec(),
            reasoning: ReasoningTagSplitter::new(),
            trim_leading_blank,
            stopped: false,
        }
    }

    /// Whether a stop sequence has ended the answer.
    pub fn stopped(&self) -> bool {
        self.stopped
    }

    /// One token's bytes; returns the events that are ready.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<Event> {
        if self.stopped {
            return Vec::new();
        }
        let text = self.utf8.push(bytes);
        let text = match self.stops.push(&text) {
            ScanOutcome::Continue(text) => text,
            ScanOutcome::Stopped(text) => {
                self.stopped = true;
                text
            }
        };
        self.text(&text)
    }

    /// Generation ended (`reason` as the loop saw it): flushes what was held back and turns
    /// a captured call into tool-call events.
    pub fn finish(mut self, reason: StopReason) -> Result<AnswerEnd, EngineError> {
        let mut events = Vec::new();
        let mut stop_reason = reason;
        if !self.stopped {
            let tail = self.utf8.finish();
            let tail = match self.stops.push(&tail) {
                ScanOutcome::Continue(text) => {
                    let held = self.stops.finish();
                    let cut_turn_start = !held.is_empty()
                        && self
                            .format_stops
                            .iter()
                            .any(|s| s.starts_with(held.as_str()));
                    if cut_turn_start { text } else { text + &held }
                }
                ScanOutcome::Stopped(text) => {
                    stop_reason = StopReason::Stop;
                    text
                }
            };
            events.extend(self.text(&tail));
        }
        if let Some((mut scanner, format, tools)) = self.calls.take() {
            let (held, captured) = scanner.finish();
            events.extend(self.reasoning.push_text(&held));
            if let Some(captured) = captured {
                match parse_calls(format, &captured, &tools) {
                    Some(calls) => {
                        events.extend(self.reasoning.finish());
                        for (index, call) in (0u32..).zip(calls) {
                            events.push(Event::ToolCallStart {
                                index,
                                id: format!("call_{}", uuid::Uuid::new_v4().simple()),
                                name: call.name,
                            });
                            events.push(Event::ToolCallArgsDelta {
                                index,
                                delta: call.arguments,
                            });
                        }
                        return Ok(AnswerEnd {
                            events,
                            stop_reason: StopReason::ToolUse,
                        });
                    }
                    None if self.forced => {
                        return Err(forced_call_failed(format, &captured, reason));
                    }
                    // Looked like a call but is not one: it was answer text after all.
                    None => events.extend(self.reasoning.push_text(&captured)),
                }
            }
        }
        events.extend(self.reasoning.finish());
        Ok(AnswerEnd {
            events,
            stop_reason,
        })
    }

    fn text(&mut self, text: &str) -> Vec<Event> {
        let mut text = text;
        if self.trim_leading_blank {
            text = text.trim_start();
            if text.is_empty() {
                return Vec::new();
            }
            self.trim_leading_blank = false;
        }
        let text = match &mut self.calls {
            Some((scanner, ..)) => scanner.push(text),
            None => text.to_owned(),
        };
        if text.is_empty() {
            return Vec::new();
        }
        self.reasoning.push_text(&text)
    }
}

fn forced_call_failed(format: ToolCallFormat, captured: &str, reason: StopReason) -> EngineError {
    let shown: String = captured.chars().take(200).collect();
    if reason == StopReason::Length {
        EngineError::ForcedCallTruncated(format!(
            "the output cap ended the forced tool call before it was complete ({} format, \
             written so far: {shown:?})",
            format.name()
        ))
    } else {
        EngineError::Inference(format!(
            "the grammar-constrained tool call did not parse ({} format): {shown:?}",
            format.name()
        ))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use serde_json::json;

    use super::*;

    fn tools() -> Vec<ToolSpec> {
        vec![ToolSpec {
            name: "get_weather".into(),
            description: None,
            parameters: json!({"type": "object"}),
        }]
    }

    fn run(assembler: &mut AnswerAssembler, pieces: &[&str]) -> Vec<Event> {
        pieces
            .iter()
            .flat_map(|p| assembler.push(p.as_bytes()))
            .collect()
    }

    fn text_of(events: &[Event]) -> String {
        events
            .iter()
            .filter_map(|e| match e {
                Event::TextDelta { text } => Some(text.as_str()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn offered_call_after_text_becomes_tool_events() {
        let plan = ToolPlan::Offered {
            format: ToolCallFormat::Hermes,
        };
        let mut answer = AnswerAssembler::new(&plan, &tools(), &[], &[], false);
        let mut events = run(
            &mut answer,
            &[
                "Checking. <tool",
                "_call>\n{\"name\": \"get_weather\", ",
                "\"arguments\": {\"city\": \"Paris\"}}\n</tool_call>",
            ],
        );
        let end = answer.finish(StopReason::Stop).unwrap();
        assert_eq!(end.stop_reason, StopReason::ToolUse);
        events.extend(end.events);
        assert_eq!(text_of(&events), "Checking. ");
        let Some(Event::ToolCallStart { index: 0, name, .. }) = events
            .iter()
            .find(|e| matches!(e, Event::ToolCallStart { .. }))
        else {
            panic!("no call: {events:?}");
        };
        assert_eq!(name, "get_weather");
        assert!(events.contains(&Event::ToolCallArgsDelta {
            index: 0,
            delta: "{\"city\":\"Paris\"}".into()
        }));
    }

    #[test]
    fn forced_call_is_parsed_and_a_truncated_one_is_an_error() {
        let plan = ToolPlan::Forced {
            format: ToolCallFormat::Generic,
            allowed: tools(),
        };
        let mut answer = AnswerAssembler::new(&plan, &tools(), &[], &[], false);
        assert!(
            run(
                &mut answer,
                &["{\"name\": \"get_weather\", \"arguments\": {}}"]
            )
            .is_empty()
        );
        assert_eq!(
            answer.finish(StopReason::Stop).unwrap().stop_reason,
            StopReason::ToolUse
        );

        let mut answer = AnswerAssembler::new(&plan, &tools(), &[], &[], false);
        run(&mut answer, &["{\"name\": \"get_weather\", \"argu"]);
        let err = answer.finish(StopReason::Length).unwrap_err();
        assert!(matches!(err, EngineError::ForcedCallTruncated(_)), "{err}");
    }

    #[test]
    fn not_a_call_is_text_and_reasoning_is_split() {
        let plan = ToolPlan::Offered {
            format: ToolCallFormat::Generic,
        };
        let mut answer = AnswerAssembler::new(&plan, &tools(), &[], &[], false);
        let mut events = run(&mut answer, &["{\"answer\": 4", "2}"]);
        events.extend(answer.finish(StopReason::Stop).unwrap().events);
        assert_eq!(text_of(&events), "{\"answer\": 42}");

        let mut answer = AnswerAssembler::new(&ToolPlan::NotInPlay, &[], &[], &[], false);
        let mut events = run(&mut answer, &["<think>hmm</think>", "Hello"]);
        events.extend(answer.finish(StopReason::Stop).unwrap().events);
        assert_eq!(text_of(&events), "Hello");
        assert!(events.contains(&Event::ReasoningDelta { text: "hmm".into() }));
    }

    #[test]
    fn transcript_answer_trims_its_leading_blank_and_stops_at_the_next_turn() {
        let stops = vec!["\nUser:".to_owned()];
        let mut answer = AnswerAssembler::new(&ToolPlan::NotInPlay, &[], &[], &stops, true);
        let mut events = run(&mut answer, &[" ", " The sea is", " wide.\nUs", "er: more"]);
        assert!(answer.stopped());
        events.extend(answer.finish(StopReason::Stop).unwrap().events);
        assert_eq!(text_of(&events), "The sea is wide.");
    }

    #[test]
    fn a_turn_start_cut_by_the_output_cap_is_dropped_a_request_stop_prefix_is_not() {
        let format = vec!["\nUser:".to_owned()];
        let mut answer = AnswerAssembler::new(&ToolPlan::NotInPlay, &[], &[], &format, true);
        let mut events = run(&mut answer, &["Pluto.", "\nUs"]);
        events.extend(answer.finish(StopReason::Length).unwrap().events);
        assert_eq!(text_of(&events), "Pluto.");

        let request = vec!["\nUser says".to_owned()];
        let mut answer = AnswerAssembler::new(&ToolPlan::NotInPlay, &[], &request, &[], false);
        let mut events = run(&mut answer, &["Pluto.", "\nUs"]);
        events.extend(answer.finish(StopReason::Length).unwrap().events);
        assert_eq!(text_of(&events), "Pluto.\nUs");
    }
}
