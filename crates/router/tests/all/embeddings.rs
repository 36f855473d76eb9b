//! `Router::embed`: the chain's admission and penalties for embeddings calls. A failing server
//! cools down and is skipped by the next call; a server that cannot embed (`format`) and a
//! provider without embeddings (the trait's default) cost nothing.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use clawgate_providers::{
    CallContext, DiscoveredModel, EventStream, FailureKind, Provider, ProviderError,
};
use clawgate_router::{
    AttemptOutcome, CancellationToken, ProviderSet, ProviderTarget, RouterConfig, RouterError,
};
use clawgate_wire::Request;
use clawgate_wire::embeddings::{EmbeddingInput, EmbeddingRequest, EmbeddingResponse};

use crate::fake::*;

/// How an embeddings fake answers its n-th call.
type Answer = fn(usize) -> Result<Vec<f32>, ProviderError>;

struct EmbedFake {
    id: String,
    answer: Option<Answer>,
    calls: AtomicUsize,
    models: std::sync::Mutex<Vec<String>>,
}

impl EmbedFake {
    /// `answer: None` keeps the trait's default `embed` (a provider without embeddings).
    fn new(id: &str, answer: Option<Answer>) -> Arc<Self> {
        Arc::new(Self {
            id: id.into(),
            answer,
            calls: AtomicUsize::new(0),
            models: std::sync::Mutex::new(Vec::new()),
        })
    }
}

#[async_trait]
impl Provider for EmbedFake {
    fn id(&self) -> &str {
        &self.id
    }

    async fn stream(&self, _: Request, _: CallContext) -> Result<EventStream, ProviderError> {
        Err(error(FailureKind::ServerError))
    }

    async fn list_models(&self) -> Result<Vec<DiscoveredModel>, ProviderError> {
        Ok(Vec::new())
    }

    async fn embed(
        &self,
        request: EmbeddingRequest,
        ctx: CallContext,
    ) -> Result<EmbeddingResponse, ProviderError> {
        let Some(answer) = self.answer else {
            // The trait's own default: what a provider without embeddings answers.
            return Provider::embed(&NoEmbeddings(self.id.clone()), request, ctx).await;
        };
        self.models.lock().unwrap().push(request.model.clone());
        let n = self.calls.fetch_add(1, Ordering::SeqCst);
        Ok(EmbeddingResponse {
            model: request.model,
            vectors: vec![answer(n)?],
            prompt_tokens: Some(1),
        })
    }
}

/// A provider that keeps the trait's default `embed`.
struct NoEmbeddings(String);

#[async_trait]
impl Provider for NoEmbeddings {
    fn id(&self) -> &str {
        &self.0
    }

    async fn stream(&self, _: Request, _: CallContext) -> Result<EventStream, ProviderError> {
        Err(error(FailureKind::ServerError))
    }

    async fn list_models(&self) -> Result<Vec<DiscoveredModel>, ProviderError> {
        Ok(Vec::new())
    }
}

fn embedding_request() -> EmbeddingRequest {
    EmbeddingRequest {
        model: "whatever-the-client-sent".into(),
        input: vec![EmbeddingInput::Text("hello".into())],
        ..EmbeddingRequest::default()
    }
}

fn router(providers: &[Arc<EmbedFake>]) -> clawgate_router::Router {
    let set: ProviderSet = providers
        .iter()
        .map(|p| ProviderTarget::new(p.clone() as Arc<dyn Provider>))
        .collect();
    router_over(
        set,
        clawgate_router::CooldownStore::in_memory(Default::default()),
        RouterConfig::default(),
    )
    .0
}

#[tokio::test]
async fn a_failing_server_cools_down_and_the_next_call_skips_it() {
    let a = EmbedFake::new("a", Some(|_| Err(error(FailureKind::ServerError))));
    let b = EmbedFake::new("b", Some(|_| Ok(vec![1.0, 2.0])));
    let router = router(&[a.clone(), b.clone()]);
    let chain = chain(&["a/emb", "b/emb"]);
    let cancel = CancellationToken::new();
    let (answer, info) = router
        .embed(embedding_request(), &chain, &cancel)
        .await
        .unwrap();
    assert_eq!(answer.vectors, [vec![1.0, 2.0]]);
    assert_eq!(info.answered_by.to_string(), "b/emb");
    assert!(info.fallback);
    assert_eq!(
        *b.models.lock().unwrap(),
        ["emb"],
        "the candidate's model id"
    );
    let (_, info) = router
        .embed(embedding_request(), &chain, &cancel)
        .await
        .unwrap();
    assert!(
        matches!(
            info.attempts[0].outcome,
            AttemptOutcome::SkippedForCooldown { .. }
        ),
        "{:?}",
        info.attempts
    );
    assert_eq!(a.calls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn providers_without_embeddings_cost_nothing() {
    let a = EmbedFake::new("a", None);
    let router = router(&[a]);
    let chain = chain(&["a/emb"]);
    let cancel = CancellationToken::new();
    for _ in 0..2 {
        let error = router
            .embed(embedding_request(), &chain, &cancel)
            .await
            .unwrap_err();
        let RouterError::AllFailed { attempts, .. } = &error else {
            panic!("{error:?}");
        };
        // Tried every time: no cooldown was recorded.
        assert_eq!(attempts.len(), 1);
        assert!(
            matches!(
                attempts[0].outcome,
                AttemptOutcome::Failed {
                    kind: FailureKind::Format,
                    ..
                }
            ),
            "{attempts:?}"
        );
        assert!(
            error.to_string().contains("does not serve embeddings"),
            "{error}"
        );
    }
}
