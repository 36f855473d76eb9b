//! Unit tests of request building and of the compaction cut: the cut never separates a tool
//! call from its result, for any shape of history (property-tested).

use clawgate_wire::{ContentBlock, Message, Role};
use proptest::prelude::*;

use super::*;
use crate::compaction::choose_cut;

fn call(id: &str) -> Message {
    Message {
        role: Role::Assistant,
        content: vec![ContentBlock::ToolCall {
            id: id.into(),
            name: "read".into(),
            arguments: "{}".into(),
        }],
    }
}

fn result(id: &str, text: &str) -> Message {
    Message {
        role: Role::Tool,
        content: vec![ContentBlock::ToolResult {
            call_id: id.into(),
            name: Some("read".into()),
            content: text.into(),
            is_error: false,
        }],
    }
}

fn ctx(messages: Vec<Message>) -> ActiveContext {
    let mut c = ActiveContext::default();
    for (i, m) in messages.into_iter().enumerate() {
        c.push(format!("e{i}"), m);
    }
    c
}

#[test]
fn orphans_are_repaired() {
    let out = repair_tool_pairs(vec![
        Message::text(Role::User, "hi"),
        result("ghost", "no call for me"),
        call("a"),
        Message::text(Role::User, "interrupted"),
        call("b"),
    ]);
    let roles: Vec<Role> = out.iter().map(|m| m.role).collect();
    assert_eq!(
        roles,
        vec![
            Role::User,
            Role::Assistant,
            Role::Tool,
            Role::User,
            Role::Assistant,
            Role::Tool
        ]
    );
    match &out[2].content[0] {
        ContentBlock::ToolResult {
            call_id, is_error, ..
        } => {
            assert_eq!(call_id, "a");
            assert!(is_error);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn summary_merges_into_a_leading_user_message() {
    let mut c = ctx(vec![
        Message::text(Role::User, "q"),
        Message::text(Role::Assistant, "a"),
    ]);
    c.apply_compaction("S1", Some("e0"));
    let out = build_messages(&c, TrimLevel::Normal, 10_000);
    assert_eq!(out.len(), 2);
    assert_eq!(out[0].content.len(), 2);
    assert!(out[0].joined_text().contains("<summary>\nS1\n</summary>"));
    let mut c = ctx(vec![
        Message::text(Role::User, "q"),
        Message::text(Role::Assistant, "a"),
    ]);
    c.apply_compaction("S2", Some("e1"));
    let out = build_messages(&c, TrimLevel::Normal, 10_000);
    assert_eq!(out[0].role, Role::User);
    assert_eq!(out[1].role, Role::Assistant);
}

#[test]
fn old_tool_results_are_trimmed_in_the_request_only() {
    let big = "x".repeat(20_000);
    let mut history = vec![
        Message::text(Role::User, "go"),
        call("a"),
        result("a", &big),
    ];
    for i in 0..3 {
        history.push(Message::text(Role::Assistant, format!("step {i}")));
    }
    history.push(call("b"));
    history.push(result("b", &big));
    let c = ctx(history);
    let out = build_messages(&c, TrimLevel::Normal, 100_000);
    let old = match &out[2].content[0] {
        ContentBlock::ToolResult { content, .. } => content.clone(),
        other => panic!("{other:?}"),
    };
    assert!(old.len() < 5_000 && old.contains("tool result trimmed"));
    let recent = match &out[7].content[0] {
        ContentBlock::ToolResult { content, .. } => content.len(),
        other => panic!("{other:?}"),
    };
    assert_eq!(recent, 20_000, "recent results are protected");
    // The context itself (what the transcript holds) is untouched.
    assert_eq!(c.items[2].message, result("a", &big));
    let hard = build_messages(&c, TrimLevel::Aggressive, 100_000);
    match &hard[7].content[0] {
        ContentBlock::ToolResult { content, .. } => assert!(content.len() < 2_000),
        other => panic!("{other:?}"),
    }
}

#[test]
fn old_reasoning_is_not_resent() {
    let thinking = Message {
        role: Role::Assistant,
        content: vec![
            ContentBlock::Reasoning {
                text: "old thought".into(),
                signature: None,
                redacted: false,
            },
            ContentBlock::Text { text: "a".into() },
        ],
    };
    let c = ctx(vec![
        Message::text(Role::User, "q"),
        thinking,
        Message::text(Role::User, "q2"),
    ]);
    let out = build_messages(&c, TrimLevel::Normal, 10_000);
    assert_eq!(out[1].content.len(), 1);
}

/// A history of turns: user, then (call, result)* then a text answer.
fn history() -> impl Strategy<Value = Vec<Message>> {
    prop::collection::vec((0usize..4, 1usize..400), 1..30).prop_map(|turns| {
        let mut out = Vec::new();
        for (t, (calls, size)) in turns.into_iter().enumerate() {
            out.push(Message::text(Role::User, "u".repeat(size)));
            for c in 0..calls {
                let id = format!("c{t}-{c}");
                out.push(call(&id));
                out.push(result(&id, &"r".repeat(size * (c + 1))));
            }
            out.push(Message::text(Role::Assistant, "a".repeat(size / 2)));
        }
        out
    })
}

proptest! {
    #[test]
    fn cut_never_splits_a_tool_pair(messages in history(), keep in 0u64..2_000) {
        let c = ctx(messages);
        if let Some(cut) = choose_cut(&c.items, keep) {
            prop_assert!(cut > 0 && cut <= c.items.len());
            if cut < c.items.len() {
                prop_assert_ne!(c.items[cut].message.role, Role::Tool);
            }
            // After compaction the request still holds whole pairs without repair.
            let mut after = c.clone();
            after.apply_compaction("s", c.items.get(cut).map(|i| i.entry_id.as_str()));
            let kept: Vec<Message> = after.items.iter().map(|i| i.message.clone()).collect();
            prop_assert_eq!(repair_tool_pairs(kept.clone()), kept);
        }
    }
}
