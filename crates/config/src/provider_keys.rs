//! Which API keys a provider gets, in rotation order, and where each came from:
//!
//! 1. the config's `apiKey` and `apiKeys` (literals and secret refs);
//! 2. then OpenClaw's auth profiles for the provider, in auth order (`crate::auth_profiles`),
//!    skipping a profile whose secret equals a key already listed;
//! 3. only when neither gave a key: the environment (`<PROVIDER>_API_KEYS`,
//!    `<PROVIDER>_API_KEY`, `<PROVIDER>_API_KEY_<n>`).
//!
//! The router rotates through the list on rate limits (a profile is a key), and a ref's
//! `@profile` pins the key that profile gave.

use crate::auth_profiles::{SkippedProfile, profile_keys};
use crate::auth_store::AuthStore;
use crate::env::EnvVars;
use crate::registry::{KeySource, env_keys};
use crate::schema::{AuthConfig, ProviderConfig, SecretInput, SecretSource};
use crate::secret_values::{Secrets, Unresolved};

/// Where provider keys come from besides the config: the environment and resolved secret refs,
/// and OpenClaw's auth-profile store (with the time its tokens' expiry is judged at).
#[derive(Debug, Clone, Default)]
pub struct KeyMaterial {
    pub secrets: Secrets,
    pub profiles: Option<AuthStore>,
    pub now_ms: u64,
}

impl KeyMaterial {
    /// The environment only (no secret refs resolved, no profile store).
    pub fn from_env(env: &EnvVars) -> Self {
        Self {
            secrets: Secrets::from_env(env.clone()),
            profiles: None,
            now_ms: 0,
        }
    }
}

/// One provider's keys (same order and length as their sources).
#[derive(Debug, Default)]
pub(crate) struct ProviderKeys {
    pub keys: Vec<String>,
    pub sources: Vec<KeySource>,
    /// Env variables (or ref labels) the config's key refs named but that have no value.
    pub missing: Vec<String>,
    pub skipped: Vec<SkippedProfile>,
}

pub(crate) fn provider_keys(
    id: &str,
    config: &ProviderConfig,
    material: &KeyMaterial,
    auth: &AuthConfig,
) -> ProviderKeys {
    let secrets = &material.secrets;
    let mut out = ProviderKeys::default();
    let mut keys: Vec<(String, KeySource)> = Vec::new();
    for secret in config
        .api_key
        .iter()
        .chain(config.api_keys.iter().flatten())
    {
        let source = match secret {
            SecretInput::Literal(_) => KeySource::Config,
            SecretInput::Ref(r) if r.source == SecretSource::Env => {
                KeySource::SecretRef(r.id.clone())
            }
            SecretInput::Ref(r) => KeySource::Secret(secrets.label(r)),
        };
        match secrets.resolve(secret) {
            Ok(k) if !k.is_empty() => keys.push((k, source)),
            Ok(_) => {}
            Err(Unresolved::EnvVar(name) | Unresolved::Ref(name)) => out.missing.push(name),
        }
    }
    if let Some(store) = &material.profiles {
        let (from_profiles, skipped) = profile_keys(id, auth, store, material.now_ms);
        for key in from_profiles {
            if !keys.iter().any(|(k, _)| *k == key.secret) {
                keys.push((key.secret, KeySource::OpenClawProfile(key.profile_id)));
            }
        }
        out.skipped = skipped;
    }
    if keys.is_empty() {
        keys = env_keys(id, secrets.env());
    }
    (out.keys, out.sources) = keys.into_iter().unzip();
    out
}
