//! Parsing model lists into [`DiscoveredModel`]s: OpenAI-compatible `GET /models` (with the
//! context fields vLLM, SGLang, OpenRouter add), LM Studio's native `GET /api/v1/models`
//! (`loaded_instances[].config.context_length`: the window a loaded model runs with,
//! `max_context_length`, `capabilities.trained_for_tool_use`) and its older `GET /api/v0/models`
//! (`state`, `max_context_length`, `loaded_context_length`, `capabilities: ["tool_use"]`),
//! Ollama's `GET /api/tags` + `POST /api/show` (`num_ctx` from `parameters` when the model
//! file sets one, else `model_info["<arch>.context_length"]`; `capabilities:
//! ["tools","thinking"]`), Anthropic's `GET /v1/models`. Pure functions over JSON, so the
//! adapters only do the I/O.

use serde_json::Value;

use crate::DiscoveredModel;

/// Context-window fields OpenAI-compatible servers add to `/models` rows, in preference order.
const CONTEXT_FIELDS: &[&str] = &[
    "loaded_context_length",
    "max_model_len",
    "context_length",
    "context_window",
    "max_context_length",
];

fn data_rows(json: &Value) -> impl Iterator<Item = &Value> {
    json.get("data")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
}

fn string_list_contains(value: Option<&Value>, wanted: &str) -> Option<bool> {
    value
        .and_then(Value::as_array)
        .map(|list| list.iter().any(|v| v.as_str() == Some(wanted)))
}

fn model(id: &str) -> DiscoveredModel {
    DiscoveredModel {
        id: id.to_string(),
        context_window: None,
        loaded: None,
        supports_tools: None,
        reasoning: None,
    }
}

/// `{"data":[{"id":…}, …]}` from any OpenAI-compatible server.
pub fn parse_openai_models(json: &Value) -> Vec<DiscoveredModel> {
    data_rows(json)
        .filter_map(|row| {
            let mut m = model(row.get("id")?.as_str()?);
            m.context_window = CONTEXT_FIELDS
                .iter()
                .find_map(|f| row.get(*f).and_then(Value::as_u64));
            // OpenRouter lists what each model accepts.
            let params = row.get("supported_parameters");
            m.supports_tools = string_list_contains(params, "tools");
            m.reasoning = string_list_contains(params, "reasoning");
            Some(m)
        })
        .collect()
}

/// LM Studio's native list. `None` when the document is not that shape (no row has `state`),
/// so the caller can fall back to `/v1/models`. Embedding models are left out.
pub fn parse_lmstudio_models(json: &Value) -> Option<Vec<DiscoveredModel>> {
    let rows: Vec<&Value> = data_rows(json).collect();
    if rows.is_empty() || !rows.iter().any(|r| r.get("state").is_some()) {
        return None;
    }
    Some(
        rows.into_iter()
            .filter(|row| {
                !matches!(
                    row.get("type").and_then(Value::as_str),
                    Some("embeddings" | "embedding")
                )
            })
            .filter_map(|row| {
                let mut m = model(row.get("id")?.as_str()?);
                let loaded = row.get("state").and_then(Value::as_str) == Some("loaded");
                m.loaded = row.get("state").map(|_| loaded);
                let loaded_ctx = row.get("loaded_context_length").and_then(Value::as_u64);
                let max_ctx = row.get("max_context_length").and_then(Value::as_u64);
                m.context_window = if loaded {
                    loaded_ctx.or(max_ctx)
                } else {
                    max_ctx
                };
                m.supports_tools = string_list_contains(row.get("capabilities"), "tool_use");
                Some(m)
            })
            .collect(),
    )
}

