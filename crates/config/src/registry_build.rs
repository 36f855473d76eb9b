//! Building the registry from catalog, implicit providers (the local servers' default ports,
//! and the in-process demo model when its file is in the state dir) and config, and checking
//! every model ref the config names (primary, fallbacks, image model, aliases, per-agent models).

use std::collections::BTreeMap;
use std::path::Path;

use crate::catalog::{
    DEMO_MODEL_ID, EMBEDDED_PROVIDER_ID, IMPLICIT_PROVIDERS, builtin_catalog, demo_model_path,
    embedded_demo_provider, is_implicit_provider,
};
use crate::diagnostic::{Diagnostic, JsonPath, closest, closest_refs};
use crate::env::EnvVars;
use crate::error::ConfigError;
use crate::provider_keys::{KeyMaterial, ProviderKeys, provider_keys};
use crate::refs::{ModelRef, parse_ref};
use crate::registry::{
    ProviderEntry, Registry, RowDefaults, RowLayers, RowSource, is_local_url, overlay_provider,
    selection_from,
};
use crate::schema::{
    ApiKind, AuthConfig, ClawgateConfig, ModelSelection, ModelsMode, ProviderConfig,
};
use crate::secret_values::Unresolved;
use crate::source::Pos;

impl Registry {
    /// Builds the effective registry; the diagnostics are about refs and providers (errors for
    /// unknown providers/models, warnings for refs the catalog does not know).
    pub fn build(
        config: &ClawgateConfig,
        env: &EnvVars,
    ) -> Result<(Self, Vec<Diagnostic>), ConfigError> {
        Self::build_in(config, &KeyMaterial::from_env(env), None)
    }

    /// [`Registry::build`] with every key source, for a state dir: in merge mode, when the demo
    /// model file (`<state dir>/models/gemma-3-270m-q4_k_m.gguf`) exists, the implicit provider
    /// `embedded` (`api: "llama-cpp"`) serves it as `embedded/gemma-3-270m`, and it becomes
    /// the default primary when no model is configured at all.
    pub fn build_in(
        config: &ClawgateConfig,
        keys: &KeyMaterial,
        state_dir: Option<&Path>,
    ) -> Result<(Self, Vec<Diagnostic>), ConfigError> {
        let demo = state_dir.map(demo_model_path).filter(|path| path.is_file());
        Ok(build_with_catalog(
            config,
            keys,
            builtin_catalog()?,
            demo.as_deref(),
        ))
    }
}

struct Layer {
    id: String,
    config: ProviderConfig,
    source: RowSource,
    configured: bool,
}

