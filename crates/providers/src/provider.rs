//! The `Provider` trait: one upstream (an HTTP server in some dialect, or the in-process
//! engine) that can stream a canonical request and list its models.

use std::pin::Pin;
use std::time::Duration;

use async_trait::async_trait;
use clawgate_wire::embeddings::{EmbeddingRequest, EmbeddingResponse};
use clawgate_wire::{Event, Request};
use futures::Stream;
use serde::{Deserialize, Serialize};

use crate::{FailureKind, LearnedBehaviour, ProviderError};

/// Canonical events from one attempt. The stream ends after `Finished`, or with one `Err`.
pub type EventStream = Pin<Box<dyn Stream<Item = Result<Event, ProviderError>> + Send>>;

/// Per-attempt settings chosen by the caller (the router).
#[derive(Debug, Clone, Default)]
pub struct CallContext {
    /// Which of the provider's API keys to use (index into its key list); 0 when it has one.
    pub key_index: usize,
    /// Time allowed to connect.
    pub connect_timeout: Option<Duration>,
    /// Time allowed until response headers arrive (the router enforces time to first event).
    pub header_timeout: Option<Duration>,
}

/// A model an upstream says it serves.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DiscoveredModel {
    pub id: String,
    /// Context window the server reports (loaded context for LM Studio, `context_length` for
    /// Ollama), when it reports one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_window: Option<u64>,
    /// Whether the model is loaded right now, when the server says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loaded: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supports_tools: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning: Option<bool>,
}

#[async_trait]
pub trait Provider: Send + Sync {
    /// The provider id from config (`lmstudio`, `anthropic`, ...).
    fn id(&self) -> &str;

    /// Make one attempt. Errors before the first event (connect, HTTP status) come back as
    /// `Err`; errors after it come as the stream's last item.
    async fn stream(
        &self,
        request: Request,
        ctx: CallContext,
    ) -> Result<EventStream, ProviderError>;

    /// List the models the upstream serves (discovery). Short timeouts; callers treat an error
    /// as a warning.
    async fn list_models(&self) -> Result<Vec<DiscoveredModel>, ProviderError>;

    /// Embed `request.input` with `request.model` (one attempt, like [`stream`](Self::stream)).
    /// Providers without an embeddings route fail with `format` (nothing cools down; the
    /// router tries the next candidate).
    async fn embed(
        &self,
        request: EmbeddingRequest,
        ctx: CallContext,
    ) -> Result<EmbeddingResponse, ProviderError> {
        let _ = ctx;
        Err(no_embeddings(self.id(), &request.model))
    }

    /// What this provider learned about its server while running (a Responses server
    /// bridged to chat, models called without tools, models holding inline reasoning).
    fn learned(&self) -> LearnedBehaviour {
        LearnedBehaviour::default()
    }
}

/// The error of a provider without an embeddings route: `format`, so nothing cools down and
/// the router tries the next candidate.
pub(crate) fn no_embeddings(provider: &str, model: &str) -> ProviderError {
    ProviderError::new(
        FailureKind::Format,
        format!("provider {provider} does not serve embeddings (asked for {model})"),
    )
}
