//! The agent's [`ModelClient`] over the router: resolve the session's model ref to its chain
//! (configured fallbacks included), route, and hand the committed stream back with which model
//! answered. Router failures become the three kinds of failure the agent tells apart.

use std::sync::Arc;

use async_trait::async_trait;
use clawgate_agent::{FailedAttempt, FallbackInfo, ModelCallError, ModelClient, ModelReply};
use clawgate_providers::{FailureKind, ProviderError};
use clawgate_router::{
    AttemptOutcome, AttemptRecord, CancellationToken, CandidateChain, RouteInfo, Router,
    RouterError,
};
use clawgate_wire::Request;
use futures::StreamExt;

use crate::routes::{FallbackMode, ModelRoutes};

/// Routes agent model calls. Cheap to clone.
#[derive(Clone)]
pub struct RouterModelClient {
    router: Arc<Router>,
    routes: Arc<ModelRoutes>,
    cancel: CancellationToken,
}

impl std::fmt::Debug for RouterModelClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RouterModelClient").finish_non_exhaustive()
    }
}

impl RouterModelClient {
    /// `cancel` aborts every call made through this client (the gateway cancels it on shutdown).
    pub fn new(router: Arc<Router>, routes: Arc<ModelRoutes>, cancel: CancellationToken) -> Self {
        Self {
            router,
            routes,
            cancel,
        }
    }
}

/// The agent's view of a failure the router reports.
pub fn call_error_from_router(error: &RouterError) -> ModelCallError {
    match error {
        RouterError::ContextOverflow {
            requested, limit, ..
        } => ModelCallError::ContextOverflow {
            requested: *requested,
            limit: *limit,
        },
        RouterError::Aborted { .. } => ModelCallError::Aborted,
        other => ModelCallError::Failed(other.to_string()),
    }
}

/// The agent's view of a failure after the stream committed.
pub fn call_error_from_provider(error: &ProviderError) -> ModelCallError {
    match error.kind {
        FailureKind::ContextOverflow { requested, limit } => {
            ModelCallError::ContextOverflow { requested, limit }
        }
        FailureKind::Aborted => ModelCallError::Aborted,
        _ => ModelCallError::Failed(error.message.clone()),
    }
}

/// What one attempt came to, in a few words: `ok`, the failure kind (`timeout`, `network`,
/// ...), `cooldown:<kind>` for a candidate skipped while cooling down, `provider_unavailable`.
pub fn attempt_reason(attempt: &AttemptRecord) -> String {
    match &attempt.outcome {
        AttemptOutcome::Failed { kind, .. } => kind.name().to_string(),
        AttemptOutcome::SkippedForCooldown { reason, .. } => format!("cooldown:{reason}"),
        AttemptOutcome::SkippedUnknownProvider => "provider_unavailable".to_string(),
        AttemptOutcome::Ok => "ok".to_string(),
    }
}

/// Why the requested model did not answer, in a few words (`timeout`, `rate_limit`, ...).
pub fn fallback_reason(info: &RouteInfo) -> Option<String> {
    if !info.fallback {
        return None;
    }
    let reason = info
        .attempts
        .iter()
        .find(|attempt| attempt.candidate == info.requested)
        .map(attempt_reason)
        .unwrap_or_else(|| "unavailable".to_string());
    Some(reason)
}

/// The agent's view of a fallback: what was asked for, why it did not answer, and every
/// attempt before the one that did.
pub fn fallback_info(info: &RouteInfo) -> Option<FallbackInfo> {
    let reason = fallback_reason(info)?;
    let failed = info
        .attempts
        .iter()
        .filter(|attempt| !matches!(attempt.outcome, AttemptOutcome::Ok))
        .map(|attempt| FailedAttempt {
            model_ref: attempt.candidate.key(),
            reason: attempt_reason(attempt),
            detail: attempt.detail(),
            latency_ms: attempt.latency.as_millis() as u64,
        })
        .collect();
    Some(FallbackInfo {
        primary: info.requested.key(),
        reason,
        failed,
    })
}

impl RouterModelClient {
    async fn route(
        &self,
        request: Request,
        chain: &CandidateChain,
    ) -> Result<ModelReply, ModelCallError> {
        let stream = self
            .router
            .call(request, chain, &self.cancel)
            .await
            .map_err(|e| call_error_from_router(&e))?;
        let info = stream.info().clone();
        let fallback = fallback_info(&info);
        let events = stream
            .map(|item| item.map_err(|e| call_error_from_provider(&e)))
            .boxed();
        Ok(ModelReply {
            model_ref: info.answered_by.key(),
            fallback,
            events,
        })
    }
}

#[async_trait]
impl ModelClient for RouterModelClient {
    async fn call(&self, request: Request) -> Result<ModelReply, ModelCallError> {
        let route = self
            .routes
            .resolve(&request.model)
            .map_err(|e| ModelCallError::Failed(e.to_string()))?;
        let chain = route.chain(FallbackMode::Configured).clone();
        self.route(request, &chain).await
    }

    /// The requested model, then exactly `fallbacks` (each resolved like a request's model).
    async fn call_with_fallbacks(
        &self,
        request: Request,
        fallbacks: &[String],
    ) -> Result<ModelReply, ModelCallError> {
        let resolve = |model: &str| {
            self.routes
                .resolve(model)
                .map(|route| route.candidate.clone())
                .map_err(|e| ModelCallError::Failed(e.to_string()))
        };
        let mut candidates = vec![resolve(&request.model)?];
        for fallback in fallbacks {
            candidates.push(resolve(fallback)?);
        }
        self.route(request, &CandidateChain::from_refs(candidates))
            .await
    }
}
