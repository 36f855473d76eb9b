//! The providers a router may call, keyed by provider id, with what the router needs to know
//! about each beyond the `Provider` trait: how many API keys it has (for rotation), whether
//! it is local (for default timeouts) and its own timeouts when configured.

use std::collections::BTreeMap;
use std::sync::Arc;

use clawgate_providers::Provider;

use crate::config::{RouterConfig, Timeouts};

/// One provider as the router sees it.
#[derive(Clone)]
pub struct ProviderTarget {
    pub provider: Arc<dyn Provider>,
    /// Number of API keys (`apiKeys` / `<PROVIDER>_API_KEYS`); at least 1.
    pub key_count: usize,
    /// Local server (generous first-event timeout) or hosted API.
    pub local: bool,
    /// Per-provider timeouts; `None` uses the local or hosted defaults from `RouterConfig`.
    pub timeouts: Option<Timeouts>,
}

impl std::fmt::Debug for ProviderTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProviderTarget")
            .field("provider", &self.provider.id())
            .field("key_count", &self.key_count)
            .field("local", &self.local)
            .field("timeouts", &self.timeouts)
            .finish()
    }
}

impl ProviderTarget {
    /// A hosted provider with one key and default timeouts.
    pub fn new(provider: Arc<dyn Provider>) -> Self {
        Self {
            provider,
            key_count: 1,
            local: false,
            timeouts: None,
        }
    }

    pub fn with_keys(mut self, key_count: usize) -> Self {
        self.key_count = key_count.max(1);
        self
    }

    pub fn local(mut self, local: bool) -> Self {
        self.local = local;
        self
    }

    pub fn with_timeouts(mut self, timeouts: Timeouts) -> Self {
        self.timeouts = Some(timeouts);
        self
    }

    pub fn id(&self) -> &str {
        self.provider.id()
    }

    /// The timeouts in force for this provider.
    pub fn effective_timeouts(&self, config: &RouterConfig) -> Timeouts {
        match (self.timeouts, self.local) {
            (Some(own), _) => own,
            (None, true) => config.local_timeouts,
            (None, false) => config.hosted_timeouts,
        }
    }
}

/// All providers a router can reach, by id.
#[derive(Debug, Clone, Default)]
pub struct ProviderSet {
    targets: BTreeMap<String, ProviderTarget>,
}

impl ProviderSet {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) a provider under its own `id()`.
    pub fn insert(&mut self, target: ProviderTarget) -> &mut Self {
        self.targets.insert(target.id().to_string(), target);
        self
    }

    pub fn with(mut self, target: ProviderTarget) -> Self {
        self.insert(target);
        self
    }

    pub fn get(&self, provider_id: &str) -> Option<&ProviderTarget> {
        self.targets.get(provider_id)
    }

    pub fn iter(&self) -> impl Iterator<Item = &ProviderTarget> {
        self.targets.values()
    }

    pub fn len(&self) -> usize {
        self.targets.len()
    }

    pub fn is_empty(&self) -> bool {
        self.targets.is_empty()
    }
}

impl FromIterator<ProviderTarget> for ProviderSet {
    fn from_iter<I: IntoIterator<Item = ProviderTarget>>(iter: I) -> Self {
        let mut set = Self::new();
        for target in iter {
            set.insert(target);
        }
        set
    }
}