pub(crate) fn build_with_catalog(
    config: &ClawgateConfig,
    keys: &KeyMaterial,
    catalog: Vec<(String, ProviderConfig)>,
    demo_model: Option<&Path>,
) -> (Registry, Vec<Diagnostic>) {
    let mode = config.models.mode();
    let mut diags = Vec::new();
    let mut bases: Vec<Layer> = Vec::new();
    let mut rows: Vec<RowLayers> = Vec::new();
    if mode == ModelsMode::Merge {
        for (id, p) in catalog {
            for row in p.models.iter().flatten() {
                rows.push(RowLayers {
                    provider: id.clone(),
                    id: row.id.clone(),
                    base: Some((row.clone(), RowSource::Catalog)),
                    config: None,
                    referenced: false,
                });
            }
            bases.push(Layer {
                id,
                config: p,
                source: RowSource::Catalog,
                configured: false,
            });
        }
        for imp in IMPLICIT_PROVIDERS {
            bases.push(Layer {
                id: imp.id.to_string(),
                config: imp.as_config(),
                source: RowSource::Implicit,
                configured: false,
            });
        }
        if let Some(path) = demo_model {
            let embedded = embedded_demo_provider(path);
            for row in embedded.models.iter().flatten() {
                rows.push(RowLayers {
                    provider: EMBEDDED_PROVIDER_ID.to_string(),
                    id: row.id.clone(),
                    base: Some((row.clone(), RowSource::Implicit)),
                    config: None,
                    referenced: false,
                });
            }
            bases.push(Layer {
                id: EMBEDDED_PROVIDER_ID.to_string(),
                config: embedded,
                source: RowSource::Implicit,
                configured: false,
            });
        }
    }
    let embedded_default = (mode == ModelsMode::Merge && demo_model.is_some())
        .then(|| format!("{EMBEDDED_PROVIDER_ID}/{DEMO_MODEL_ID}"));
    // Config providers first (in file order), then the rest of the built-ins.
    let mut layers: Vec<Layer> = Vec::new();
    for (id, pc) in &config.models.providers {
        let merged = match bases.iter().position(|b| b.id == *id) {
            Some(i) => {
                let base = bases.remove(i);
                Layer {
                    id: id.clone(),
                    config: overlay_provider(&base.config, pc),
                    source: base.source,
                    configured: true,
                }
            }
            None => Layer {
                id: id.clone(),
                config: pc.clone(),
                source: RowSource::Config,
                configured: true,
            },
        };
        for row in pc.models.iter().flatten() {
            match rows
                .iter_mut()
                .find(|r| r.provider == *id && r.id == row.id)
            {
                Some(existing) => existing.config = Some(row.clone()),
                None => rows.push(RowLayers {
                    provider: id.clone(),
                    id: row.id.clone(),
                    base: None,
                    config: Some(row.clone()),
                    referenced: false,
                }),
            }
        }
        layers.push(merged);
    }
    layers.extend(bases);

    let providers = layers
        .iter()
        .filter_map(|l| provider_entry(l, keys, &config.auth, &mut diags))
        .collect();
    let mut registry = Registry {
        mode,
        providers,
        rows,
        models: Vec::new(),
        aliases: Vec::new(),
        selection: selection_from(config),
        embedded_default,
        secrets: keys.secrets.clone(),
        model_params: Vec::new(),
    };
    check_refs(&mut registry, config, &mut diags);
    registry.recompute();
    crate::model_policy::check_policy(&registry, &mut diags);
    (registry, diags)
}

fn provider_entry(
    layer: &Layer,
    material: &KeyMaterial,
    auth: &AuthConfig,
    diags: &mut Vec<Diagnostic>,
) -> Option<ProviderEntry> {
    let c = &layer.config;
    let path = JsonPath::root()
        .key("models")
        .key("providers")
        .key(&layer.id);
    let base_url = c.base_url.clone().filter(|u| !u.is_empty());
    let api = c
        .api
        .unwrap_or(if base_url.is_none() && c.model_dir.is_some() {
            ApiKind::LlamaCpp
        } else {
            ApiKind::OpenAiCompletions
        });
    let base_url = match (base_url, api) {
        (Some(u), _) => u,
        (None, ApiKind::LlamaCpp) => String::new(),
        // An invalid baseUrl was already reported; keep the provider so refs to it resolve.
        (None, _) if c.base_url_given => String::new(),
        (None, ApiKind::OpenAiCompletions | ApiKind::OpenAiResponses) if c.api.is_some() => {
            "https://api.openai.com/v1".into()
        }
        (None, ApiKind::AnthropicMessages) => "https://api.anthropic.com".into(),
        (None, ApiKind::Ollama) => "http://127.0.0.1:11434".into(),
        (None, _) => {
            let mut d =
                Diagnostic::error("missing required key \"baseUrl\"").at_path(path.as_str());
            if let Some(pos) = &c.pos {
                d = d.at(path.as_str(), pos.location());
            }
            diags.push(d.with_hint(
                "set baseUrl (e.g. \"http://127.0.0.1:8000/v1\") or an api with a default endpoint",
            ));
            return None;
        }
    };
    let ProviderKeys {
        keys,
        sources: key_sources,
        mut missing,
        skipped: skipped_profiles,
    } = provider_keys(&layer.id, c, material, auth);
    let secrets = &material.secrets;
    let mut headers = BTreeMap::new();
    for (name, secret) in c.headers.iter().flatten() {
        match secrets.resolve(secret) {
            Ok(v) => {
                headers.insert(name.clone(), v);
            }
            Err(Unresolved::EnvVar(name) | Unresolved::Ref(name)) => missing.push(name),
        }
    }
    Some(ProviderEntry {
        id: layer.id.clone(),
        is_local: is_local_url(&base_url),
        base_url,
        api,
        api_keys: keys,
        key_sources,
        missing_secrets: missing,
        skipped_profiles,
        auth_header: c.auth_header.unwrap_or(false),
        headers,
        timeout_seconds: c.timeout_seconds,
        timeouts: c.timeouts.clone().unwrap_or_default(),
        inject_num_ctx_for_openai_compat: c.inject_num_ctx_for_openai_compat.unwrap_or(true),
        params: c.params.clone(),
        engine_params: (api == ApiKind::LlamaCpp)
            .then(|| c.engine_params.clone())
            .flatten(),
        model_dir: c.model_dir.clone(),
        discover: c
            .discover
            .unwrap_or_else(|| is_implicit_provider(&layer.id)),
        source: layer.source,
        configured: layer.configured,
        row_defaults: RowDefaults {
            context_window: c.context_window,
            context_tokens: c.context_tokens,
            max_tokens: c.max_tokens,
        },
    })
}

