//! Tool-call ids unique within a conversation, on the way out and on the way back. Local
//! servers repeat them: llama.cpp templates number calls `call_0` in every message, Kimi K2
//! counts `functions.read:0` per turn, Ollama sends none (its codec numbers `ollama_call_<n>`
//! per message), and a client that replays such a history gets it rejected (Anthropic,
//! vLLM) or answered wrongly (results matched to the wrong call).
//!
//! The rule lives here, in the provider layer, because this is the one place that sees both
//! the request's history and the answer:
//!
//! - **Request** ([`unique_request_ids`]): walking the history in order, a call whose id was
//!   already used gets a fresh one, and the tool results that name the old id are matched to
//!   the calls in order (the first result for `x` answers the first open call `x`, the second
//!   the second).
//! - **Answer** ([`ToolCallIds`]): every call the upstream returns (streamed or not) gets an
//!   id no call of the history and no earlier call of this answer has.
//!
//! A fresh id keeps the upstream's shape where it can: a trailing number after a separator is
//! counted up (`call_0` → `call_1`, `functions.read:0` → `functions.read:1`, the form Kimi's
//! template expects), anything else (a hash like `…cmpl-870b298fdb65` included) gets `_2`,
//! `_3`, …; an empty id becomes `call_<n>`.

use std::collections::{HashMap, HashSet, VecDeque};

use clawgate_wire::{ContentBlock, Event, Request, Role};

/// The ids already taken in one conversation; hands out fresh ones.
#[derive(Debug, Clone, Default)]
pub struct ToolCallIds {
    used: HashSet<String>,
}

impl ToolCallIds {
    /// The ids of every call in `request`'s history (after [`unique_request_ids`]).
    pub fn from_request(request: &Request) -> Self {
        let used = request
            .messages
            .iter()
            .flat_map(|m| &m.content)
            .filter_map(|block| match block {
                ContentBlock::ToolCall { id, .. } => Some(id.clone()),
                _ => None,
            })
            .collect();
        Self { used }
    }

    /// `id` if it is free, else a fresh id in its shape; either way it is taken now.
    pub fn assign(&mut self, id: &str) -> String {
        let id = if id.is_empty() || self.used.contains(id) {
            self.fresh(id)
        } else {
            id.to_owned()
        };
        self.used.insert(id.clone());
        id
    }

    /// A `ToolCallStart` with its id made unique; other events unchanged.
    pub fn event(&mut self, event: Event) -> Event {
        match event {
            Event::ToolCallStart { index, id, name } => Event::ToolCallStart {
                index,
                id: self.assign(&id),
                name,
            },
            other => other,
        }
    }

    fn fresh(&self, id: &str) -> String {
        let stem = id.trim_end_matches(|c: char| c.is_ascii_digit());
        let digits = id.len() - stem.len();
        let counted = digits > 0 && stem.ends_with(|c: char| !c.is_ascii_alphanumeric());
        let candidates: Box<dyn Iterator<Item = String>> = if id.is_empty() {
            Box::new((0u64..).map(|n| format!("call_{n}")))
        } else if counted {
            let (stem, number) = id.split_at(id.len() - digits);
            let start = number.parse::<u64>().unwrap_or(0).saturating_add(1);
            let stem = stem.to_owned();
            Box::new((start..).map(move |n| format!("{stem}{n}")))
        } else {
            let id = id.to_owned();
            Box::new((2u64..).map(move |n| format!("{id}_{n}")))
        };
        candidates
            .into_iter()
            .find(|candidate| !self.used.contains(candidate))
            .unwrap_or_default()
    }
}

/// Makes every tool-call id of the history unique and points each tool result at its call,
/// in order. Returns the ids now in use.
pub fn unique_request_ids(request: &mut Request) -> ToolCallIds {
    let mut ids = ToolCallIds::default();
    // Original id → the ids its calls got, oldest open call first.
    let mut open: HashMap<String, VecDeque<String>> = HashMap::new();
    for message in &mut request.messages {
        for block in &mut message.content {
            match block {
                ContentBlock::ToolCall { id, .. } if message.role == Role::Assistant => {
                    let assigned = ids.assign(id);
                    open.entry(std::mem::replace(id, assigned.clone()))
                        .or_default()
                        .push_back(assigned);
                }
                ContentBlock::ToolResult { call_id, .. } => {
                    if let Some(assigned) =
                        open.get_mut(call_id.as_str()).and_then(VecDeque::pop_front)
                    {
                        *call_id = assigned;
                    }
                }
                _ => {}
            }
        }
    }
    ids
}

#[cfg(test)]
mod tests {
    use clawgate_wire::Message;

    use super::*;

    fn call(id: &str) -> ContentBlock {
        ContentBlock::ToolCall {
            id: id.into(),
            name: "read".into(),
            arguments: "{}".into(),
        }
    }

