//! Settings of the in-process engine (`api: "llama-cpp"`) for one model: the `params` object
//! of a `llama-cpp` model row, with the provider's `params` as defaults for its rows (a row
//! overrides key by key). Typed and range-checked here so a typo or a wrong value is a config
//! error with its path and line, not something llama.cpp ignores or aborts on.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::decode::{Decode, Decoder, ObjectReader, in_range};
use crate::diagnostic::JsonPath;
use crate::source::{Node, NodeKind};

/// Names `chatTemplate` accepts besides Jinja text and file paths: the engine's built-in
/// templates (and their aliases) and `transcript` (the base-model prompt). The engine crate
/// tests that it knows each of them.
pub const CHAT_TEMPLATE_NAMES: &[&str] = &[
    "gemma",
    "gemma2",
    "gemma3",
    "chatml",
    "qwen",
    "qwen2",
    "qwen3",
    "llama3",
    "llama-3",
    "phi3",
    "phi-3",
    "mistral",
    "llama2",
    "llama-2",
    "transcript",
];

/// `chatTemplate`: a name, Jinja text, or a file of Jinja text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ChatTemplateConfig {
    Name(String),
    Inline(String),
    /// As written; relative paths are resolved against the provider's `modelDir` when the
    /// registry is built.
    File(PathBuf),
}

/// `flashAttention`: `true`, `false` or `"auto"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum FlashAttentionConfig {
    Auto,
    Enabled,
    Disabled,
}

/// One model's engine settings (every key optional).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EngineParams {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threads: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_size: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_size: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gpu_layers: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flash_attention: Option<FlashAttentionConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mmap: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mlock: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chat_template: Option<ChatTemplateConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_k: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_p: Option<f32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repeat_penalty: Option<f32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u32>,
}

impl EngineParams {
    /// `self` with every key `other` sets taken from `other`.
    pub fn overridden_by(&self, other: &EngineParams) -> EngineParams {
        EngineParams {
            threads: other.threads.or(self.threads),
            context_size: other.context_size.or(self.context_size),
            batch_size: other.batch_size.or(self.batch_size),
            gpu_layers: other.gpu_layers.or(self.gpu_layers),
            flash_attention: other.flash_attention.or(self.flash_attention),
            mmap: other.mmap.or(self.mmap),
            mlock: other.mlock.or(self.mlock),
            chat_template: other
                .chat_template
                .clone()
                .or_else(|| self.chat_template.clone()),
            temperature: other.temperature.or(self.temperature),
            top_p: other.top_p.or(self.top_p),
            top_k: other.top_k.or(self.top_k),
            min_p: other.min_p.or(self.min_p),
            repeat_penalty: other.repeat_penalty.or(self.repeat_penalty),
            seed: other.seed.or(self.seed),
        }
    }
}

/// A whole number in `lo..=hi` as `u32`.
fn whole(node: &Node, path: &JsonPath, cx: &mut Decoder, lo: u32, hi: u32) -> Option<u32> {
    in_range(node, path, cx, u64::from(lo), u64::from(hi)).and_then(|v| u32::try_from(v).ok())
}

/// A number in `lo..=hi` (or `lo < x` when `open_low`).
fn number(
    node: &Node,
    path: &JsonPath,
    cx: &mut Decoder,
    (lo, hi): (f64, f64),
    open_low: bool,
) -> Option<f32> {
    let v = f64::decode(node, path, cx)?;
    let low_ok = if open_low { v > lo } else { v >= lo };
    if !low_ok || v > hi {
        let range = if open_low {
            format!("above {lo} and at most {hi}")
        } else {
            format!("from {lo} to {hi}")
        };
        cx.expected(node, path, &format!("a number {range}"));
        return None;
    }
    Some(v as f32)
}

fn flash_attention(node: &Node, path: &JsonPath, cx: &mut Decoder) -> Option<FlashAttentionConfig> {
    match &node.kind {
        NodeKind::Bool(true) => Some(FlashAttentionConfig::Enabled),
        NodeKind::Bool(false) => Some(FlashAttentionConfig::Disabled),
        NodeKind::String(s) if s == "auto" => Some(FlashAttentionConfig::Auto),
        _ => {
            cx.expected(node, path, "true, false or \"auto\"");
            None
        }
    }
}

fn chat_template(node: &Node, path: &JsonPath, cx: &mut Decoder) -> Option<ChatTemplateConfig> {
    let text = String::decode(node, path, cx)?;
    if text.contains("{{") || text.contains("{%") {
        return Some(ChatTemplateConfig::Inline(text));
    }
    let trimmed = text.trim();
    if trimmed.is_empty() {
        cx.expected(
            node,
            path,
            "a template name, Jinja text or the path of a Jinja file",
        );
        return None;
    }
    if CHAT_TEMPLATE_NAMES.contains(&trimmed.to_ascii_lowercase().as_str()) {
        return Some(ChatTemplateConfig::Name(trimmed.to_owned()));
    }
    let looks_like_path =
        trimmed.contains('/') || trimmed.contains('.') || trimmed.starts_with('~');
    if !looks_like_path {
        cx.error(
            path,
            &node.pos,
            format!(
                "chatTemplate \"{trimmed}\" is not a built-in template ({}), Jinja text \
                 (with {{{{ or {{%) or a file path",
                CHAT_TEMPLATE_NAMES.join(", ")
            ),
        );
        return None;
    }
    Some(ChatTemplateConfig::File(PathBuf::from(trimmed)))
}

impl Decode for EngineParams {
    fn decode(node: &Node, path: &JsonPath, cx: &mut Decoder) -> Option<Self> {
        let mut o = ObjectReader::new(node, path, cx)?;
        let p = Self {
            threads: o.field_with("threads", cx, |n, p, cx| whole(n, p, cx, 1, 1024)),
            context_size: o.field_with("contextSize", cx, |n, p, cx| {
                whole(n, p, cx, 16, 16_777_216)
            }),
            batch_size: o.field_with("batchSize", cx, |n, p, cx| whole(n, p, cx, 1, 65_536)),
            gpu_layers: o.field_with("gpuLayers", cx, |n, p, cx| whole(n, p, cx, 0, 10_000)),
            flash_attention: o.field_with("flashAttention", cx, flash_attention),
            mmap: o.field("mmap", cx),
            mlock: o.field("mlock", cx),
            chat_template: o.field_with("chatTemplate", cx, chat_template),
            temperature: o.field_with("temperature", cx, |n, p, cx| {
                number(n, p, cx, (0.0, 5.0), false)
            }),
            top_p: o.field_with("topP", cx, |n, p, cx| number(n, p, cx, (0.0, 1.0), true)),
            top_k: o.field_with("topK", cx, |n, p, cx| whole(n, p, cx, 0, 1_000_000)),
            min_p: o.field_with("minP", cx, |n, p, cx| number(n, p, cx, (0.0, 1.0), false)),
            repeat_penalty: o.field_with("repeatPenalty", cx, |n, p, cx| {
                number(n, p, cx, (0.0, 5.0), true)
            }),
            // u32::MAX is llama.cpp's "random seed": not a seed anyone can ask for.
            seed: o.field_with("seed", cx, |n, p, cx| whole(n, p, cx, 0, u32::MAX - 1)),
        };
        o.finish(cx);
        Some(p)
    }
}