/// One place in the config that names a model.
struct RefSite {
    text: String,
    path: JsonPath,
    pos: Option<Pos>,
}

fn selection_sites(sel: &ModelSelection, path: &JsonPath, out: &mut Vec<RefSite>) {
    if let Some(p) = &sel.primary {
        let at = if sel.string_form {
            path.clone()
        } else {
            path.key("primary")
        };
        out.push(RefSite {
            text: p.clone(),
            path: at,
            pos: sel.primary_pos.clone(),
        });
    }
    for (i, f) in sel.fallbacks.iter().flatten().enumerate() {
        out.push(RefSite {
            text: f.clone(),
            path: path.key("fallbacks").index(i),
            pos: sel.fallback_pos.get(i).cloned(),
        });
    }
}

fn push(diags: &mut Vec<Diagnostic>, d: Diagnostic, site: &RefSite) {
    diags.push(match &site.pos {
        Some(pos) => d.at(site.path.as_str(), pos.location()),
        None => d.at_path(site.path.as_str()),
    });
}

fn check_refs(reg: &mut Registry, config: &ClawgateConfig, diags: &mut Vec<Diagnostic>) {
    let defaults = &config.agents.defaults;
    let models_path = JsonPath::root().key("agents").key("defaults").key("models");
    // 1. `agents.defaults.models` keys (and their aliases).
    for (key, entry) in &defaults.models {
        let site = RefSite {
            text: key.clone(),
            path: models_path.clone(),
            pos: entry.key_pos.clone(),
        };
        let parsed = parse_ref(key);
        let Some(reference) = parsed.reference else {
            push(
                diags,
                Diagnostic::error(format!("model key \"{key}\" is not a provider/model ref")),
                &site,
            );
            continue;
        };
        if reference.model == "*" {
            if reg.provider(&reference.provider).is_none() {
                unknown_provider(reg, &reference, &site, diags);
            }
            if entry.params.is_some() {
                let d = Diagnostic::warning(format!(
                    "params under \"{key}\" apply to no model (params are matched by exact \
                     model ref); put provider-wide params under models.providers.{}.params",
                    reference.provider
                ));
                push(diags, d, &site);
            }
            continue;
        }
        if !ensure_row(reg, &reference, &site, diags) {
            continue;
        }
        if let Some(params) = &entry.params {
            reg.model_params.push((reference.clone(), params.clone()));
        }
        if let Some(alias) = &entry.alias {
            let alias_site = RefSite {
                text: alias.clone(),
                path: models_path.key(key).key("alias"),
                pos: entry.alias_pos.clone(),
            };
            if alias.trim().is_empty() {
                push(
                    diags,
                    Diagnostic::error("expected a non-empty alias, found string \"\""),
                    &alias_site,
                );
            } else if let Some((_, other)) = reg
                .aliases
                .iter()
                .find(|(a, _)| a.eq_ignore_ascii_case(alias))
            {
                let msg = format!(
                    "alias \"{alias}\" is already used for {other} (aliases are case-insensitive)"
                );
                push(diags, Diagnostic::error(msg), &alias_site);
            } else {
                reg.aliases.push((alias.trim().to_string(), reference));
            }
        }
    }
    // 2. Every other place that names a model.
    let mut sites = Vec::new();
    let dpath = JsonPath::root().key("agents").key("defaults");
    if let Some(sel) = &defaults.model {
        selection_sites(sel, &dpath.key("model"), &mut sites);
    }
    if let Some(sel) = &defaults.image_model {
        selection_sites(sel, &dpath.key("imageModel"), &mut sites);
    }
    if let Some(m) = &defaults.compaction.model {
        sites.push(RefSite {
            text: m.clone(),
            path: dpath.key("compaction").key("model"),
            pos: None,
        });
    }
    for (i, agent) in config.agents.list.iter().enumerate() {
        if let Some(sel) = &agent.model {
            let p = JsonPath::root()
                .key("agents")
                .key("list")
                .index(i)
                .key("model");
            selection_sites(sel, &p, &mut sites);
        }
    }
    for site in sites {
        let parsed = parse_ref(&site.text);
        if let Some(profile) = &parsed.profile {
            check_pin(reg, &parsed.text, profile, &site, diags);
        }
        if reg
            .aliases
            .iter()
            .any(|(a, _)| a.eq_ignore_ascii_case(&parsed.text))
        {
            continue;
        }
        match parsed.reference {
            Some(reference) => {
                ensure_row(reg, &reference, &site, diags);
            }
            None => {
                let matches = bare_matches(reg, &parsed.text);
                match matches.len() {
                    1 => {}
                    0 => {
                        let known = known_refs(reg);
                        let mut d = Diagnostic::error(format!(
                            "unknown model \"{}\" (not an alias, and no configured provider has a model with this id)",
                            parsed.text
                        ));
                        let close = closest_refs(&parsed.text, &known, 3);
                        if !close.is_empty() {
                            d = d.with_hint(format!("closest known: {}", close.join(", ")));
                        }
                        push(diags, d, &site);
                    }
                    _ => push(
                        diags,
                        Diagnostic::error(format!(
                            "model id \"{}\" matches several providers: {}",
                            parsed.text,
                            matches
                                .iter()
                                .map(ModelRef::key)
                                .collect::<Vec<_>>()
                                .join(", ")
                        ))
                        .with_hint("write the full provider/model ref"),
                        &site,
                    ),
                }
            }
        }
    }
}

