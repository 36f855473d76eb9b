//! Which stored auth profiles give a provider its keys, and in which order — OpenClaw's rules
//! (its `auth-profiles/order.ts`), applied once at load:
//!
//! 1. the order: the store's own override (`models auth order set`), else `auth.order[provider]`,
//!    else the profiles `auth.profiles` declares for the provider (in file order), else every
//!    stored profile of the provider;
//! 2. a profile is used when it is in the store, is for this provider, has the type
//!    `auth.profiles.<id>.mode` asks for (an `oauth` profile may hold a `token`), has a secret,
//!    and has not expired (tokens and OAuth access tokens carry `expires`, epoch ms; clawgate
//!    cannot refresh an OAuth token, OpenClaw does);
//! 3. when none of the listed profiles is in the store at all, every stored profile of the
//!    provider is used instead (OpenClaw's repair for a stale list);
//! 4. without an explicit order, OAuth profiles come first, then tokens, then API keys.
//!
//! Profiles left out are reported with the reason, for `models status`.

use crate::auth_store::{AuthStore, CredentialKind, StoredCredential, auth_provider_id};
use crate::schema::auth::{AuthConfig, ProfileMode};

/// A profile whose secret is one of the provider's keys.
#[derive(Clone, PartialEq)]
pub struct ProfileKey {
    pub profile_id: String,
    pub secret: String,
}

impl std::fmt::Debug for ProfileKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ProfileKey({})", self.profile_id)
    }
}

/// A profile the provider's order names (or the store holds) that is not used, and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SkippedProfile {
    pub profile_id: String,
    pub reason: String,
}

/// `Ok(())` when usable now, else why not.
fn usable(cred: &StoredCredential, now_ms: u64) -> Result<(), String> {
    if let Some(problem) = &cred.problem {
        return Err(problem.clone());
    }
    let expiring = matches!(cred.kind, CredentialKind::Token | CredentialKind::OAuth);
    match (&cred.expires, expiring) {
        (None, _) | (_, false) => Ok(()),
        (Some(value), true) => match value.as_f64() {
            Some(ms) if ms.is_finite() && ms > 0.0 && ms <= 8.64e15 => {
                if ms <= now_ms as f64 {
                    Err(format!(
                        "{} expired at {}",
                        cred.kind.as_str(),
                        humantime::format_rfc3339_seconds(
                            std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms as u64)
                        )
                    ))
                } else {
                    Ok(())
                }
            }
            _ => Err(format!("{} has an invalid expiry", cred.kind.as_str())),
        },
    }
}

fn mode_matches(mode: ProfileMode, kind: CredentialKind) -> bool {
    matches!(
        (mode, kind),
        (ProfileMode::ApiKey, CredentialKind::ApiKey)
            | (ProfileMode::Token, CredentialKind::Token)
            | (
                ProfileMode::OAuth,
                CredentialKind::OAuth | CredentialKind::Token
            )
    )
}

fn type_rank(kind: CredentialKind) -> u8 {
    match kind {
        CredentialKind::OAuth => 0,
        CredentialKind::Token => 1,
        CredentialKind::ApiKey => 2,
    }
}

