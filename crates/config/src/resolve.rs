//! Turning what a user or config wrote (`"sonnet"`, `"lmstudio/qwen3@work"`) into a registry
//! row, the primary/fallback chain per agent, and adding discovered rows later.

use serde::Serialize;

use crate::diagnostic::closest_refs;
use crate::error::ConfigError;
use crate::refs::{ModelRef, parse_ref};
use crate::registry::{DEFAULT_PRIMARY, ModelEntry, ProviderEntry, Registry, RowLayers, RowSource};
use crate::registry_build::{bare_matches, known_refs};
use crate::schema::{InputKind, ModelCompat, ModelConfig, ModelSelection};

/// A resolved model: the row, its provider, and how the user named it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResolvedModel {
    #[serde(rename = "ref")]
    pub reference: ModelRef,
    /// The alias used, when the input was one.
    pub alias: Option<String>,
    /// A trailing `@profile` (auth profile), when given.
    pub profile: Option<String>,
    pub provider: ProviderEntry,
    pub model: ModelEntry,
}

/// Primary and fallbacks as configured for one agent (or the defaults), as written.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Selection {
    pub primary: String,
    pub fallbacks: Vec<String>,
    /// True when no primary is configured and the built-in default was chosen.
    #[serde(rename = "primaryIsDefault")]
    pub primary_is_default: bool,
}

/// The candidate chain: primary first, then fallbacks (de-duplicated).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelChain {
    pub primary: ResolvedModel,
    pub fallbacks: Vec<ResolvedModel>,
}

/// A row found by discovery (`/v1/models`, `/api/tags`, …).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DiscoveredRow {
    pub id: String,
    pub name: Option<String>,
    pub context_window: Option<u64>,
    pub max_tokens: Option<u64>,
    pub reasoning: Option<bool>,
    pub input: Option<Vec<InputKind>>,
    pub supports_tools: Option<bool>,
}

impl Registry {
    /// Resolves an alias (case-insensitive), a `provider/model` ref or a bare model id that a
    /// single configured provider has. Unknown input is an error listing the closest refs.
    pub fn resolve(&self, input: &str) -> Result<ResolvedModel, ConfigError> {
        let parsed = parse_ref(input);
        let alias = self
            .aliases
            .iter()
            .find(|(a, _)| a.eq_ignore_ascii_case(&parsed.text));
        let (reference, alias) = if let Some((a, target)) = alias {
            (target.clone(), Some(a.clone()))
        } else if let Some(r) = parsed.reference {
            (r, None)
        } else {
            let mut hits = bare_matches(self, &parsed.text);
            match hits.len() {
                1 => (hits.remove(0), None),
                0 => return Err(self.unknown(input)),
                _ => {
                    return Err(ConfigError::AmbiguousModel {
                        input: input.to_string(),
                        candidates: hits.iter().map(ModelRef::key).collect(),
                    });
                }
            }
        };
        let (Some(provider), Some(model)) =
            (self.provider(&reference.provider), self.model(&reference))
        else {
            return Err(self.unknown(input));
        };
        Ok(ResolvedModel {
            reference,
            alias,
            profile: parsed.profile,
            provider: provider.clone(),
            model: model.clone(),
        })
    }

    fn unknown(&self, input: &str) -> ConfigError {
        let text = parse_ref(input).text;
        ConfigError::UnknownModel {
            input: input.to_string(),
            suggestions: closest_refs(&text, &known_refs(self), 3),
        }
    }

    /// Primary and fallbacks for `agent` (`None` = the defaults). An agent's own `model`
    /// overrides the primary; it keeps the default fallbacks unless it lists its own
    /// (`fallbacks: []` = none).
    pub fn selection(&self, agent: Option<&str>) -> Selection {
        let defaults = self.selection.defaults.clone().unwrap_or_default();
        let own: Option<&ModelSelection> = agent.and_then(|id| {
            self.selection
                .agents
                .iter()
                .find(|(a, _)| a == id)
                .and_then(|(_, m)| m.as_ref())
        });
        let primary = own
            .and_then(|s| s.primary.clone())
            .or_else(|| defaults.primary.clone());
        let fallbacks = own
            .and_then(|s| s.fallbacks.clone())
            .or_else(|| defaults.fallbacks.clone())
            .unwrap_or_default();
        match primary {
            Some(p) => Selection {
                primary: p,
                fallbacks,
                primary_is_default: false,
            },
            None => Selection {
                primary: self.default_primary(),
                fallbacks,
                primary_is_default: true,
            },
        }
    }