/// Warns when a ref's `@profile` gives its provider no key: the ref is then routed without the
/// pin (a request naming it is refused, see `ConfigError::UnknownProfile`).
fn check_pin(
    reg: &Registry,
    text: &str,
    profile: &str,
    site: &RefSite,
    diags: &mut Vec<Diagnostic>,
) {
    let provider = reg
        .aliases
        .iter()
        .find(|(a, _)| a.eq_ignore_ascii_case(text))
        .map(|(_, r)| r.provider.clone())
        .or_else(|| parse_ref(text).reference.map(|r| r.provider))
        .or_else(|| bare_matches(reg, text).first().map(|r| r.provider.clone()));
    let Some(entry) = provider.and_then(|p| reg.provider(&p)) else {
        return;
    };
    if entry.profile_key_index(profile).is_some() {
        return;
    }
    let why = entry
        .skipped_profiles
        .iter()
        .find(|s| s.profile_id == profile)
        .map_or_else(
            || "it is not one of its OpenClaw auth profiles".to_string(),
            |s| s.reason.clone(),
        );
    push(
        diags,
        Diagnostic::warning(format!(
            "auth profile \"{profile}\" gives provider \"{}\" no key ({why}); this ref is \
             used without the pin",
            entry.id
        )),
        site,
    );
}