    fn result(id: &str, content: &str) -> ContentBlock {
        ContentBlock::ToolResult {
            call_id: id.into(),
            name: None,
            content: content.into(),
            is_error: false,
        }
    }

    fn message(role: Role, content: Vec<ContentBlock>) -> Message {
        Message { role, content }
    }

    /// (call ids, result call ids with their content) of a request.
    fn ids_of(request: &Request) -> (Vec<String>, Vec<(String, String)>) {
        let mut calls = Vec::new();
        let mut results = Vec::new();
        for block in request.messages.iter().flat_map(|m| &m.content) {
            match block {
                ContentBlock::ToolCall { id, .. } => calls.push(id.clone()),
                ContentBlock::ToolResult {
                    call_id, content, ..
                } => results.push((call_id.clone(), content.clone())),
                _ => {}
            }
        }
        (calls, results)
    }

    #[test]
    fn fresh_ids_keep_the_upstream_shape() {
        let mut ids = ToolCallIds::default();
        assert_eq!(ids.assign("call_0"), "call_0");
        assert_eq!(ids.assign("call_0"), "call_1");
        assert_eq!(ids.assign("call_0"), "call_2");
        assert_eq!(ids.assign("functions.read:0"), "functions.read:0");
        assert_eq!(ids.assign("functions.read:0"), "functions.read:1");
        assert_eq!(ids.assign("toolu_abc"), "toolu_abc");
        assert_eq!(ids.assign("toolu_abc"), "toolu_abc_2");
        assert_eq!(ids.assign(""), "call_3");
        assert_eq!(ids.assign("7"), "7");
        assert_eq!(ids.assign("7"), "7_2");
        assert_eq!(ids.assign("cmpl-870b298fdb65"), "cmpl-870b298fdb65");
        assert_eq!(ids.assign("cmpl-870b298fdb65"), "cmpl-870b298fdb65_2");
    }

    #[test]
    fn repeated_ids_in_one_message_are_matched_to_results_in_order() {
        let mut request = Request {
            messages: vec![
                message(Role::User, vec![ContentBlock::Text { text: "q".into() }]),
                message(Role::Assistant, vec![call("call_0"), call("call_0")]),
                message(
                    Role::Tool,
                    vec![result("call_0", "first"), result("call_0", "second")],
                ),
            ],
            ..Request::default()
        };
        unique_request_ids(&mut request);
        let (calls, results) = ids_of(&request);
        assert_eq!(calls, vec!["call_0", "call_1"]);
        assert_eq!(
            results,
            vec![
                ("call_0".to_owned(), "first".to_owned()),
                ("call_1".to_owned(), "second".to_owned())
            ]
        );
    }

    #[test]
    fn ids_repeated_across_turns_are_renamed_in_the_later_turn() {
        let mut request = Request {
            messages: vec![
                message(Role::Assistant, vec![call("functions.read:0")]),
                message(Role::Tool, vec![result("functions.read:0", "a")]),
                message(Role::Assistant, vec![call("functions.read:0")]),
                message(Role::Tool, vec![result("functions.read:0", "b")]),
            ],
            ..Request::default()
        };
        let mut ids = unique_request_ids(&mut request);
        let (calls, results) = ids_of(&request);
        assert_eq!(calls, vec!["functions.read:0", "functions.read:1"]);
        assert_eq!(
            results,
            vec![
                ("functions.read:0".to_owned(), "a".to_owned()),
                ("functions.read:1".to_owned(), "b".to_owned())
            ]
        );
        // The answer's own repeat does not collide with the history either.
        assert_eq!(ids.assign("functions.read:0"), "functions.read:2");
        let from = ToolCallIds::from_request(&request);
        assert_eq!(
            from.used,
            ids.used
                .iter()
                .filter(|i| *i != "functions.read:2")
                .cloned()
                .collect()
        );
    }

    #[test]
    fn a_unique_history_is_left_alone() {
        let mut request = Request {
            messages: vec![
                message(Role::Assistant, vec![call("a"), call("b")]),
                message(Role::Tool, vec![result("b", "B"), result("a", "A")]),
                message(Role::Tool, vec![result("zzz", "orphan")]),
            ],
            ..Request::default()
        };
        let before = request.clone();
        unique_request_ids(&mut request);
        assert_eq!(request, before);
    }

    #[test]
    fn answer_events_get_unique_ids() {
        let mut ids = ToolCallIds::default();
        ids.assign("call_0");
        let event = ids.event(Event::ToolCallStart {
            index: 0,
            id: "call_0".into(),
            name: "f".into(),
        });
        assert_eq!(
            event,
            Event::ToolCallStart {
                index: 0,
                id: "call_1".into(),
                name: "f".into()
            }
        );
        let text = Event::TextDelta { text: "x".into() };
        assert_eq!(ids.event(text.clone()), text);
    }
}
