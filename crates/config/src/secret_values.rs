//! Resolving every SecretRef of a loaded config once, at load, the way OpenClaw does: refs are
//! grouped by provider (`secrets.providers.<alias>`, or the source's default alias), each file
//! provider's file is read once and each exec provider runs once for all its ids. The result
//! is [`Secrets`]: the values plus the environment, which is all that later turns a
//! [`SecretInput`] into a string (provider keys, headers, the gateway token). Nothing here runs
//! on a request path. Env refs stay lazy (a missing variable only leaves a provider without a
//! key, as before); a file or exec ref that cannot be resolved is a load error at its JSON path
//! and line/column, and its value never appears in any message.

use std::collections::BTreeMap;
use std::path::Path;

use crate::diagnostic::Diagnostic;
use crate::env::EnvVars;
use crate::schema::secrets::{
    DEFAULT_SECRET_PROVIDER, SecretInput, SecretProviderConfig, SecretRef, SecretSite,
    SecretSource, SecretsConfig,
};
use crate::secret_exec::run_exec_provider;
use crate::secret_file::{DEFAULT_MAX_BYTES, FilePayload, expand_home, read_secret_file};

/// Why a secret has no value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unresolved {
    /// An env ref whose variable is unset or empty (the variable's name).
    EnvVar(String),
    /// A file or exec ref the load did not resolve (its `source:provider:id` label).
    Ref(String),
}

impl std::fmt::Display for Unresolved {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::EnvVar(name) => write!(f, "env {name} is not set"),
            Self::Ref(label) => write!(f, "secret {label} is not resolved"),
        }
    }
}