    /// The image model selection (`agents.defaults.imageModel`), when configured.
    pub fn image_selection(&self) -> Option<Selection> {
        let s = self.selection.image.as_ref()?;
        Some(Selection {
            primary: s.primary.clone()?,
            fallbacks: s.fallbacks.clone().unwrap_or_default(),
            primary_is_default: false,
        })
    }

    /// OpenClaw's rule: the built-in default, unless its provider is not configured while
    /// other providers are; then the first configured provider's first model. clawgate's
    /// addition: when nothing is configured and the demo model is in the state dir, the
    /// in-process `embedded/gemma-3-270m` (it answers with no server and no key).
    fn default_primary(&self) -> String {
        let configured_row = self
            .providers
            .iter()
            .filter(|p| p.configured)
            .find_map(|p| {
                self.models
                    .iter()
                    .find(|m| m.provider == p.id && m.configured)
            });
        let default_provider_configured = self
            .providers
            .iter()
            .any(|p| p.configured && p.id == "anthropic");
        match (configured_row, &self.embedded_default) {
            (Some(row), _) if !default_provider_configured => row.reference.clone(),
            (None, Some(embedded)) if !default_provider_configured => embedded.clone(),
            _ => DEFAULT_PRIMARY.to_string(),
        }
    }

    /// Resolves the whole chain for `agent`; fallbacks equal to an earlier entry are dropped.
    pub fn chain(&self, agent: Option<&str>) -> Result<ModelChain, ConfigError> {
        let sel = self.selection(agent);
        let primary = self.resolve(&sel.primary)?;
        let mut seen = vec![primary.reference.clone()];
        let mut fallbacks = Vec::new();
        for f in &sel.fallbacks {
            let r = self.resolve(f)?;
            if !seen.contains(&r.reference) {
                seen.push(r.reference.clone());
                fallbacks.push(r);
            }
        }
        Ok(ModelChain { primary, fallbacks })
    }

    /// Adds or refreshes rows found by discovery for `provider`. Discovered metadata becomes
    /// the row's base layer; config rows keep the fields they set. Previously discovered rows
    /// missing from `rows` are dropped unless the config declares or references them.
    pub fn merge_discovered(
        &mut self,
        provider: &str,
        rows: impl IntoIterator<Item = DiscoveredRow>,
    ) -> Result<(), ConfigError> {
        let Some(id) = self.provider(provider).map(|p| p.id.clone()) else {
            return Err(ConfigError::UnknownProvider(provider.to_string()));
        };
        let rows: Vec<DiscoveredRow> = rows.into_iter().collect();
        self.rows.retain(|r| {
            r.provider != id
                || !matches!(r.base, Some((_, RowSource::Discovered)))
                || r.config.is_some()
                || r.referenced
                || rows.iter().any(|d| d.id == r.id)
        });
        for d in rows {
            let base = ModelConfig {
                name: d.name.clone(),
                reasoning: d.reasoning,
                input: d.input.clone(),
                context_window: d.context_window,
                max_tokens: d.max_tokens,
                compat: d.supports_tools.map(|t| ModelCompat {
                    supports_tools: Some(t),
                    ..ModelCompat::default()
                }),
                ..ModelConfig::bare(&d.id)
            };
            match self
                .rows
                .iter_mut()
                .find(|r| r.provider == id && r.id == d.id)
            {
                Some(existing) => {
                    if !matches!(existing.base, Some((_, RowSource::Catalog))) {
                        existing.base = Some((base, RowSource::Discovered));
                    }
                }
                None => self.rows.push(RowLayers {
                    provider: id.clone(),
                    id: d.id.clone(),
                    base: Some((base, RowSource::Discovered)),
                    config: None,
                    referenced: false,
                }),
            }
        }
        self.recompute();
        Ok(())
    }
}
