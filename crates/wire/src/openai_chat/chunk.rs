//! What one Chat Completions stream chunk says, read in one of two ways. The fast read
//! deserializes the chunk into the borrowing structs below, which take only the well-formed
//! shape (strings where strings belong, whole numbers, no `error`). Whatever that read refuses
//! is read again through the path-tracking JSON reader (`json_at`), which applies the lenient
//! rules (an `index` that is not a number counts as 0, a reasoning field that is not a string
//! is ignored, counts may be floats like `12.0`) and names the JSON path of anything it
//! cannot accept. Both reads give the same `WireChunk`, which the decoder turns into events.
//!
//! Why two reads: every frame of every stream is decoded, and building a `serde_json::Value`
//! tree per frame (ordered maps, a hashed key per field) was most of the decoder's time, while
//! the error messages with paths are worth keeping for the frames that are wrong.

use std::borrow::Cow;

use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::Value;

use super::{arguments_text, decode_usage, reasoning_text};
use crate::Usage;
use crate::json_at::{At, Result};

/// One chunk. `choices` holds only the choice the stream follows (index 0).
#[derive(Debug, Default, Deserialize)]
pub(super) struct WireChunk<'a> {
    /// Present (and not `null`) only on an error chunk, which the fast read leaves to the
    /// other one.
    #[serde(default)]
    error: Option<IgnoredAny>,
    #[serde(borrow, default)]
    pub id: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub model: Option<Cow<'a, str>>,
    #[serde(default)]
    pub usage: Option<WireUsage>,
    #[serde(borrow, default)]
    choices: Option<Vec<WireChoice<'a>>>,
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct WireUsage {
    #[serde(default)]
    prompt_tokens: Option<u64>,
    #[serde(default)]
    completion_tokens: Option<u64>,
    #[serde(default)]
    prompt_tokens_details: Option<WireCachedTokens>,
}

#[derive(Debug, Default, Deserialize)]
struct WireCachedTokens {
    #[serde(default)]
    cached_tokens: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct WireChoice<'a> {
    #[serde(default)]
    index: Option<u64>,
    #[serde(borrow, default)]
    pub delta: Option<WireDelta<'a>>,
    #[serde(borrow, default)]
    pub finish_reason: Option<Cow<'a, str>>,
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct WireDelta<'a> {
    #[serde(borrow, default)]
    pub content: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub reasoning_content: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub reasoning: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub reasoning_text: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub tool_calls: Option<Vec<WireToolCall<'a>>>,
    #[serde(borrow, default)]
    pub function_call: Option<WireFunction<'a>>,
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct WireToolCall<'a> {
    #[serde(default)]
    pub index: Option<u64>,
    #[serde(borrow, default)]
    pub id: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub function: Option<WireFunction<'a>>,
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct WireFunction<'a> {
    #[serde(borrow, default)]
    pub name: Option<Cow<'a, str>>,
    /// JSON text (OpenAI) or, from a few servers, an object.
    #[serde(default)]
    pub arguments: Option<Value>,
}

impl<'a> WireChunk<'a> {
    /// The fast read; `None` when the chunk is not in the well-formed shape (or is an error
    /// chunk), for [`WireChunk::from_at`].
    pub fn parse(data: &'a str) -> Option<Self> {
        let chunk: WireChunk<'a> = serde_json::from_str(data).ok()?;
        if chunk.error.is_some() {
            return None;
        }
        Some(chunk)
    }

    /// The path-tracking read of a parsed chunk (see the module docs).
    pub fn from_at(root: &At<'a>) -> Result<Self> {
        let usage = match root.get("usage") {
            Some(usage) => Some(WireUsage::from(decode_usage(&usage)?)),
            None => None,
        };
        // n > 1 is not supported by the canonical stream: only the first choice is read.
        let choice = root
            .items_at("choices")?
            .into_iter()
            .find(|c| c.value.get("index").and_then(Value::as_u64).unwrap_or(0) == 0)
            .map(|choice| WireChoice::from_at(&choice))
            .transpose()?;
        Ok(WireChunk {
            error: None,
            id: root.opt_str("id")?.map(Cow::Borrowed),
            model: root.opt_str("model")?.map(Cow::Borrowed),
            usage,
            choices: Some(choice.into_iter().collect()),
        })
    }

    /// The choice the stream follows: the one with index 0 (a missing index counts as 0).
    pub fn into_choice(self) -> Option<WireChoice<'a>> {
        self.choices?
            .into_iter()
            .find(|choice| choice.index.unwrap_or(0) == 0)
    }
}

impl From<&WireUsage> for Usage {
    fn from(usage: &WireUsage) -> Usage {
        Usage {
            input_tokens: usage.prompt_tokens,
            output_tokens: usage.completion_tokens,
            cache_read_tokens: usage
                .prompt_tokens_details
                .as_ref()
                .and_then(|d| d.cached_tokens),
            cache_write_tokens: None,
        }
    }
}

impl From<Usage> for WireUsage {
    fn from(usage: Usage) -> WireUsage {
        WireUsage {
            prompt_tokens: usage.input_tokens,
            completion_tokens: usage.output_tokens,
            prompt_tokens_details: usage.cache_read_tokens.map(|n| WireCachedTokens {
                cached_tokens: Some(n),
            }),
        }
    }
}

impl<'a> WireChoice<'a> {
    fn from_at(choice: &At<'a>) -> Result<Self> {
        Ok(WireChoice {
            index: Some(0),
            delta: choice
                .get("delta")
                .map(|d| WireDelta::from_at(&d))
                .transpose()?,
            finish_reason: choice.opt_str("finish_reason")?.map(Cow::Borrowed),
        })
    }
}

impl<'a> WireDelta<'a> {
    fn from_at(delta: &At<'a>) -> Result<Self> {
        let tool_calls = delta
            .items_at("tool_calls")?
            .iter()
            .map(|call| {
                Ok(WireToolCall {
                    index: call.opt_u64("index")?,
                    id: call.opt_str("id")?.map(Cow::Borrowed),
                    function: call
                        .get("function")
                        .map(|f| WireFunction::from_at(&f))
                        .transpose()?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(WireDelta {
            content: delta.opt_str("content")?.map(Cow::Borrowed),
            // Reasoning fields that are not strings are ignored, not refused.
            reasoning_content: None,
            reasoning: None,
            reasoning_text: reasoning_text(delta).map(Cow::Borrowed),
            tool_calls: Some(tool_calls),
            function_call: delta
                .get("function_call")
                .map(|f| WireFunction::from_at(&f))
                .transpose()?,
        })
    }

    /// The reasoning text, from the first of the servers' fields that has some.
    pub fn reasoning(&self) -> Option<&str> {
        [
            &self.reasoning_content,
            &self.reasoning,
            &self.reasoning_text,
        ]
        .into_iter()
        .flatten()
        .map(|text| text.as_ref())
        .find(|text| !text.is_empty())
    }
}

impl<'a> WireFunction<'a> {
    fn from_at(function: &At<'a>) -> Result<Self> {
        Ok(WireFunction {
            name: function.opt_str("name")?.map(Cow::Borrowed),
            arguments: function.get("arguments").map(|a| a.value.clone()),
        })
    }

    /// The arguments as JSON text (empty when there are none).
    pub fn arguments(&self) -> Cow<'_, str> {
        arguments_text(self.arguments.as_ref())
    }
}
