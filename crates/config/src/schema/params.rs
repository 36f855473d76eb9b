//! `params`: request parameters added to every upstream request of one model
//! (`agents.defaults.models["p/m"].params`) or of a whole provider
//! (`models.providers.<id>.params`), with OpenClaw's key names. The model's win over the
//! provider's; a request's own fields win over both (the providers crate applies them, in
//! each dialect's shape). OpenClaw passes other keys to its provider plugins; clawgate has
//! none, so any other key is accepted and listed as ignored at load.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::decode::{Decode, Decoder, ObjectReader, positive};
use crate::diagnostic::JsonPath;
use crate::source::{Node, NodeKind};

/// A JSON object passed through as written.
pub type JsonObject = Map<String, Value>;

/// One `params` object as written (every field optional).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ModelParams {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub top_k: Option<u64>,
    /// `maxTokens`: the output cap when the request sets none (before the row's `maxTokens`).
    #[serde(rename = "maxTokens", skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u64>,
    /// A string or a list of strings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seed: Option<i64>,
    /// `chat_template_kwargs` / `chatTemplateKwargs` (chat completions servers that render
    /// templates: vLLM, llama.cpp, SGLang), e.g. `{enable_thinking: false}` for Qwen.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chat_template_kwargs: Option<JsonObject>,
    /// `extra_body` / `extraBody`: fields merged into the top level of the request body, as
    /// the OpenAI SDK's `extra_body` does. They win over everything else.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extra_body: Option<JsonObject>,
    /// `parallel_tool_calls` / `parallelToolCalls` (OpenAI dialects).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parallel_tool_calls: Option<bool>,
    /// OpenRouter's provider routing preferences (`order`, `only`, `ignore`, `sort`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider: Option<JsonObject>,
    /// Ollama's `options` object (runtime options such as `num_batch`, `min_p`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub options: Option<JsonObject>,
    /// Ollama's `keep_alive` (a duration string like `"10m"`, or seconds).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keep_alive: Option<Value>,
    /// Ollama's `options.num_ctx` (wins over the context window clawgate would send).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub num_ctx: Option<u64>,
    /// `reasoningStream`: clawgate's own, never sent upstream. How the model's reasoning
    /// travels before its answer starts (held back with the uncommitted stream, or at once).
    #[serde(rename = "reasoningStream", skip_serializing_if = "Option::is_none")]
    pub reasoning_stream: Option<crate::schema::ReasoningStreamMode>,
}

impl ModelParams {
    /// `self` with `top` on top: `top`'s scalars win, objects are merged key by key.
    pub fn overlaid_by(&self, top: &ModelParams) -> ModelParams {
        ModelParams {
            temperature: top.temperature.or(self.temperature),
            top_p: top.top_p.or(self.top_p),
            top_k: top.top_k.or(self.top_k),
            max_tokens: top.max_tokens.or(self.max_tokens),
            stop: top.stop.clone().or_else(|| self.stop.clone()),
            seed: top.seed.or(self.seed),
            chat_template_kwargs: merged(&self.chat_template_kwargs, &top.chat_template_kwargs),
            extra_body: merged(&self.extra_body, &top.extra_body),
            parallel_tool_calls: top.parallel_tool_calls.or(self.parallel_tool_calls),
            provider: merged(&self.provider, &top.provider),
            options: merged(&self.options, &top.options),
            keep_alive: top.keep_alive.clone().or_else(|| self.keep_alive.clone()),
            num_ctx: top.num_ctx.or(self.num_ctx),
            reasoning_stream: top.reasoning_stream.or(self.reasoning_stream),
        }
    }

    pub fn is_empty(&self) -> bool {
        *self == ModelParams::default()
    }
}

fn merged(base: &Option<JsonObject>, top: &Option<JsonObject>) -> Option<JsonObject> {
    match (base, top) {
        (Some(b), Some(t)) => {
            let mut out = b.clone();
            out.extend(t.iter().map(|(k, v)| (k.clone(), v.clone())));
            Some(out)
        }
        (b, t) => t.clone().or_else(|| b.clone()),
    }
}

fn object(node: &Node, path: &JsonPath, cx: &mut Decoder) -> Option<JsonObject> {
    match node.to_json() {
        Value::Object(map) => Some(map),
        _ => {
            cx.expected(node, path, "an object");
            None
        }
    }
}

fn number_in(node: &Node, path: &JsonPath, cx: &mut Decoder, lo: f64, hi: f64) -> Option<f64> {
    match &node.kind {
        NodeKind::Number { value, .. } if (lo..=hi).contains(value) => Some(*value),
        _ => {
            cx.expected(node, path, &format!("a number from {lo} to {hi}"));
            None
        }
    }
}

fn integer(node: &Node, path: &JsonPath, cx: &mut Decoder) -> Option<i64> {
    match &node.kind {
        NodeKind::Number { value, .. } if value.fract() == 0.0 && value.abs() < 9.0e15 => {
            Some(*value as i64)
        }
        _ => {
            cx.expected(node, path, "a whole number");
            None
        }
    }
}

