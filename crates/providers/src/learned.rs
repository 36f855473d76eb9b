//! What a provider learns about its server while it runs, so the next call goes straight to
//! what works instead of failing the same way again: a Responses server without
//! `/responses` (calls go to `/chat/completions`), models that reject tools (calls go
//! without them), and models that write their reasoning before an orphan `</think>` (their
//! answers are held until the closing tag). Kept in memory for the life of the provider
//! object (a reload rebuilds providers and starts over); [`Provider::learned`] reports it
//! for `clawgate models status`.
//!
//! [`Provider::learned`]: crate::Provider::learned

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};

use serde::Serialize;

/// A snapshot of what a provider learned, for status output.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LearnedBehaviour {
    /// The server has no `/responses`: Responses calls are bridged to `/chat/completions`.
    pub responses_via_chat: bool,
    /// Models that answered "does not support tools": called without tools.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub models_without_tools: Vec<String>,
    /// Models that wrote reasoning before an orphan `</think>`: answers held until the tag.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub models_with_inline_reasoning: Vec<String>,
}

impl LearnedBehaviour {
    /// True when nothing was learned.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// The live, shared state behind [`LearnedBehaviour`].
#[derive(Debug, Default)]
pub struct Learned {
    responses_via_chat: AtomicBool,
    without_tools: Mutex<BTreeSet<String>>,
    inline_reasoning: Mutex<BTreeSet<String>>,
}

fn contains(set: &Mutex<BTreeSet<String>>, model: &str) -> bool {
    set.lock()
        .unwrap_or_else(PoisonError::into_inner)
        .contains(model)
}

fn insert(set: &Mutex<BTreeSet<String>>, model: &str) {
    set.lock()
        .unwrap_or_else(PoisonError::into_inner)
        .insert(model.to_owned());
}

fn list(set: &Mutex<BTreeSet<String>>) -> Vec<String> {
    set.lock()
        .unwrap_or_else(PoisonError::into_inner)
        .iter()
        .cloned()
        .collect()
}

impl Learned {
    pub fn responses_via_chat(&self) -> bool {
        self.responses_via_chat.load(Ordering::Relaxed)
    }

    pub fn set_responses_via_chat(&self) {
        self.responses_via_chat.store(true, Ordering::Relaxed);
    }

    pub fn without_tools(&self, model: &str) -> bool {
        contains(&self.without_tools, model)
    }

    pub fn set_without_tools(&self, model: &str) {
        insert(&self.without_tools, model);
    }

    pub fn inline_reasoning(&self, model: &str) -> bool {
        contains(&self.inline_reasoning, model)
    }

    pub fn set_inline_reasoning(&self, model: &str) {
        insert(&self.inline_reasoning, model);
    }

    pub fn snapshot(&self) -> LearnedBehaviour {
        LearnedBehaviour {
            responses_via_chat: self.responses_via_chat(),
            models_without_tools: list(&self.without_tools),
            models_with_inline_reasoning: list(&self.inline_reasoning),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_reports_what_was_set() {
        let learned = Learned::default();
        assert!(learned.snapshot().is_empty());
        learned.set_responses_via_chat();
        learned.set_without_tools("gemma3");
        learned.set_without_tools("gemma3");
        learned.set_inline_reasoning("minimax-m2");
        assert!(learned.without_tools("gemma3") && !learned.without_tools("qwen3"));
        assert!(learned.inline_reasoning("minimax-m2"));
        assert_eq!(
            learned.snapshot(),
            LearnedBehaviour {
                responses_via_chat: true,
                models_without_tools: vec!["gemma3".into()],
                models_with_inline_reasoning: vec!["minimax-m2".into()],
            }
        );
    }
}