/// The values of the config's secrets. `Debug` shows ref labels, never values.
#[derive(Clone, Default)]
pub struct Secrets {
    env: EnvVars,
    /// `source:provider:id` → value, for file and exec refs.
    values: BTreeMap<String, String>,
    config: SecretsConfig,
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Secrets")
            .field("env", &self.env)
            .field("resolved", &self.values.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Secrets {
    /// Secrets backed by the environment only (no file or exec refs resolved).
    pub fn from_env(env: EnvVars) -> Self {
        Self {
            env,
            ..Self::default()
        }
    }

    pub fn env(&self) -> &EnvVars {
        &self.env
    }

    /// The `source:provider:id` label of a ref, with its default alias filled in.
    pub fn label(&self, reference: &SecretRef) -> String {
        reference.label(self.config.provider_alias(reference))
    }

    /// A secret's value. Literals are returned as written (possibly empty).
    pub fn resolve(&self, input: &SecretInput) -> Result<String, Unresolved> {
        match input {
            SecretInput::Literal(v) => Ok(v.clone()),
            SecretInput::Ref(r) if r.source == SecretSource::Env => self
                .env
                .non_empty(&r.id)
                .map(str::to_string)
                .ok_or_else(|| Unresolved::EnvVar(r.id.clone())),
            SecretInput::Ref(r) => {
                let label = self.label(r);
                self.values
                    .get(&label)
                    .cloned()
                    .ok_or(Unresolved::Ref(label))
            }
        }
    }
}

fn site_error(site: &SecretSite, message: impl Into<String>) -> Diagnostic {
    Diagnostic::error(message).at(site.path.as_str(), site.pos.location())
}

/// Resolves the refs found while decoding. Errors go to `diags`, in config order; `home`
/// expands `~/`.
pub fn resolve_secrets(
    config: &SecretsConfig,
    sites: &[SecretSite],
    env: &EnvVars,
    home: Option<&Path>,
    diags: &mut Vec<Diagnostic>,
) -> Secrets {
    let mut found = Vec::new();
    let secrets = resolve_grouped(config, sites, env, home, &mut found);
    let order = |d: &Diagnostic| {
        sites
            .iter()
            .position(|s| Some(s.pos.location()) == d.location)
            .unwrap_or(usize::MAX)
    };
    found.sort_by_key(order);
    diags.append(&mut found);
    secrets
}

fn resolve_grouped(
    config: &SecretsConfig,
    sites: &[SecretSite],
    env: &EnvVars,
    home: Option<&Path>,
    diags: &mut Vec<Diagnostic>,
) -> Secrets {
    let mut secrets = Secrets {
        env: env.clone(),
        values: BTreeMap::new(),
        config: config.clone(),
    };
    // alias → the sites that use it, in config order.
    let mut groups: BTreeMap<(&str, String), Vec<&SecretSite>> = BTreeMap::new();
    for site in sites {
        let alias = config.provider_alias(&site.reference).to_string();
        groups
            .entry((site.reference.source.as_str(), alias))
            .or_default()
            .push(site);
    }
    for ((_, alias), sites) in groups {
        let source = sites[0].reference.source;
        let provider = config.provider(&alias);
        let builtin_env = source == SecretSource::Env
            && provider.is_none()
            && alias
                == config
                    .defaults
                    .get("env")
                    .map_or(DEFAULT_SECRET_PROVIDER, String::as_str);
        if builtin_env {
            continue;
        }
        let Some(provider) = provider else {
            for site in &sites {
                let label = site.reference.label(&alias);
                diags.push(
                    site_error(
                        site,
                        format!("secret provider \"{alias}\" is not configured (ref {label})"),
                    )
                    .with_hint(format!(
                        "declare it under secrets.providers.{alias} with source \"{}\"",
                        source.as_str()
                    )),
                );
            }
            continue;
        };
        match (source, provider) {
            (SecretSource::Env, SecretProviderConfig::Env { allowlist }) => {
                for site in sites {
                    let id = &site.reference.id;
                    if allowlist.as_ref().is_some_and(|list| !list.contains(id)) {
                        diags.push(site_error(
                            site,
                            format!(
                                "environment variable \"{id}\" is not allowlisted in \
                                 secrets.providers.{alias}.allowlist"
                            ),
                        ));
                    }
                }
            }
            (
                SecretSource::File,
                SecretProviderConfig::File {
                    path,
                    mode,
                    max_bytes,
                    ..
                },
            ) => {
                let path = expand_home(path, home);
                let payload =
                    read_secret_file(&path, *mode, max_bytes.unwrap_or(DEFAULT_MAX_BYTES));
                for site in sites {
                    let found = match &payload {
                        Err(e) => Err(format!("file provider \"{alias}\": {e}")),
                        Ok(FilePayload::Single(v)) if site.reference.id == "value" => {
                            Ok(serde_json::Value::String(v.clone()))
                        }
                        Ok(FilePayload::Single(_)) => Err(format!(
                            "singleValue file provider \"{alias}\" expects the id \"value\""
                        )),
                        Ok(FilePayload::Json(json)) => {
                            json.pointer(&site.reference.id).cloned().ok_or_else(|| {
                                format!(
                                    "file provider \"{alias}\" has nothing at \"{}\"",
                                    site.reference.id
                                )
                            })
                        }
                    };
                    store(&mut secrets, site, &alias, found, diags);
                }
            }
            (SecretSource::Exec, SecretProviderConfig::Exec(exec)) => {
                let mut ids: Vec<String> = sites.iter().map(|s| s.reference.id.clone()).collect();
                ids.dedup();
                ids.sort();
                ids.dedup();
                let run = run_exec_provider(&alias, exec, &ids, env, home);
                for site in sites {
                    let id = &site.reference.id;
                    let found = match &run {
                        Err(e) => Err(e.clone()),
                        Ok(out) => match (out.values.get(id), out.errors.get(id)) {
                            (Some(v), _) => Ok(v.clone()),
                            (None, Some(e)) => Err(e.clone()),
                            (None, None) => {
                                Err(format!("exec provider \"{alias}\" returned no \"{id}\""))
                            }
                        },
                    };
                    store(&mut secrets, site, &alias, found, diags);
                }
            }
            (_, other) => {
                let has = match other {
                    SecretProviderConfig::Env { .. } => "env",
                    SecretProviderConfig::File { .. } => "file",
                    SecretProviderConfig::Exec(_) => "exec",
                };
                for site in sites {
                    diags.push(site_error(
                        site,
                        format!(
                            "secret provider \"{alias}\" has source \"{has}\" but the ref asks \
                             for \"{}\"",
                            source.as_str()
                        ),
                    ));
                }
            }
        }
    }
    secrets
}

/// Records one resolved value (a non-empty string), or the reason it has none.
fn store(
    secrets: &mut Secrets,
    site: &SecretSite,
    alias: &str,
    found: Result<serde_json::Value, String>,
    diags: &mut Vec<Diagnostic>,
) {
    let label = site.reference.label(alias);
    match found {
        Ok(serde_json::Value::String(v)) if !v.trim().is_empty() => {
            secrets.values.insert(label, v);
        }
        Ok(other) => {
            let what = match other {
                serde_json::Value::String(_) => "an empty string",
                serde_json::Value::Object(_) => "an object",
                serde_json::Value::Array(_) => "an array",
                serde_json::Value::Number(_) => "a number",
                serde_json::Value::Bool(_) => "a boolean",
                serde_json::Value::Null => "null",
            };
            diags.push(site_error(
                site,
                format!("secret {label} resolves to {what}, expected a non-empty string"),
            ));
        }
        Err(message) => diags.push(site_error(
            site,
            format!("cannot resolve secret {label}: {message}"),
        )),
    }
}
