//! How a mock server is set up for a whole run: the default script every request starts
//! from, the models its listing routes advertise (with the context lengths discovery code
//! reads), and the request-log size. Builder methods keep test set-up to one expression.

use std::net::SocketAddr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::script::{Fault, Quirk, Script};

/// Set-up of one mock server.
#[derive(Debug, Clone)]
pub struct MockConfig {
    /// Address to bind; default `127.0.0.1:0` (a free port).
    pub bind: SocketAddr,
    /// The bottom script layer for every request.
    pub defaults: Script,
    /// Models advertised by `/v1/models`, `/api/tags`, `/api/show`, `/api/v0/models`, ….
    pub models: Vec<MockModel>,
    /// Answer 404 `model_not_found` for generation requests naming an unlisted model.
    pub strict_models: bool,
    /// How many requests the log keeps (oldest dropped first); 0 turns the log off.
    pub request_log_capacity: usize,
}

impl Default for MockConfig {
    fn default() -> Self {
        MockConfig {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            defaults: Script::default(),
            models: vec![MockModel::new(DEFAULT_MODEL, 8192)],
            strict_models: false,
            request_log_capacity: 10_000,
        }
    }
}

/// The model id used when none is configured.
pub const DEFAULT_MODEL: &str = "mock-model";

impl MockConfig {
    /// Delay before response headers.
    pub fn latency(mut self, d: Duration) -> Self {
        self.defaults.latency_ms = Some(duration_ms(d));
        self
    }
    /// Delay before the first streamed frame.
    pub fn ttft(mut self, d: Duration) -> Self {
        self.defaults.ttft_ms = Some(duration_ms(d));
        self
    }
    /// Answer text pieces per response.
    pub fn chunks(mut self, n: usize) -> Self {
        self.defaults.chunks = Some(n);
        self
    }
    /// Pause between streamed frames.
    pub fn chunk_interval(mut self, d: Duration) -> Self {
        self.defaults.chunk_interval_ms = Some(duration_ms(d));
        self
    }
    /// Report usage or not.
    pub fn usage(mut self, on: bool) -> Self {
        self.defaults.usage = Some(on);
        self
    }
    /// Fail every request this way (unless a queued or header script says otherwise).
    pub fn fault(mut self, fault: Fault) -> Self {
        self.defaults.fault = Some(fault);
        self
    }
    /// Reproduce a server quirk on every request.
    pub fn quirk(mut self, quirk: Quirk) -> Self {
        self.defaults
            .quirks
            .get_or_insert_with(Vec::new)
            .push(quirk);
        self
    }
    /// Replace the whole default script.
    pub fn script(mut self, script: Script) -> Self {
        self.defaults = script;
        self
    }
    /// Replace the advertised models.
    pub fn models(mut self, models: Vec<MockModel>) -> Self {
        self.models = models;
        self
    }
    /// Add one advertised model.
    pub fn model(mut self, model: MockModel) -> Self {
        self.models.push(model);
        self
    }
    /// Unknown models get 404.
    pub fn strict_models(mut self, on: bool) -> Self {
        self.strict_models = on;
        self
    }
    /// Request-log capacity (0 = off).
    pub fn request_log_capacity(mut self, n: usize) -> Self {
        self.request_log_capacity = n;
        self
    }
    /// Bind address (port 0 = any free port).
    pub fn bind(mut self, addr: SocketAddr) -> Self {
        self.bind = addr;
        self
    }

    pub(crate) fn find_model(&self, id: &str) -> Option<&MockModel> {
        self.models.iter().find(|m| m.id == id)
    }
}

fn duration_ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// One advertised model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MockModel {
    pub id: String,
    /// The context the server runs the model with (Ollama `model_info`, LM Studio
    /// `loaded_context_length`, vLLM `max_model_len`).
    pub context_length: u64,
    /// The model's trained maximum (LM Studio `max_context_length`); default = `context_length`.
    pub max_context_length: Option<u64>,
    /// LM Studio `state`: loaded or not-loaded (a not-loaded model has no loaded context).
    pub loaded: bool,
    /// Ollama capabilities (`completion`, `tools`, `thinking`, `vision`, …).
    pub capabilities: Vec<String>,
    /// Architecture name (Ollama `general.architecture`, the `<arch>.context_length` key).
    pub arch: String,
}

impl Default for MockModel {
    fn default() -> Self {
        MockModel::new(DEFAULT_MODEL, 8192)
    }
}

impl MockModel {
    /// A loaded model with `completion` + `tools` capabilities and arch `llama`.
    pub fn new(id: impl Into<String>, context_length: u64) -> Self {
        MockModel {
            id: id.into(),
            context_length,
            max_context_length: None,
            loaded: true,
            capabilities: vec!["completion".into(), "tools".into()],
            arch: "llama".into(),
        }
    }
    /// Set the trained maximum context.
    pub fn max_context(mut self, n: u64) -> Self {
        self.max_context_length = Some(n);
        self
    }
    /// Mark as not loaded (LM Studio).
    pub fn not_loaded(mut self) -> Self {
        self.loaded = false;
        self
    }
    /// Replace the capabilities.
    pub fn capabilities(mut self, caps: &[&str]) -> Self {
        self.capabilities = caps.iter().map(|c| (*c).to_owned()).collect();
        self
    }
    /// Set the architecture.
    pub fn arch(mut self, arch: impl Into<String>) -> Self {
        self.arch = arch.into();
        self
    }
    pub(crate) fn trained_context(&self) -> u64 {
        self.max_context_length.unwrap_or(self.context_length)
    }
}
