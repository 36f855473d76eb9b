//! Model strings → candidate chains, precomputed. At build time every registry ref and every
//! alias gets its [`ModelRoute`] (the requested candidate, the chain with the configured
//! fallbacks, the strict chain, the row's cost, whether the default agent's model allowlist
//! admits it), so the hot path is one hash lookup and no registry scan. Strings the table does
//! not hold (a bare model id, an `@profile` suffix, a provider spelled another way) take the
//! registry's full resolver. An `@profile` suffix pins the candidate to the key that OpenClaw
//! auth profile gave its provider (no other key is tried); a profile that gave none is an
//! error for a request, and is left out (with the loader's warning) for the configured chain.

use std::collections::HashMap;
use std::sync::Arc;

use clawgate_config::{ConfigError, ModelCost, Registry, ResolvedModel};
use clawgate_router::{CandidateChain, CandidateRef};

/// Whether a call may fail over to the configured fallbacks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FallbackMode {
    /// Requested model, then `agents.defaults.model.fallbacks`, then the primary (router rules).
    #[default]
    Configured,
    /// Only the requested model (`x-clawgate-fallbacks: none`).
    None,
}

/// How one model string routes.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelRoute {
    /// `provider/model`, the row's canonical ref (shared: it labels metrics per request).
    pub reference: Arc<str>,
    pub candidate: CandidateRef,
    /// USD per million tokens, from the row's `cost`.
    pub cost: ModelCost,
    /// Whether the default agent's model allowlist admits this model (routed calls are held to
    /// it; without an allowlist every model is admitted).
    pub allowed: bool,
    with_fallbacks: CandidateChain,
    strict: CandidateChain,
}

impl ModelRoute {
    pub fn chain(&self, mode: FallbackMode) -> &CandidateChain {
        match mode {
            FallbackMode::Configured => &self.with_fallbacks,
            FallbackMode::None => &self.strict,
        }
    }
}

/// The route table of one loaded config.
#[derive(Debug, Clone)]
pub struct ModelRoutes {
    registry: Arc<Registry>,
    /// Whose allowlist routed calls are held to.
    default_agent: String,
    primary: CandidateRef,
    fallbacks: Vec<CandidateRef>,
    /// Exact refs, and aliases lower-cased.
    table: HashMap<String, Arc<ModelRoute>>,
}

/// The candidate for a resolved ref; its `@profile`, when it gave the provider a key, pins it.
fn candidate(resolved: &ResolvedModel) -> Result<CandidateRef, ConfigError> {
    let plain = CandidateRef::new(
        resolved.reference.provider.clone(),
        resolved.reference.model.clone(),
    );
    let Some(profile) = &resolved.profile else {
        return Ok(plain);
    };
    match resolved.provider.profile_key_index(profile) {
        Some(index) => Ok(plain.with_key(index)),
        None => Err(ConfigError::UnknownProfile {
            profile: profile.clone(),
            provider: resolved.provider.id.clone(),
        }),
    }
}

/// [`candidate`] for the configured chain: an unusable pin is dropped (the loader warned).
fn configured_candidate(resolved: &ResolvedModel) -> CandidateRef {
    candidate(resolved).unwrap_or_else(|_| {
        CandidateRef::new(
            resolved.reference.provider.clone(),
            resolved.reference.model.clone(),
        )
    })
}

impl ModelRoutes {
    /// Resolves the default chain (an unresolvable primary or fallback is a config error) and
    /// precomputes a route for every row and alias.
    pub fn build(registry: Arc<Registry>, default_agent: &str) -> Result<Self, ConfigError> {
        let chain = registry.chain(None)?;
        let primary = configured_candidate(&chain.primary);
        let fallbacks: Vec<CandidateRef> =
            chain.fallbacks.iter().map(configured_candidate).collect();
        let mut routes = Self {
            registry,
            default_agent: default_agent.to_string(),
            primary,
            fallbacks,
            table: HashMap::new(),
        };
        let mut table = HashMap::new();
        for row in routes.registry.models() {
            let candidate = CandidateRef::new(row.provider.clone(), row.id.clone());
            table.insert(
                row.reference.clone(),
                Arc::new(routes.route_for(candidate, row.cost)),
            );
        }
        for (alias, target) in routes.registry.aliases() {
            let key = target.key();
            if let Some(route) = table.get(&key).cloned() {
                table.insert(alias.to_ascii_lowercase(), route);
            }
        }
        routes.table = table;
        Ok(routes)
    }

    fn route_for(&self, requested: CandidateRef, cost: ModelCost) -> ModelRoute {
        let with_fallbacks =
            CandidateChain::build(&self.primary, &self.fallbacks, Some(&requested), None);
        let reference = clawgate_config::ModelRef {
            provider: requested.provider.clone(),
            model: requested.model.clone(),
        };
        ModelRoute {
            reference: Arc::from(requested.key()),
            strict: CandidateChain::strict(requested.clone()),
            allowed: self
                .registry
                .model_allowed(Some(&self.default_agent), &reference),
            candidate: requested,
            cost,
            with_fallbacks,
        }
    }

    /// The route for a model ref or alias as a client wrote it.
    pub fn resolve(&self, model: &str) -> Result<Arc<ModelRoute>, ConfigError> {
        if let Some(route) = self.table.get(model) {
            return Ok(route.clone());
        }
        let lower = model.trim().to_ascii_lowercase();
        if let Some(route) = self.table.get(&lower) {
            return Ok(route.clone());
        }
        let resolved = self.registry.resolve(model)?;
        Ok(Arc::new(
            self.route_for(candidate(&resolved)?, resolved.model.cost),
        ))
    }

    /// [`ModelRoutes::resolve`] for a routed request: a model outside the default agent's
    /// allowlist is OpenClaw's "not allowed" error.
    pub fn resolve_allowed(&self, model: &str) -> Result<Arc<ModelRoute>, ConfigError> {
        let route = self.resolve(model)?;
        if route.allowed {
            return Ok(route);
        }
        Err(ConfigError::ModelNotAllowed {
            model: route.reference.to_string(),
            agent: self.default_agent.clone(),
        })
    }

    /// The configured primary (head of the default chain).
    pub fn primary(&self) -> &CandidateRef {
        &self.primary
    }

    pub fn fallbacks(&self) -> &[CandidateRef] {
        &self.fallbacks
    }

    pub fn registry(&self) -> &Arc<Registry> {
        &self.registry
    }
}
