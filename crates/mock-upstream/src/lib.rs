//! mock-upstream: a scriptable fake LLM upstream for tests and benchmarks. A dev tool, never
//! a dependency of the product, and on purpose independent of it: it writes every dialect's
//! wire shapes itself (OpenAI chat completions and Responses, Anthropic Messages, Ollama
//! `/api/chat`, model listings of OpenAI, Ollama and LM Studio, embeddings at `/v1/embeddings`
//! and `/api/embed`), so a bug shared by one of
//! clawgate's encoders and its decoder cannot hide. It can answer like specific real servers
//! (their context-overflow wording, llama-cpp-python's repeated tool-call headers, LiteLLM's
//! data-only Responses stream, gpt-oss harmony in answer text, an orphan `</think>`, repeated
//! tool-call ids, a missing `/v1/responses`, a model without tools: `Quirk`) and fail in every
//! way the router must survive (`Fault`).
//!
//! ```no_run
//! # async fn demo() {
//! use mock_upstream::{Fault, MockConfig, MockServer, Script};
//! let mock = MockServer::start(MockConfig::default().chunks(8)).await;
//! mock.push_script(Script::fault(Fault::Status429)); // the next generation request gets a 429
//! let url = format!("{}/chat/completions", mock.openai_base_url());
//! # let _ = url;
//! assert_eq!(mock.requests().len(), 0);
//! mock.shutdown().await;
//! # }
//! ```
//!
//! Scripts layer: the `x-mock-script` request header (JSON) over the next matching queued
//! script (`push_script`, or `POST /__mock/script`) over `MockConfig::defaults`.

mod answer;
mod app;
mod config;
mod control;
mod dialect;
mod embeddings;
mod errors;
mod generate;
mod held_faults;
mod inbound;
mod log;
mod models;
mod paced;
mod script;
mod server;
mod ticks;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub use app::SCRIPT_HEADER;
pub use config::{DEFAULT_MODEL, MockConfig, MockModel};
pub use errors::{MID_STREAM_MESSAGE, MockError};
pub use held_faults::LLAMA_DIFF_ERROR;
pub use inbound::Dialect;
pub use log::RecordedRequest;
pub use script::{DEFAULT_CHUNKS, Fault, OverflowServer, Quirk, Script, ToolCallScript};

use app::Shared;

/// A running mock server on loopback. Dropping it stops the server too; `shutdown` also
/// waits for the listener to close.
#[derive(Debug)]
pub struct MockServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    cancel: CancellationToken,
    task: Option<JoinHandle<()>>,
}

impl MockServer {
    /// Starts a server (panics if the loopback bind fails: a broken test environment).
    pub async fn start(config: MockConfig) -> MockServer {
        match MockServer::try_start(config).await {
            Ok(server) => server,
            Err(e) => panic!("mock-upstream: {e}"),
        }
    }

    /// Starts a server.
    pub async fn try_start(config: MockConfig) -> Result<MockServer, MockError> {
        let bind = config.bind;
        let listener = TcpListener::bind(bind)
            .await
            .map_err(|source| MockError::Bind { addr: bind, source })?;
        let addr = listener.local_addr().map_err(MockError::LocalAddr)?;
        let shared = Arc::new(Shared::new(config));
        let cancel = CancellationToken::new();
        let app = app::router(shared.clone());
        let task = tokio::spawn(server::accept_loop(
            listener,
            app,
            shared.connections.clone(),
            cancel.clone(),
        ));
        Ok(MockServer {
            addr,
            shared,
            cancel,
            task: Some(task),
        })
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT` (no path: Ollama and LM Studio native routes hang off it).
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `http://127.0.0.1:PORT/v1`, the base URL OpenAI-style clients are configured with.
    pub fn openai_base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// Queues a script for the next matching request.
    pub fn push_script(&self, script: Script) {
        self.shared.push_script(script);
    }

    /// Queues the same script for the next `times` matching requests.
    pub fn push_scripts(&self, script: Script, times: usize) {
        for _ in 0..times {
            self.shared.push_script(script.clone());
        }
    }

    /// Drops every queued script.
    pub fn clear_scripts(&self) {
        self.shared.clear_scripts();
    }

    /// Scripts still waiting for a request.
    pub fn queued_scripts(&self) -> usize {
        self.shared.queued_scripts()
    }

    /// The logged requests, oldest first (control requests under `/__mock/` excluded).
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.log.snapshot()
    }

    /// Empties the request log.
    pub fn clear_requests(&self) {
        self.shared.log.clear();
    }

    /// TCP connections accepted so far.
    pub fn connection_count(&self) -> u64 {
        self.shared.connections.accepted.load(Ordering::Relaxed)
    }

    /// TCP connections open now (a client's pooled idle connections included).
    pub fn open_connections(&self) -> u64 {
        self.shared.connections.open.load(Ordering::Relaxed)
    }

    /// Requests received so far (control requests excluded; counted even when the log is off).
    pub fn request_count(&self) -> u64 {
        self.shared.requests.load(Ordering::Relaxed)
    }

    /// Streamed answers sent to their end so far.
    pub fn streams_completed(&self) -> u64 {
        self.shared.streams.completed.load(Ordering::Relaxed)
    }

    /// Streamed answers whose client went away before their end (the connection closed).
    pub fn streams_abandoned(&self) -> u64 {
        self.shared.streams.abandoned.load(Ordering::Relaxed)
    }

    /// Stops accepting, drops every open connection and waits for the listener to close.
    pub async fn shutdown(mut self) {
        self.cancel.cancel();
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}
