//! The active context of a session kept in memory (the running summary and the messages after
//! the last compaction's `firstKeptEntryId`), and how it becomes the message list of a request:
//! the summary injected as a user message, old tool results trimmed (head + tail with a note;
//! never in the transcript), reasoning of past turns dropped, and tool-pair hygiene (an orphan
//! result is dropped; a call without a result gets a synthetic error result), so every request
//! holds whole tool pairs whatever the transcript looks like after a crash.

use std::collections::HashSet;

use clawgate_wire::{ContentBlock, Message, Role};

use clawgate_wire::token_estimate::message_tokens as estimate_message_raw;

#[derive(Debug, Clone)]
pub(crate) struct ContextItem {
    pub entry_id: String,
    pub message: Message,
    /// Uncalibrated token estimate, computed once on append.
    pub tokens: u64,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct ActiveContext {
    pub summary: Option<String>,
    pub items: Vec<ContextItem>,
}

impl ActiveContext {
    pub fn push(&mut self, entry_id: String, message: Message) {
        let tokens = estimate_message_raw(&message);
        self.items.push(ContextItem {
            entry_id,
            message,
            tokens,
        });
    }

    /// Apply a compaction entry: the summary replaces everything before `first_kept`.
    pub fn apply_compaction(&mut self, summary: &str, first_kept: Option<&str>) {
        self.summary = Some(summary.to_string());
        let keep_from = first_kept
            .and_then(|id| self.items.iter().position(|i| i.entry_id == id))
            .unwrap_or(self.items.len());
        self.items.drain(..keep_from);
    }

    pub fn raw_tokens(&self) -> u64 {
        self.items.iter().map(|i| i.tokens).sum::<u64>()
            + self
                .summary
                .as_ref()
                .map_or(0, |s| clawgate_wire::token_estimate::text_tokens(s) + 40)
    }
}

/// How hard old tool results are trimmed in what is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TrimLevel {
    /// Results older than the last three assistant messages, above the soft limit.
    Normal,
    /// After repeated overflow: every result above a quarter of the soft limit.
    Aggressive,
}

pub(crate) const SUMMARY_PREFIX: &str = "The conversation before this point was compacted. \
Summary of it (treat as background, not as a new request):";

/// Largest tool result sent unchanged under `Normal`, for a given prompt budget (tokens).
pub(crate) fn soft_trim_chars(prompt_budget: u64) -> usize {
    // 4000 chars (OpenClaw's softTrim.maxChars) or an eighth of the budget in chars.
    (prompt_budget as usize / 2).clamp(800, 4000)
}

pub(crate) fn build_messages(
    ctx: &ActiveContext,
    level: TrimLevel,
    prompt_budget: u64,
) -> Vec<Message> {
    let last_user = ctx.items.iter().rposition(|i| i.message.role == Role::User);
    // Results after the third-newest assistant message are protected under `Normal`.
    let protect_from = ctx
        .items
        .iter()
        .enumerate()
        .filter(|(_, i)| i.message.role == Role::Assistant)
        .map(|(n, _)| n)
        .rev()
        .nth(2)
        .unwrap_or(0);
    let soft = soft_trim_chars(prompt_budget);
    let mut out: Vec<Message> = Vec::with_capacity(ctx.items.len() + 1);
    for (n, item) in ctx.items.iter().enumerate() {
        let mut msg = item.message.clone();
        if msg.role == Role::Assistant && last_user.is_some_and(|u| n < u) {
            msg.content
                .retain(|b| !matches!(b, ContentBlock::Reasoning { .. }));
        }
        if msg.role == Role::Tool {
            let limit = match level {
                TrimLevel::Normal if n < protect_from => Some(soft),
                TrimLevel::Normal => None,
                TrimLevel::Aggressive => Some(soft / 4),
            };
            if let Some(limit) = limit {
                for block in &mut msg.content {
                    if let ContentBlock::ToolResult { content, .. } = block
                        && let Some(trimmed) = trim_head_tail(content, limit)
                    {
                        *content = trimmed;
                    }
                }
            }
        }
        out.push(msg);
    }
    let mut out = repair_tool_pairs(out);
    if let Some(summary) = &ctx.summary {
        let text = format!("{SUMMARY_PREFIX}\n<summary>\n{summary}\n</summary>");
        match out.first_mut() {
            Some(first) if first.role == Role::User => {
                first.content.insert(0, ContentBlock::Text { text });
            }
            _ => out.insert(0, Message::text(Role::User, text)),
        }
    }
    out
}

/// Keep `limit` chars as head + tail with a note in between; `None` when already short enough.
pub(crate) fn trim_head_tail(text: &str, limit: usize) -> Option<String> {
    let total = text.chars().count();
    if total <= limit {
        return None;
    }
    let half = limit / 2;
    let head: String = text.chars().take(half).collect();
    let tail: String = text.chars().skip(total - half).collect();
    Some(format!(
        "{head}\n...\n[tool result trimmed: kept the first and last {half} of {total} characters]\n...\n{tail}"
    ))
}

/// Make every tool result follow its call and every call have a result.
pub(crate) fn repair_tool_pairs(messages: Vec<Message>) -> Vec<Message> {
    let mut out: Vec<Message> = Vec::with_capacity(messages.len());
    let mut open_calls: Vec<(String, String)> = Vec::new();
    let mut seen_calls: HashSet<String> = HashSet::new();
    for mut msg in messages {
        if msg.role != Role::Tool && !open_calls.is_empty() {
            for (id, _) in &open_calls {
                seen_calls.remove(id);
            }
            push_missing_results(&mut out, &mut open_calls);
        }
        match msg.role {
            Role::Tool => {
                msg.content.retain(|b| match b {
                    ContentBlock::ToolResult { call_id, .. } => {
                        let known = seen_calls.contains(call_id);
                        if known {
                            open_calls.retain(|(id, _)| id != call_id);
                        }
                        known
                    }
                    _ => false,
                });
                // A result for a call answered already is a duplicate: keep the first only.
                for b in &msg.content {
                    if let ContentBlock::ToolResult { call_id, .. } = b {
                        seen_calls.remove(call_id);
                    }
                }
                if msg.content.is_empty() {
                    continue;
                }
                // Results must directly follow their call: merge consecutive tool messages.
                if let Some(prev) = out.last_mut().filter(|p| p.role == Role::Tool) {
                    prev.content.extend(msg.content);
                    continue;
                }
            }
            Role::Assistant => {
                for b in &msg.content {
                    if let ContentBlock::ToolCall { id, name, .. } = b {
                        seen_calls.insert(id.clone());
                        open_calls.push((id.clone(), name.clone()));
                    }
                }
            }
            Role::User => {}
        }
        out.push(msg);
    }
    if !open_calls.is_empty() {
        push_missing_results(&mut out, &mut open_calls);
    }
    out
}

fn push_missing_results(out: &mut Vec<Message>, open: &mut Vec<(String, String)>) {
    let content: Vec<ContentBlock> = open
        .drain(..)
        .map(|(call_id, name)| ContentBlock::ToolResult {
            call_id,
            name: Some(name),
            content: "[no result: the tool call was interrupted]".into(),
            is_error: true,
        })
        .collect();
    match out.last_mut() {
        Some(last) if last.role == Role::Tool => last.content.extend(content),
        _ => out.push(Message {
            role: Role::Tool,
            content,
        }),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
#[path = "context_tests.rs"]
mod tests;