fn stop_list(node: &Node, path: &JsonPath, cx: &mut Decoder) -> Option<Vec<String>> {
    match &node.kind {
        NodeKind::String(s) => Some(vec![s.clone()]),
        NodeKind::Array(_) => Vec::<String>::decode(node, path, cx),
        _ => {
            cx.expected(node, path, "a string or a list of strings");
            None
        }
    }
}

fn keep_alive(node: &Node, path: &JsonPath, cx: &mut Decoder) -> Option<Value> {
    match &node.kind {
        NodeKind::String(_) | NodeKind::Number { .. } => Some(node.to_json()),
        _ => {
            cx.expected(
                node,
                path,
                "a duration string like \"10m\" or a number of seconds",
            );
            None
        }
    }
}

impl Decode for ModelParams {
    fn decode(node: &Node, path: &JsonPath, cx: &mut Decoder) -> Option<Self> {
        let mut o = ObjectReader::new(node, path, cx)?;
        let mut either = |o: &mut ObjectReader<'_>, snake: &'static str, camel: &'static str| {
            let snake = o.field_with(snake, cx, object);
            let camel = o.field_with(camel, cx, object);
            snake.or(camel)
        };
        let chat_template_kwargs = either(&mut o, "chat_template_kwargs", "chatTemplateKwargs");
        let extra_body = either(&mut o, "extra_body", "extraBody");
        let parallel = o.field::<bool>("parallel_tool_calls", cx);
        let parallel_camel = o.field::<bool>("parallelToolCalls", cx);
        let p = Self {
            temperature: o.field_with("temperature", cx, |n, p, cx| {
                number_in(n, p, cx, 0.0, 100.0)
            }),
            top_p: o.field_with("top_p", cx, |n, p, cx| number_in(n, p, cx, 0.0, 1.0)),
            top_k: o.field("top_k", cx),
            max_tokens: o.field_with("maxTokens", cx, positive),
            stop: o.field_with("stop", cx, stop_list),
            seed: o.field_with("seed", cx, integer),
            chat_template_kwargs,
            extra_body,
            parallel_tool_calls: parallel.or(parallel_camel),
            provider: o.field_with("provider", cx, object),
            options: o.field_with("options", cx, object),
            keep_alive: o.field_with("keep_alive", cx, keep_alive),
            num_ctx: o.field_with("num_ctx", cx, positive),
            reasoning_stream: o.field("reasoningStream", cx),
        };
        o.finish_ignoring_rest(cx);
        Some(p)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn decode(text: &str) -> (Option<ModelParams>, Decoder) {
        let node = match crate::source::parse_text(std::path::Path::new("t.json5"), text) {
            Ok(n) => n,
            Err(e) => panic!("{e:?}"),
        };
        let mut cx = Decoder::default();
        let p = ModelParams::decode(&node, &JsonPath::root().key("params"), &mut cx);
        (p, cx)
    }

    #[test]
    fn known_keys_are_typed_and_others_listed_as_ignored() {
        let (p, cx) = decode(
            r#"{ temperature: 0.2, top_p: 0.9, top_k: 40, maxTokens: 512, stop: "END", seed: -3,
                 chatTemplateKwargs: { enable_thinking: false }, extra_body: { x: 1 },
                 parallelToolCalls: false, provider: { order: ["a"] },
                 options: { num_batch: 8 }, keep_alive: "10m", num_ctx: 4096,
                 cacheRetention: "long" }"#,
        );
        assert!(cx.diags.is_empty(), "{:?}", cx.diags);
        assert_eq!(cx.ignored, vec!["params.cacheRetention".to_string()]);
        let p = p.unwrap_or_default();
        assert_eq!(p.stop, Some(vec!["END".into()]));
        assert_eq!(p.seed, Some(-3));
        assert_eq!(
            p.chat_template_kwargs,
            json!({"enable_thinking": false}).as_object().cloned()
        );
        assert_eq!(p.parallel_tool_calls, Some(false));
        assert_eq!(p.keep_alive, Some(json!("10m")));
    }

    #[test]
    fn wrong_types_are_errors_with_the_path() {
        let (_, cx) = decode(r#"{ temperature: "hot", top_p: 2, extra_body: [1], num_ctx: 0 }"#);
        let rendered: Vec<String> = cx.diags.iter().map(|d| d.render(None)).collect();
        let all = rendered.join("\n");
        assert!(all.contains("params.temperature"), "{all}");
        assert!(all.contains("params.top_p"), "{all}");
        assert!(
            all.contains("expected an object, found an array at params.extra_body"),
            "{all}"
        );
        assert!(all.contains("params.num_ctx"), "{all}");
    }

    #[test]
    fn model_params_win_and_objects_merge() {
        let provider = ModelParams {
            temperature: Some(0.1),
            top_k: Some(20),
            provider: json!({"order": ["a"], "allow_fallbacks": false})
                .as_object()
                .cloned(),
            ..ModelParams::default()
        };
        let model = ModelParams {
            temperature: Some(0.7),
            provider: json!({"order": ["b"]}).as_object().cloned(),
            ..ModelParams::default()
        };
        let m = provider.overlaid_by(&model);
        assert_eq!(m.temperature, Some(0.7));
        assert_eq!(m.top_k, Some(20));
        assert_eq!(
            m.provider,
            json!({"order": ["b"], "allow_fallbacks": false})
                .as_object()
                .cloned()
        );
    }
}
