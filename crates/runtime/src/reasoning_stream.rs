//! `agents.defaults.models["provider/model"].params.reasoningStream: "immediate"` → the
//! router's set of models whose reasoning is forwarded at once (it commits the stream).
//! Keys are resolved like any model string (aliases, provider spellings), so the set holds the
//! canonical `provider/model` refs the router's candidates carry; a key that resolves to no
//! model is left out (the registry gives every configured key a row, so this is rare).

use std::collections::BTreeSet;

use clawgate_config::schema::ReasoningStreamMode;
use clawgate_config::{ClawgateConfig, Registry};

/// The canonical refs of the models configured with `reasoningStream: "immediate"`.
pub fn immediate_reasoning_models(
    config: &ClawgateConfig,
    registry: &Registry,
) -> BTreeSet<String> {
    config
        .agents
        .defaults
        .models
        .iter()
        .filter(|(_, entry)| {
            entry.params.as_ref().and_then(|p| p.reasoning_stream)
                == Some(ReasoningStreamMode::Immediate)
        })
        .filter_map(|(key, _)| match registry.resolve(key) {
            Ok(resolved) => Some(format!(
                "{}/{}",
                resolved.reference.provider, resolved.reference.model
            )),
            Err(error) => {
                tracing::warn!(model = %key, "params.reasoningStream ignored: {error}");
                None
            }
        })
        .collect()
}
