//! The model registry as `clawgate models list` shows it, shared with the gateway's Control UI:
//! the configured rows and the rows of the default chain (with `all`, every catalog row and
//! the implicit local providers; always the rows discovery found on the servers), primary first, then the fallbacks in order, then the rest in
//! registry order; each with its alias, its roles in the chain and whether its provider is
//! local. The JSON shape (`models list --json`) is [`ModelListing::to_json`].

use clawgate_config::decode::redact_url;
use clawgate_config::{LoadedConfig, ModelEntry, ProviderEntry, Registry, RowSource};
use serde_json::{Value, json};

/// One listed model row.
#[derive(Debug, Clone)]
pub struct ListedModel {
    pub entry: ModelEntry,
    pub alias: Option<String>,
    /// `primary`, `fallback 1`, ... (a row may hold several).
    pub roles: Vec<String>,
    pub local: bool,
}

/// What `models list` shows.
#[derive(Debug, Clone)]
pub struct ModelListing {
    /// `agents.defaults.model.primary` as written.
    pub primary: String,
    /// `agents.defaults.model.fallbacks` as written.
    pub fallbacks: Vec<String>,
    pub models: Vec<ListedModel>,
    /// With `all`: providers the registry knows without any model row (discovered at runtime).
    pub providers_without_models: Vec<ProviderEntry>,
}

/// `(ref, role)` pairs of the default chain: the primary, then `fallback N`.
fn chain_roles(registry: &Registry) -> Vec<(String, String)> {
    let selection = registry.selection(None);
    let mut out = Vec::new();
    if let Ok(r) = registry.resolve(&selection.primary) {
        out.push((r.reference.key(), "primary".to_string()));
    }
    for (i, f) in selection.fallbacks.iter().enumerate() {
        if let Ok(r) = registry.resolve(f) {
            out.push((r.reference.key(), format!("fallback {}", i + 1)));
        }
    }
    out
}

impl ModelListing {
    pub fn build(loaded: &LoadedConfig, all: bool) -> Self {
        let registry = &loaded.registry;
        let roles = chain_roles(registry);
        let role_of = |m: &ModelEntry| -> Vec<String> {
            roles
                .iter()
                .filter(|(r, _)| *r == m.reference)
                .map(|(_, role)| role.clone())
                .collect()
        };
        let rank = |m: &ModelEntry| {
            roles
                .iter()
                .position(|(r, _)| *r == m.reference)
                .unwrap_or(usize::MAX)
        };
        let mut rows: Vec<&ModelEntry> = registry
            .models()
            .iter()
            .filter(|m| {
                all || m.configured || !role_of(m).is_empty() || m.source == RowSource::Discovered
            })
            .collect();
        rows.sort_by_key(|m| rank(m));
        let models = rows
            .into_iter()
            .map(|m| ListedModel {
                alias: registry.alias_of(&m.model_ref()).map(str::to_string),
                roles: role_of(m),
                local: registry.provider(&m.provider).is_some_and(|p| p.is_local),
                entry: m.clone(),
            })
            .collect();
        let providers_without_models = registry
            .providers()
            .iter()
            .filter(|p| all && !registry.models().iter().any(|m| m.provider == p.id))
            .cloned()
            .collect();
        let selection = registry.selection(None);
        Self {
            primary: selection.primary.clone(),
            fallbacks: selection.fallbacks.clone(),
            models,
            providers_without_models,
        }
    }

    /// The `models list --json` object.
    pub fn to_json(&self) -> Value {
        let models: Vec<Value> = self
            .models
            .iter()
            .map(|m| {
                let mut v = serde_json::to_value(&m.entry).unwrap_or(Value::Null);
                if let Some(obj) = v.as_object_mut() {
                    obj.insert("alias".into(), json!(m.alias));
                    obj.insert("roles".into(), json!(m.roles));
                    obj.insert("local".into(), json!(m.local));
                }
                v
            })
            .collect();
        let providers: Vec<Value> = self
            .providers_without_models
            .iter()
            .map(|p| json!({"id": p.id, "baseUrl": redact_url(&p.base_url), "api": p.api, "source": p.source, "models": 0}))
            .collect();
        json!({
            "primary": self.primary,
            "fallbacks": self.fallbacks,
            "models": models,
            "providersWithoutModels": providers,
        })
    }
}
