//! The dialect-neutral content of one answer: reasoning pieces, text pieces, an optional
//! tool call, the stop reason and usage numbers. Each dialect module renders the same
//! `Answer` in its own wire shapes, so a test can compare dialects on equal content.
//! Text is kept as one string plus cut offsets, so pieces are slices, not allocations.

use serde_json::{Map, Value};

use crate::inbound::InboundRequest;
use crate::script::{Plan, Quirk};

/// Why the answer stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    EndTurn,
    MaxTokens,
    ToolUse,
}

/// A string cut into consecutive pieces.
#[derive(Debug, Default)]
pub struct Pieces {
    text: String,
    /// End offset of each piece; piece i is `text[cuts[i-1]..cuts[i]]`.
    cuts: Vec<usize>,
}

impl Pieces {
    /// Appends `s` cut into `n` non-empty pieces (fewer when `s` is shorter than `n`).
    fn push_split(&mut self, s: &str, n: usize) {
        let chars = s.chars().count();
        if chars == 0 {
            return;
        }
        let n = n.clamp(1, chars);
        let base = self.text.len();
        self.text.push_str(s);
        // Boundary k is the byte offset of char k (the end of `s` for k == chars).
        let mut boundaries = s
            .char_indices()
            .map(|(b, _)| b)
            .chain(std::iter::once(s.len()));
        let mut fetched = 0; // boundaries taken so far
        let mut offset = 0;
        for i in 1..=n {
            let target = chars * i / n;
            while fetched <= target {
                offset = boundaries.next().unwrap_or(s.len());
                fetched += 1;
            }
            self.cuts.push(base + offset);
        }
    }

    /// Appends `s` as a single piece.
    fn push_whole(&mut self, s: &str) {
        if !s.is_empty() {
            self.text.push_str(s);
            self.cuts.push(self.text.len());
        }
    }

    /// Keeps the first `n` pieces.
    fn truncate(&mut self, n: usize) {
        if n < self.cuts.len() {
            self.cuts.truncate(n);
            let end = self.cuts.last().copied().unwrap_or(0);
            self.text.truncate(end);
        }
    }

    /// The pieces in order.
    pub fn iter(&self) -> impl Iterator<Item = &str> + '_ {
        let mut start = 0;
        self.cuts.iter().map(move |&end| {
            let piece = self.text.get(start..end).unwrap_or("");
            start = end;
            piece
        })
    }

    pub fn len(&self) -> usize {
        self.cuts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.cuts.is_empty()
    }

    /// All pieces joined.
    pub fn full(&self) -> &str {
        &self.text
    }
}

/// A tool call in the answer.
#[derive(Debug)]
pub struct ToolCall {
    /// An id every answer repeats (`RepeatedToolIds`), else the dialect numbers its own.
    pub fixed_id: Option<String>,
    pub name: String,
    /// The arguments as a JSON object.
    pub arguments: Value,
    /// The arguments' JSON text, cut for streaming.
    pub argument_pieces: Pieces,
}

/// The content of one answer.
#[derive(Debug)]
pub struct Answer {
    /// A per-server sequence number; dialects build their ids from it.
    pub seq: u64,
    pub model: String,
    pub reasoning: Pieces,
    pub text: Pieces,
    pub tool_call: Option<ToolCall>,
    pub stop: Stop,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    /// Unix seconds at the time of the answer.
    pub created: u64,
}

impl Answer {
    /// Builds the answer `plan` asks for, for `request`.
    pub fn build(plan: &Plan, request: &InboundRequest<'_>, seq: u64, created: u64) -> Answer {
        let mut tool_call = build_tool_call(plan, request);
        let mut text = Pieces::default();
        let mut reasoning = Pieces::default();
        let mut stop = Stop::EndTurn;
        let chunks = plan.chunks;
        // With a tool call, text only when a script asked for it explicitly.
        let answer_text = (tool_call.is_none() || plan.text.is_some()).then(|| match &plan.text {
            Some(t) => t.clone(),
            None => default_text(request.last_user_text, chunks),
        });
        let inline_reasoning = plan.reasoning.clone().or_else(|| {
            [Quirk::ThinkingOnly, Quirk::OrphanThinkClose]
                .iter()
                .any(|q| plan.has(*q))
                .then(|| format!("mock reasoning about: {}", request.last_user_text))
        });
        if plan.has(Quirk::HarmonyInContent) {
            let markup = harmony_markup(
                plan.reasoning.as_deref(),
                answer_text.as_deref(),
                tool_call.take(),
            );
            text.push_split(&markup, chunks);
        } else if plan.has(Quirk::ThinkingOnly) {
            reasoning.push_split(inline_reasoning.as_deref().unwrap_or(""), chunks);
        } else if plan.has(Quirk::OrphanThinkClose) {
            text.push_split(inline_reasoning.as_deref().unwrap_or(""), chunks);
            text.push_whole("</think>\n\n");
        } else if let Some(r) = plan.reasoning.as_deref() {
            if plan.has(Quirk::ThinkTagsInContent) {
                text.push_whole("<think>");
                text.push_split(r, chunks);
                text.push_whole("</think>");
            } else {
                reasoning.push_split(r, chunks);
            }
        }
        if let Some(answer) = answer_text.as_deref()
            && !plan.has(Quirk::HarmonyInContent)
            && !plan.has(Quirk::ThinkingOnly)
        {
            text.push_split(answer, chunks);
            // One piece stands for one token: a smaller output cap cuts the answer short.
            if tool_call.is_none()
                && let Some(max) = request.max_tokens
                && usize::try_from(max).unwrap_or(usize::MAX) < text.len()
            {
                text.truncate(usize::try_from(max).unwrap_or(0).max(1));
                stop = Stop::MaxTokens;
            }
        }
        if tool_call.is_some() {
            stop = Stop::ToolUse;
        }
        if let Some(call) = &mut tool_call
            && plan.has(Quirk::RepeatedToolIds)
        {
            call.fixed_id = Some(format!("functions.{}:0", call.name));
        }
        let completion_tokens = (reasoning.len()
            + text.len()
            + tool_call.as_ref().map_or(0, |t| t.argument_pieces.len()))
            as u64;
        Answer {
            seq,
            model: request.model.to_owned(),
            reasoning,
            text,
            tool_call,
            stop,
            prompt_tokens: request.prompt_tokens(),
            completion_tokens,
            created,
        }
    }

