//! `compat.requiresMistralToolIds`: Mistral's chat API (and servers running its templates)
//! accepts only tool-call ids of exactly nine letters and digits, so a history holding other
//! ids (`call_0`, `toolu_…`) is rejected. Every call id of the history and the results that
//! name it are rewritten the same way, as OpenClaw's pi-ai does: an id that already has the
//! shape is kept, any other becomes nine characters of a hash of it (a collision takes the
//! next hash). The mapping depends only on the id, so the next turn maps the same history to
//! the same ids without remembering anything.
//!
//! The hash is FNV-1a (64 bit), written out here: it only has to spread ids, not resist
//! anyone, and a crate for ten lines is not worth a dependency.

use std::collections::HashMap;

use clawgate_wire::{ContentBlock, Request};

/// The length Mistral requires.
pub const MISTRAL_TOOL_ID_LEN: usize = 9;

const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

fn fnv1a(text: &str) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in text.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

fn candidate(id: &str, attempt: u32) -> String {
    let alnum: String = id.chars().filter(char::is_ascii_alphanumeric).collect();
    if attempt == 0 && alnum.len() == MISTRAL_TOOL_ID_LEN && alnum == id {
        return alnum;
    }
    let seed = if attempt == 0 {
        id.to_owned()
    } else {
        format!("{id}:{attempt}")
    };
    let mut hash = fnv1a(&seed);
    let mut out = String::with_capacity(MISTRAL_TOOL_ID_LEN);
    for _ in 0..MISTRAL_TOOL_ID_LEN {
        out.push(char::from(ALPHABET[(hash % 62) as usize]));
        hash /= 62;
    }
    out
}

/// Rewrites every tool-call id of the history (calls and the results naming them).
pub fn mistral_request_ids(request: &mut Request) {
    let mut mapped: HashMap<String, String> = HashMap::new();
    let mut owners: HashMap<String, String> = HashMap::new();
    let mut map = |id: &str| -> String {
        if let Some(done) = mapped.get(id) {
            return done.clone();
        }
        let mut attempt = 0;
        let new = loop {
            let c = candidate(id, attempt);
            match owners.get(&c) {
                Some(owner) if owner != id => attempt += 1,
                _ => break c,
            }
        };
        owners.insert(new.clone(), id.to_owned());
        mapped.insert(id.to_owned(), new.clone());
        new
    };
    for block in request.messages.iter_mut().flat_map(|m| &mut m.content) {
        match block {
            ContentBlock::ToolCall { id, .. } => *id = map(id),
            ContentBlock::ToolResult { call_id, .. } => *call_id = map(call_id),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use clawgate_wire::{Message, Role};

    use super::*;

    fn history(call: &str, result: &str) -> Request {
        Request {
            messages: vec![
                Message {
                    role: Role::Assistant,
                    content: vec![ContentBlock::ToolCall {
                        id: call.into(),
                        name: "f".into(),
                        arguments: "{}".into(),
                    }],
                },
                Message {
                    role: Role::Tool,
                    content: vec![ContentBlock::ToolResult {
                        call_id: result.into(),
                        name: None,
                        content: "ok".into(),
                        is_error: false,
                    }],
                },
            ],
            ..Request::default()
        }
    }

    fn ids(request: &Request) -> (String, String) {
        let mut call = String::new();
        let mut result = String::new();
        for block in request.messages.iter().flat_map(|m| &m.content) {
            match block {
                ContentBlock::ToolCall { id, .. } => call = id.clone(),
                ContentBlock::ToolResult { call_id, .. } => result = call_id.clone(),
                _ => {}
            }
        }
        (call, result)
    }

    #[test]
    fn ids_become_nine_alphanumerics_and_results_follow() {
        let mut request = history("call_0", "call_0");
        mistral_request_ids(&mut request);
        let (call, result) = ids(&request);
        assert_eq!(call.len(), MISTRAL_TOOL_ID_LEN);
        assert!(call.chars().all(|c| c.is_ascii_alphanumeric()), "{call}");
        assert_eq!(call, result);
        let mut again = history("call_0", "call_0");
        mistral_request_ids(&mut again);
        assert_eq!(ids(&again).0, call, "the same history maps the same way");
    }

    #[test]
    fn mistral_shaped_ids_are_kept() {
        let mut request = history("aB3dE6gH9", "aB3dE6gH9");
        mistral_request_ids(&mut request);
        assert_eq!(ids(&request).0, "aB3dE6gH9");
    }
}
