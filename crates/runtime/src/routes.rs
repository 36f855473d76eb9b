//! Model strings → candidate chains, precomputed. At build time every registry ref and every
//! alias gets its [`ModelRoute`] (the requested candidate, the chain with the configured
//! fallbacks, the strict chain, the row's cost), so the hot path is one hash lookup and no
//! registry scan. Strings the table does not hold (a bare model id, an `@profile` suffix, a
//! provider spelled another way) take the registry's full resolver.

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
    primary: CandidateRef,
    fallbacks: Vec<CandidateRef>,
    /// Exact refs, and aliases lower-cased.
    table: HashMap<String, Arc<ModelRoute>>,
}

fn candidate(resolved: &ResolvedModel) -> CandidateRef {
    CandidateRef::new(
        resolved.reference.provider.clone(),
        resolved.reference.model.clone(),
    )
}

impl ModelRoutes {
    /// Resolves the default chain (an unresolvable primary or fallback is a config error) and
    /// precomputes a route for every row and alias.
    pub fn build(registry: Arc<Registry>) -> Result<Self, ConfigError> {
        let chain = registry.chain(None)?;
        let primary = candidate(&chain.primary);
        let fallbacks: Vec<CandidateRef> = chain.fallbacks.iter().map(candidate).collect();
        let mut routes = Self {
            registry,
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
        ModelRoute {
            reference: Arc::from(requested.key()),
            strict: CandidateChain::strict(requested.clone()),
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
            self.route_for(candidate(&resolved), resolved.model.cost),
        ))
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
