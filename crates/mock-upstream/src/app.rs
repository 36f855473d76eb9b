//! The axum application: shared state (config, script queue, request log, counters), the
//! route table, and the steps every answer goes through: record the request, resolve the
//! script layers into a `Plan`, wait the latency, apply connection and status faults. The
//! script queue sits behind a mutex, but an atomic count lets the common case (nothing
//! queued) skip the lock entirely.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use axum::Router;
use axum::body::Body;
use axum::extract::DefaultBodyLimit;
use axum::response::Response;
use axum::routing::{get, post};
use http::{HeaderMap, HeaderValue, StatusCode, header};
use serde_json::Value;

use crate::config::MockConfig;
use crate::errors::{ErrorReply, status_fault};
use crate::generate::generate;
use crate::inbound::Dialect;
use crate::log::{RecordedRequest, RequestLog};
use crate::paced::StreamCounters;
use crate::script::{Fault, Plan, Script};
use crate::server::ConnectionHandle;
use crate::{control, embeddings, models};

/// The header that carries a per-request script.
pub const SCRIPT_HEADER: &str = "x-mock-script";

/// State shared by all handlers and by the `MockServer` handle.
#[derive(Debug)]
pub(crate) struct Shared {
    pub config: MockConfig,
    queue: Mutex<VecDeque<Script>>,
    queued: AtomicUsize,
    pub log: RequestLog,
    pub connections: Arc<ConnectionCounts>,
    pub requests: AtomicU64,
    /// How streamed answers ended (to the end, or abandoned by the client).
    pub streams: Arc<StreamCounters>,
    seq: AtomicU64,
}

/// TCP connections: accepted so far, and open now.
#[derive(Debug, Default)]
pub(crate) struct ConnectionCounts {
    pub accepted: AtomicU64,
    pub open: AtomicU64,
}

impl Shared {
    pub(crate) fn new(config: MockConfig) -> Shared {
        let log = RequestLog::new(config.request_log_capacity);
        Shared {
            config,
            queue: Mutex::new(VecDeque::new()),
            queued: AtomicUsize::new(0),
            log,
            connections: Arc::default(),
            requests: AtomicU64::new(0),
            streams: Arc::new(StreamCounters::default()),
            seq: AtomicU64::new(0),
        }
    }

    pub(crate) fn push_script(&self, script: Script) {
        let mut q = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
        q.push_back(script);
        self.queued.store(q.len(), Ordering::SeqCst);
    }

    pub(crate) fn clear_scripts(&self) {
        let mut q = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
        q.clear();
        self.queued.store(0, Ordering::SeqCst);
    }

    pub(crate) fn queued_scripts(&self) -> usize {
        self.queued.load(Ordering::SeqCst)
    }

    /// Takes the first queued script this request matches.
    fn take_script(&self, path: &str, model: Option<&str>, generation: bool) -> Option<Script> {
        if self.queued.load(Ordering::SeqCst) == 0 {
            return None;
        }
        let mut q = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
        let at = q.iter().position(|s| s.matches(path, model, generation))?;
        let script = q.remove(at);
        self.queued.store(q.len(), Ordering::SeqCst);
        script
    }

    /// Header script over queued script over the configured defaults. The defaults' fault
    /// is for generation routes only: a server set to fail its answers still lists models.
    pub(crate) fn plan(
        &self,
        header: Option<Script>,
        path: &str,
        model: Option<&str>,
        generation: bool,
    ) -> Plan {
        let queued = self.take_script(path, model, generation);
        let listing_defaults;
        let defaults = if generation || self.config.defaults.fault.is_none() {
            &self.config.defaults
        } else {
            listing_defaults = Script {
                fault: None,
                ..self.config.defaults.clone()
            };
            &listing_defaults
        };
        match (header, queued) {
            (None, None) => defaults.plan(),
            (Some(h), None) => h.over(defaults).plan(),
            (None, Some(q)) => q.over(defaults).plan(),
            (Some(h), Some(q)) => h.over(&q.over(defaults)).plan(),
        }
    }

    pub(crate) fn next_seq(&self) -> u64 {
        self.seq.fetch_add(1, Ordering::Relaxed) + 1
    }