/// LM Studio's v1 native list (`{"models":[{"key":…,"loaded_instances":[…]}]}`). `None` when
/// the document is not that shape, so the caller can try the v0 list. A loaded model's window
/// is its (first) instance's `context_length`, the one it runs with; otherwise the model's
/// `max_context_length`. Embedding models are left out.
pub fn parse_lmstudio_v1_models(json: &Value) -> Option<Vec<DiscoveredModel>> {
    let rows = json.get("models")?.as_array()?;
    if rows.iter().any(|r| r.get("key").is_none()) {
        return None;
    }
    Some(
        rows.iter()
            .filter(|row| row.get("type").and_then(Value::as_str) != Some("embedding"))
            .filter_map(|row| {
                let mut m = model(row.get("key")?.as_str()?);
                let instances = row.get("loaded_instances").and_then(Value::as_array);
                let running = instances
                    .and_then(|list| list.first())
                    .and_then(|instance| instance.pointer("/config/context_length"))
                    .and_then(Value::as_u64);
                m.loaded = instances.map(|list| !list.is_empty());
                m.context_window =
                    running.or_else(|| row.get("max_context_length").and_then(Value::as_u64));
                let capabilities = row.get("capabilities");
                m.supports_tools = capabilities
                    .and_then(|c| c.get("trained_for_tool_use"))
                    .and_then(Value::as_bool);
                m.reasoning = capabilities.map(|c| c.get("reasoning").is_some());
                Some(m)
            })
            .collect(),
    )
}

