//! The one `impl Provider` of the HTTP adapters. The four dialects differ only in data and
//! in a few hooks (URL, auth headers, codec, discovery, embeddings route; the Responses
//! adapter's fallback to chat), so each is a small [`Dialect`] and [`HttpProvider`] does the
//! rest: the provider id, the attempt through [`AdapterCore::run`], and what was learned.

use async_trait::async_trait;
use clawgate_wire::Request;
use clawgate_wire::embeddings::{EmbeddingRequest, EmbeddingResponse};

use super::{AdapterCore, DialectCall};
use crate::provider::no_embeddings;
use crate::{
    CallContext, DiscoveredModel, EventStream, HttpClient, LearnedBehaviour, Provider,
    ProviderError, ProviderSpec,
};

/// What one wire dialect adds to [`AdapterCore`].
#[async_trait]
pub trait Dialect: std::fmt::Debug + Default + Send + Sync + 'static {
    /// The dialect-specific half of one attempt: URL, headers, body and decoder.
    fn call(&self, core: &AdapterCore, request: &Request, ctx: &CallContext) -> DialectCall;

    /// One attempt; the default runs [`call`](Self::call) through [`AdapterCore::run`].
    async fn stream(
        &self,
        core: &AdapterCore,
        request: Request,
        ctx: CallContext,
    ) -> Result<EventStream, ProviderError> {
        core.run(request, &ctx, |r| self.call(core, r, &ctx)).await
    }

    /// Discovery (see [`Provider::list_models`]).
    async fn list_models(&self, core: &AdapterCore) -> Result<Vec<DiscoveredModel>, ProviderError>;

    /// Embeddings (see [`Provider::embed`]); the default: this dialect has no route for them.
    async fn embed(
        &self,
        core: &AdapterCore,
        request: EmbeddingRequest,
        ctx: CallContext,
    ) -> Result<EmbeddingResponse, ProviderError> {
        let _ = ctx;
        Err(no_embeddings(&core.spec.id, &request.model))
    }
}

/// An HTTP upstream speaking dialect `D`.
#[derive(Debug, Clone)]
pub struct HttpProvider<D> {
    core: AdapterCore,
    dialect: D,
}

impl<D: Dialect> HttpProvider<D> {
    pub fn new(spec: &ProviderSpec, client: &HttpClient) -> Self {
        Self {
            core: AdapterCore::new(spec, client),
            dialect: D::default(),
        }
    }
}

#[async_trait]
impl<D: Dialect> Provider for HttpProvider<D> {
    fn id(&self) -> &str {
        &self.core.spec.id
    }

    async fn stream(
        &self,
        request: Request,
        ctx: CallContext,
    ) -> Result<EventStream, ProviderError> {
        self.dialect.stream(&self.core, request, ctx).await
    }

    async fn list_models(&self) -> Result<Vec<DiscoveredModel>, ProviderError> {
        self.dialect.list_models(&self.core).await
    }

    async fn embed(
        &self,
        request: EmbeddingRequest,
        ctx: CallContext,
    ) -> Result<EmbeddingResponse, ProviderError> {
        self.dialect.embed(&self.core, request, ctx).await
    }

    fn learned(&self) -> LearnedBehaviour {
        self.core.learned.snapshot()
    }
}