    pub(crate) fn record(
        &self,
        method: &http::Method,
        uri: &http::Uri,
        headers: &HeaderMap,
        body: Value,
    ) {
        self.requests.fetch_add(1, Ordering::Relaxed);
        if self.log.enabled() {
            self.log.push(RecordedRequest::new(
                method.as_str(),
                uri.path(),
                uri.query(),
                headers,
                body,
            ));
        }
    }
}

/// Reads the `x-mock-script` header: `Ok(None)` when absent, `Err(message)` when unreadable.
pub(crate) fn header_script(headers: &HeaderMap) -> Result<Option<Script>, String> {
    let Some(raw) = headers.get(SCRIPT_HEADER) else {
        return Ok(None);
    };
    serde_json::from_slice(raw.as_bytes())
        .map(Some)
        .map_err(|e| format!("mock-upstream: bad {SCRIPT_HEADER} header: {e}"))
}

/// The route table.
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route(
            "/v1/chat/completions",
            post(|s, c, m, u, h, b| generate(Dialect::OpenAiChat, s, c, m, u, h, b)),
        )
        .route(
            "/v1/responses",
            post(|s, c, m, u, h, b| generate(Dialect::OpenAiResponses, s, c, m, u, h, b)),
        )
        .route(
            "/v1/messages",
            post(|s, c, m, u, h, b| generate(Dialect::Anthropic, s, c, m, u, h, b)),
        )
        .route(
            "/api/chat",
            post(|s, c, m, u, h, b| generate(Dialect::Ollama, s, c, m, u, h, b)),
        )
        .route("/v1/embeddings", post(embeddings::openai_embeddings))
        .route("/api/embed", post(embeddings::ollama_embed))
        .route("/v1/models", get(models::openai_models))
        .route("/api/tags", get(models::ollama_tags))
        .route("/api/show", post(models::ollama_show))
        .route("/api/ps", get(models::ollama_ps))
        .route("/api/version", get(models::ollama_version))
        .route("/api/v0/models", get(models::lmstudio_v0_models))
        .route("/api/v0/models/{id}", get(models::lmstudio_v0_model))
        .route("/api/v1/models", get(models::lmstudio_v1_models))
        .route(
            "/__mock/requests",
            get(control::requests).delete(control::clear_requests),
        )
        .route(
            "/__mock/script",
            post(control::push_script).delete(control::clear_scripts),
        )
        .route("/__mock/stats", get(control::stats))
        .fallback(models::not_found)
        .layer(DefaultBodyLimit::max(64 * 1024 * 1024))
        .with_state(shared)
}

/// A JSON response.
pub(crate) fn json_response(status: StatusCode, body: &Value) -> Response {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    let mut r = Response::new(Body::from(bytes));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(crate::ticks::JSON_CONTENT_TYPE),
    );
    r
}

/// An error reply as a response (with `Retry-After` when set; a `Null` body is empty).
pub(crate) fn error_response(reply: &ErrorReply) -> Response {
    let mut r = if reply.body.is_null() {
        let mut r = Response::new(Body::empty());
        *r.status_mut() = reply.status;
        r
    } else {
        json_response(reply.status, &reply.body)
    };
    if let Some(secs) = reply.retry_after {
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    r
}

/// Waits the plan's latency, then applies faults that end the exchange before any answer:
/// connection faults, hangs before headers and status faults. `None` means "go on answering".
pub(crate) async fn pre_answer(
    plan: &Plan,
    conn: &ConnectionHandle,
    errors_as: Dialect,
    model: &str,
) -> Option<Response> {
    if !plan.latency.is_zero() {
        tokio::time::sleep(plan.latency).await;
    }
    match plan.fault? {
        Fault::Reset => {
            conn.reset();
            std::future::pending::<()>().await;
            None
        }
        Fault::Close => {
            conn.close();
            std::future::pending::<()>().await;
            None
        }
        Fault::HangBeforeHeaders => {
            std::future::pending::<()>().await;
            None
        }
        fault => status_fault(errors_as, fault, model, plan.retry_after_secs)
            .map(|reply| error_response(&reply)),
    }
}