    pub fn total_tokens(&self) -> u64 {
        self.prompt_tokens + self.completion_tokens
    }
}

/// The answer as gpt-oss writes it when no server parses the harmony format.
fn harmony_markup(reasoning: Option<&str>, text: Option<&str>, call: Option<ToolCall>) -> String {
    let mut markup = String::new();
    if let Some(r) = reasoning {
        markup.push_str("<|channel|>analysis<|message|>");
        markup.push_str(r);
        markup.push_str("<|end|><|start|>assistant");
    }
    match call {
        Some(call) => {
            markup.push_str("<|channel|>commentary to=functions.");
            markup.push_str(&call.name);
            markup.push_str(" <|constrain|>json<|message|>");
            markup.push_str(call.argument_pieces.full());
            markup.push_str("<|call|>");
        }
        None => {
            markup.push_str("<|channel|>final<|message|>");
            markup.push_str(text.unwrap_or(""));
            markup.push_str("<|return|>");
        }
    }
    markup
}

/// `mock answer to: <text>`, padded with ` mock` so that `chunks` pieces are all non-empty.
fn default_text(last_user: &str, chunks: usize) -> String {
    let mut s = String::with_capacity(16 + last_user.len());
    s.push_str("mock answer to: ");
    s.push_str(last_user);
    while s.chars().count() < chunks {
        s.push_str(" mock");
    }
    s
}

fn build_tool_call(plan: &Plan, request: &InboundRequest<'_>) -> Option<ToolCall> {
    let scripted = plan.tool_call.as_ref();
    let target = request.forced_tool.or(if scripted.is_some() {
        request.first_tool
    } else {
        None
    });
    if scripted.is_none() && target.is_none() {
        return None;
    }
    let name = scripted
        .and_then(|s| s.name.clone())
        .or_else(|| target.map(|t| t.name.to_owned()))
        .unwrap_or_else(|| "mock_tool".to_owned());
    let schema = target.filter(|t| t.name == name).and_then(|t| t.schema);
    let arguments = scripted
        .and_then(|s| s.arguments.clone())
        .unwrap_or_else(|| arguments_from_schema(schema));
    let mut argument_pieces = Pieces::default();
    argument_pieces.push_split(&arguments.to_string(), plan.chunks);
    Some(ToolCall {
        fixed_id: None,
        name,
        arguments,
        argument_pieces,
    })
}

/// Arguments that satisfy the required properties of a JSON schema, by type.
fn arguments_from_schema(schema: Option<&Value>) -> Value {
    let mut args = Map::new();
    let Some(schema) = schema else {
        return Value::Object(args);
    };
    let props = schema.get("properties");
    let required = schema.get("required").and_then(Value::as_array);
    for name in required.into_iter().flatten().filter_map(Value::as_str) {
        let ty = props
            .and_then(|p| p.get(name))
            .and_then(|p| p.get("type"))
            .and_then(Value::as_str);
        let value = match ty {
            Some("integer") | Some("number") => Value::from(1),
            Some("boolean") => Value::Bool(true),
            Some("array") => Value::Array(Vec::new()),
            Some("object") => Value::Object(Map::new()),
            _ => Value::String("mock".to_owned()),
        };
        args.insert(name.to_owned(), value);
    }
    Value::Object(args)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_covers_the_text_in_non_empty_pieces() {
        let mut p = Pieces::default();
        p.push_split("héllo wörld", 4);
        let pieces: Vec<&str> = p.iter().collect();
        assert_eq!(pieces.len(), 4);
        assert!(pieces.iter().all(|s| !s.is_empty()));
        assert_eq!(pieces.concat(), "héllo wörld");
    }

    #[test]
    fn split_never_makes_more_pieces_than_chars() {
        let mut p = Pieces::default();
        p.push_split("ab", 10);
        assert_eq!(p.iter().collect::<Vec<_>>(), vec!["a", "b"]);
        p.push_whole("</think>");
        assert_eq!(p.len(), 3);
        assert_eq!(p.full(), "ab</think>");
    }

    #[test]
    fn default_text_is_padded_to_the_chunk_count() {
        let t = default_text("hi", 64);
        assert!(t.starts_with("mock answer to: hi"));
        assert!(t.chars().count() >= 64);
    }

    #[test]
    fn schema_arguments_fill_required_properties_by_type() {
        let schema = serde_json::json!({"type":"object","properties":{
            "city":{"type":"string"},"days":{"type":"integer"},"x":{"type":"boolean"}},
            "required":["city","days"]});
        assert_eq!(
            arguments_from_schema(Some(&schema)),
            serde_json::json!({"city":"mock","days":1})
        );
    }
}