/// Model names from Ollama's `GET /api/tags` (`{"models":[{"name":…,"model":…}]}`).
pub fn parse_ollama_tags(json: &Value) -> Vec<String> {
    json.get("models")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|m| {
            m.get("name")
                .or_else(|| m.get("model"))
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .collect()
}

/// `num_ctx` from Ollama's `parameters` text (`"num_ctx 8192\nstop …"`, one per line).
fn ollama_num_ctx(show: &Value) -> Option<u64> {
    show.get("parameters")?.as_str()?.lines().find_map(|line| {
        let mut words = line.split_whitespace();
        (words.next() == Some("num_ctx")).then(|| words.next()?.parse().ok())?
    })
}

/// Ollama's `POST /api/show` answer applied to a model: the context the model file runs it
/// with (`num_ctx` in `parameters`), else its trained length from
/// `model_info["<arch>.context_length"]`; tools/thinking from `capabilities`.
pub fn apply_ollama_show(model: &mut DiscoveredModel, show: &Value) {
    if let Some(num_ctx) = ollama_num_ctx(show) {
        model.context_window = Some(num_ctx);
    } else if let Some(info) = show.get("model_info").and_then(Value::as_object) {
        let arch = info.get("general.architecture").and_then(Value::as_str);
        let by_arch = arch.and_then(|a| info.get(&format!("{a}.context_length")));
        model.context_window = by_arch
            .or_else(|| {
                info.iter()
                    .find(|(k, _)| k.ends_with(".context_length"))
                    .map(|(_, v)| v)
            })
            .and_then(Value::as_u64);
    }
    let caps = show.get("capabilities");
    if caps.is_some() {
        model.supports_tools = string_list_contains(caps, "tools");
        model.reasoning = string_list_contains(caps, "thinking");
    }
}

/// An Ollama model with only its name known.
pub fn ollama_model(name: &str) -> DiscoveredModel {
    model(name)
}

/// Anthropic's `GET /v1/models` (`{"data":[{"id":…,"type":"model"}]}`).
pub fn parse_anthropic_models(json: &Value) -> Vec<DiscoveredModel> {
    data_rows(json)
        .filter_map(|row| Some(model(row.get("id")?.as_str()?)))
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn openai_models_with_and_without_context() {
        let json = json!({"object":"list","data":[
            {"id":"gemma","object":"model","owned_by":"me","permissions":[]},
            {"id":"qwen","object":"model","max_model_len":32768},
            {"id":"anthropic/claude","context_length":200000,"supported_parameters":["tools","reasoning"]}]});
        let models = parse_openai_models(&json);
        assert_eq!(models.len(), 3);
        assert_eq!(models[0].id, "gemma");
        assert_eq!(models[0].context_window, None);
        assert_eq!(models[1].context_window, Some(32768));
        assert_eq!(models[2].supports_tools, Some(true));
        assert_eq!(models[2].reasoning, Some(true));
    }

    #[test]
    fn lmstudio_native_list() {
        let json = json!({"object":"list","data":[
            {"id":"qwen2.5-7b","type":"llm","state":"loaded","max_context_length":32768,
             "loaded_context_length":16384,"capabilities":["tool_use"]},
            {"id":"llama-3.2-1b","type":"llm","state":"not-loaded","max_context_length":131072},
            {"id":"nomic-embed","type":"embeddings","state":"not-loaded","max_context_length":2048}]});
        let models = parse_lmstudio_models(&json).unwrap_or_default();
        assert_eq!(models.len(), 2);
        assert_eq!(models[0].loaded, Some(true));
        assert_eq!(models[0].context_window, Some(16384));
        assert_eq!(models[0].supports_tools, Some(true));
        assert_eq!(models[1].loaded, Some(false));
        assert_eq!(models[1].context_window, Some(131072));
        assert_eq!(models[1].supports_tools, None);
        assert!(parse_lmstudio_models(&json!({"data":[{"id":"x"}]})).is_none());
    }

    #[test]
    fn ollama_tags_and_show() {
        let tags = json!({"models":[{"name":"qwen3:8b","model":"qwen3:8b"},{"model":"llama3"}]});
        assert_eq!(parse_ollama_tags(&tags), vec!["qwen3:8b", "llama3"]);
        let show = json!({"model_info":{"general.architecture":"qwen3","qwen3.context_length":40960},
                          "capabilities":["completion","tools","thinking"]});
        let mut m = ollama_model("qwen3:8b");
        apply_ollama_show(&mut m, &show);
        assert_eq!(m.context_window, Some(40960));
        assert_eq!(m.supports_tools, Some(true));
        assert_eq!(m.reasoning, Some(true));
    }

    #[test]
    fn lmstudio_v1_list_takes_the_loaded_instance_window() {
        let json = json!({"models":[
            {"type":"llm","key":"qwen/qwen3-8b","loaded_instances":[
                {"id":"qwen/qwen3-8b","config":{"context_length":4096}}],
             "max_context_length":40960,
             "capabilities":{"vision":false,"trained_for_tool_use":true,
                             "reasoning":{"allowed_options":["on"],"default":"on"}}},
            {"type":"llm","key":"gemma","loaded_instances":[],"max_context_length":32768,
             "capabilities":{"vision":true,"trained_for_tool_use":false}},
            {"type":"embedding","key":"nomic","loaded_instances":[],"max_context_length":2048}]});
        let models = parse_lmstudio_v1_models(&json).unwrap_or_default();
        assert_eq!(models.len(), 2);
        assert_eq!(
            (
                models[0].id.as_str(),
                models[0].context_window,
                models[0].loaded
            ),
            ("qwen/qwen3-8b", Some(4096), Some(true))
        );
        assert_eq!(models[0].supports_tools, Some(true));
        assert_eq!(models[0].reasoning, Some(true));
        assert_eq!(
            (
                models[1].context_window,
                models[1].loaded,
                models[1].reasoning
            ),
            (Some(32768), Some(false), Some(false))
        );
        assert!(parse_lmstudio_v1_models(&json!({"data":[{"id":"x"}]})).is_none());
    }

    #[test]
    fn ollama_num_ctx_wins_over_the_trained_length() {
        let show = json!({"parameters":"stop \"<|im_end|>\"\nnum_ctx                        8192",
                          "model_info":{"general.architecture":"qwen3","qwen3.context_length":40960}});
        let mut m = ollama_model("qwen3:8b");
        apply_ollama_show(&mut m, &show);
        assert_eq!(m.context_window, Some(8192));
    }

    #[test]
    fn anthropic_models() {
        let json = json!({"data":[{"type":"model","id":"claude-sonnet-4-5","display_name":"Claude"}],"has_more":false});
        assert_eq!(parse_anthropic_models(&json)[0].id, "claude-sonnet-4-5");
    }
}