/// The keys `provider` gets from the store, in order, and the profiles left out.
pub fn profile_keys(
    provider: &str,
    auth: &AuthConfig,
    store: &AuthStore,
    now_ms: u64,
) -> (Vec<ProfileKey>, Vec<SkippedProfile>) {
    let provider = auth_provider_id(provider);
    let stored: Vec<&StoredCredential> = store
        .profiles
        .iter()
        .filter(|p| p.provider == provider)
        .collect();
    let declared: Vec<&str> = auth
        .profiles
        .iter()
        .filter(|(_, p)| auth_provider_id(&p.provider) == provider)
        .map(|(id, _)| id.as_str())
        .collect();
    let explicit = store
        .order
        .get(&provider)
        .or_else(|| auth.order.get(&provider));
    let base: Vec<&str> = match explicit {
        Some(order) => order.iter().map(String::as_str).collect(),
        None if !declared.is_empty() => declared.clone(),
        None => stored.iter().map(|p| p.id.as_str()).collect(),
    };
    let mut skipped = Vec::new();
    let check = |id: &str, skipped: &mut Vec<SkippedProfile>| -> Option<ProfileKey> {
        let skip = |reason: String| SkippedProfile {
            profile_id: id.to_string(),
            reason,
        };
        let declared_as = auth
            .profiles
            .iter()
            .find(|(pid, _)| pid == id)
            .map(|(_, p)| p);
        if declared_as.is_some_and(|p| p.mode == ProfileMode::AwsSdk) {
            skipped.push(skip(
                "aws-sdk profiles are not supported by clawgate".into(),
            ));
            return None;
        }
        let Some(cred) = store.profile(id) else {
            skipped.push(skip("not in OpenClaw's profile store".into()));
            return None;
        };
        if cred.provider != provider {
            skipped.push(skip(format!("stored for provider {}", cred.provider)));
            return None;
        }
        if let Some(p) = declared_as {
            if auth_provider_id(&p.provider) != provider {
                skipped.push(skip(format!("auth.profiles says provider {}", p.provider)));
                return None;
            }
            if !mode_matches(p.mode, cred.kind) {
                skipped.push(skip(format!(
                    "auth.profiles says mode {} but the store holds a {}",
                    p.mode.as_str(),
                    cred.kind.as_str()
                )));
                return None;
            }
        }
        if let Err(reason) = usable(cred, now_ms) {
            skipped.push(skip(reason));
            return None;
        }
        Some(ProfileKey {
            profile_id: id.to_string(),
            secret: cred.secret.clone().unwrap_or_default(),
        })
    };
    let mut keys: Vec<ProfileKey> = Vec::new();
    for id in &base {
        if keys.iter().any(|k| k.profile_id == *id) {
            continue;
        }
        if let Some(key) = check(id, &mut skipped) {
            keys.push(key);
        }
    }
    let listed = explicit.is_some() || !declared.is_empty();
    let none_stored = base.iter().all(|id| store.profile(id).is_none());
    if keys.is_empty() && listed && none_stored {
        skipped.clear();
        for p in &stored {
            if let Some(key) = check(&p.id, &mut skipped) {
                keys.push(key);
            }
        }
    }
    if explicit.is_none() {
        // Stable: equal types keep the order above.
        keys.sort_by_key(|k| {
            store
                .profile(&k.profile_id)
                .map_or(3, |c| type_rank(c.kind))
        });
    }
    (keys, skipped)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde_json::json;

    use super::*;
    use crate::schema::auth::AuthProfileConfig;

    fn cred(id: &str, kind: CredentialKind, expires: Option<u64>) -> StoredCredential {
        StoredCredential {
            id: id.into(),
            provider: "anthropic".into(),
            kind,
            secret: Some(format!("secret-of-{id}")),
            expires: expires.map(|e| json!(e)),
            problem: None,
        }
    }

    fn store(profiles: Vec<StoredCredential>) -> AuthStore {
        AuthStore {
            profiles,
            order: BTreeMap::new(),
            sources: Vec::new(),
        }
    }

    fn declaring(id: &str, mode: ProfileMode) -> AuthConfig {
        AuthConfig {
            profiles: vec![(
                id.into(),
                AuthProfileConfig {
                    provider: "anthropic".into(),
                    mode,
                    email: None,
                    display_name: None,
                },
            )],
            ..AuthConfig::default()
        }
    }

    fn ids(keys: &[ProfileKey]) -> Vec<&str> {
        keys.iter().map(|k| k.profile_id.as_str()).collect()
    }

    const NOW: u64 = 1_000_000;

    #[test]
    fn without_an_order_oauth_then_tokens_then_keys() {
        let s = store(vec![
            cred("anthropic:a", CredentialKind::ApiKey, None),
            cred("anthropic:t", CredentialKind::Token, Some(NOW + 1)),
            cred("anthropic:o", CredentialKind::OAuth, Some(NOW + 1)),
        ]);
        let (keys, skipped) = profile_keys("anthropic", &AuthConfig::default(), &s, NOW);
        assert_eq!(ids(&keys), ["anthropic:o", "anthropic:t", "anthropic:a"]);
        assert!(skipped.is_empty());
    }

    #[test]
    fn expired_tokens_are_skipped_with_the_reason() {
        let s = store(vec![
            cred("anthropic:old", CredentialKind::Token, Some(NOW - 1)),
            cred("anthropic:a", CredentialKind::ApiKey, Some(NOW - 1)),
        ]);
        let (keys, skipped) = profile_keys("anthropic", &AuthConfig::default(), &s, NOW);
        assert_eq!(
            ids(&keys),
            ["anthropic:a"],
            "an api key's expires is not a token expiry"
        );
        assert_eq!(skipped[0].profile_id, "anthropic:old");
        assert!(
            skipped[0].reason.starts_with("token expired at 1970"),
            "{:?}",
            skipped
        );
    }

    #[test]
    fn store_order_beats_config_order_which_beats_declared_profiles() {
        let mut s = store(vec![
            cred("anthropic:a", CredentialKind::ApiKey, None),
            cred("anthropic:b", CredentialKind::ApiKey, None),
            cred("anthropic:c", CredentialKind::ApiKey, None),
        ]);
        let mut auth = declaring("anthropic:c", ProfileMode::ApiKey);
        assert_eq!(
            ids(&profile_keys("anthropic", &auth, &s, NOW).0),
            ["anthropic:c"]
        );
        auth.order.insert(
            "anthropic".into(),
            vec!["anthropic:b".into(), "anthropic:a".into()],
        );
        assert_eq!(
            ids(&profile_keys("anthropic", &auth, &s, NOW).0),
            ["anthropic:b", "anthropic:a"]
        );
        s.order
            .insert("anthropic".into(), vec!["anthropic:a".into()]);
        assert_eq!(
            ids(&profile_keys("anthropic", &auth, &s, NOW).0),
            ["anthropic:a"]
        );
    }

    #[test]
    fn mode_mismatch_and_stale_lists() {
        let s = store(vec![cred("anthropic:t", CredentialKind::Token, None)]);
        let mut auth = declaring("anthropic:t", ProfileMode::ApiKey);
        let (keys, skipped) = profile_keys("anthropic", &auth, &s, NOW);
        assert!(keys.is_empty());
        assert!(skipped[0].reason.contains("mode api_key"), "{skipped:?}");
        // A list naming only profiles the store lacks falls back to what the store has.
        auth.profiles[0].0 = "anthropic:gone".into();
        let (keys, _) = profile_keys("anthropic", &auth, &s, NOW);
        assert_eq!(ids(&keys), ["anthropic:t"]);
    }
}