/// Rows of configured providers whose id equals `id` (case-insensitive fallback).
pub(crate) fn bare_matches(reg: &Registry, id: &str) -> Vec<ModelRef> {
    let configured: Vec<&str> = reg
        .providers
        .iter()
        .filter(|p| p.configured)
        .map(|p| p.id.as_str())
        .collect();
    let hits = |exact: bool| -> Vec<ModelRef> {
        reg.rows
            .iter()
            .filter(|r| configured.contains(&r.provider.as_str()))
            .filter(|r| {
                if exact {
                    r.id == id
                } else {
                    r.id.eq_ignore_ascii_case(id)
                }
            })
            .map(|r| ModelRef {
                provider: r.provider.clone(),
                model: r.id.clone(),
            })
            .collect()
    };
    let exact = hits(true);
    if exact.is_empty() { hits(false) } else { exact }
}

pub(crate) fn known_refs(reg: &Registry) -> Vec<String> {
    let mut out: Vec<String> = reg
        .rows
        .iter()
        .map(|r| format!("{}/{}", r.provider, r.id))
        .collect();
    out.extend(reg.aliases.iter().map(|(a, _)| a.clone()));
    out
}

fn unknown_provider(
    reg: &Registry,
    reference: &ModelRef,
    site: &RefSite,
    diags: &mut Vec<Diagnostic>,
) {
    let ids: Vec<&str> = reg.providers.iter().map(|p| p.id.as_str()).collect();
    let mut d = Diagnostic::error(format!(
        "unknown provider \"{}\" in model ref \"{}\"",
        reference.provider, site.text
    ));
    d = match closest(&reference.provider, ids.iter().copied()) {
        Some(best) => d.with_hint(format!(
            "did you mean \"{best}\"? (or declare it under models.providers)"
        )),
        None => d.with_hint(format!(
            "declare it under models.providers.{}",
            reference.provider
        )),
    };
    push(diags, d, site);
}

/// Makes sure a row exists for a ref the config names; false when its provider is unknown.
fn ensure_row(
    reg: &mut Registry,
    reference: &ModelRef,
    site: &RefSite,
    diags: &mut Vec<Diagnostic>,
) -> bool {
    if reg.provider(&reference.provider).is_none() {
        unknown_provider(reg, reference, site, diags);
        return false;
    }
    if let Some(row) = reg
        .rows
        .iter_mut()
        .find(|r| r.provider == reference.provider && r.id == reference.model)
    {
        row.referenced = true;
        return true;
    }
    let catalog_ids: Vec<String> = reg
        .rows
        .iter()
        .filter(|r| {
            r.provider == reference.provider && matches!(r.base, Some((_, RowSource::Catalog)))
        })
        .map(|r| r.id.clone())
        .collect();
    if !catalog_ids.is_empty() {
        let mut d = Diagnostic::warning(format!(
            "model \"{}\" is not in the built-in catalog of \"{}\"; default metadata applies \
             (contextWindow 200000, maxTokens 8192)",
            reference.model, reference.provider
        ));
        if let Some(best) = closest(&reference.model, catalog_ids.iter().map(String::as_str)) {
            d = d.with_hint(format!("did you mean \"{}/{best}\"?", reference.provider));
        }
        push(diags, d, site);
    }
    reg.rows.push(RowLayers {
        provider: reference.provider.clone(),
        id: reference.model.clone(),
        base: None,
        config: None,
        referenced: true,
    });
    true
}
