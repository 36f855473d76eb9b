//! Plain data the engine is configured with and reports back: the model spec (filled from a
//! `llama-cpp` provider row in config by whoever wires the two), what a loaded model looks
//! like, load hooks for a progress display, and counters that tests and metrics read.

use std::path::{Path, PathBuf};

use serde::Serialize;

/// Output token cap when neither the request nor the spec sets one.
pub const DEFAULT_MAX_TOKENS: u32 = 512;

/// Sampling temperature when the request sets none (0 means greedy decoding).
pub const DEFAULT_TEMPERATURE: f32 = 0.8;

/// One GGUF model served in-process.
#[derive(Debug, Clone, PartialEq)]
pub struct EngineModelSpec {
    /// Model id as requests name it (`Request::model`); an empty request model also matches.
    pub id: String,
    /// The `.gguf` file. `~/` is expanded when the provider is built.
    pub path: PathBuf,
    /// Context window (n_ctx) to allocate. `None`: the GGUF's `<arch>.context_length`.
    pub context_window: Option<u32>,
    /// CPU threads for generation and prompt processing. `None`: all cores.
    pub threads: Option<usize>,
    /// A built-in template name (`gemma`, `chatml`, `llama3`, `phi3`, `mistral`) or a template
    /// llama.cpp recognises (its name or the Jinja text). `None`: the GGUF's own template,
    /// else the built-in one for the model's architecture.
    pub chat_template: Option<String>,
    /// Output cap when a request sets no `max_tokens`.
    pub max_tokens: u32,
}

impl EngineModelSpec {
    pub fn new(id: impl Into<String>, path: impl Into<PathBuf>) -> Self {
        Self {
            id: id.into(),
            path: path.into(),
            context_window: None,
            threads: None,
            chat_template: None,
            max_tokens: DEFAULT_MAX_TOKENS,
        }
    }

    pub fn with_context_window(mut self, n_ctx: u32) -> Self {
        self.context_window = Some(n_ctx);
        self
    }

    pub fn with_threads(mut self, threads: usize) -> Self {
        self.threads = Some(threads);
        self
    }

    pub fn with_chat_template(mut self, template: impl Into<String>) -> Self {
        self.chat_template = Some(template.into());
        self
    }

    pub fn with_max_tokens(mut self, max_tokens: u32) -> Self {
        self.max_tokens = max_tokens;
        self
    }

    /// Threads to use: the spec's, else the machine's available parallelism.
    pub fn effective_threads(&self) -> usize {
        self.threads
            .filter(|n| *n > 0)
            .or_else(|| std::thread::available_parallelism().ok().map(usize::from))
            .unwrap_or(1)
    }
}

/// Expands a leading `~/` with the home directory (config files write paths that way).
pub(crate) fn expand_home(path: &Path) -> PathBuf {
    let Ok(rest) = path.strip_prefix("~") else {
        return path.to_path_buf();
    };
    match std::env::var_os("HOME") {
        Some(home) if !home.is_empty() => PathBuf::from(home).join(rest),
        _ => path.to_path_buf(),
    }
}

/// Where the chat template in use came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "source", content = "name", rename_all = "snake_case")]
pub enum TemplateSource {
    /// `tokenizer.chat_template` in the GGUF, applied by llama.cpp.
    Gguf,
    /// `chat_template` in the spec, applied by llama.cpp.
    Spec(String),
    /// The built-in table in [`crate::templates`], by name.
    Builtin(String),
}

/// A loaded model, as reported by `warm()` and `model_info()`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelInfo {
    pub id: String,
    pub path: PathBuf,
    /// `general.architecture` from the GGUF (`gemma3`, `llama`, `qwen2`, ...).
    pub architecture: String,
    /// The context window allocated (n_ctx): what a prompt plus its output must fit in.
    pub context_window: u32,
    /// `<arch>.context_length` from the GGUF: what the model was trained for.
    pub train_context_window: u32,
    pub parameters: u64,
    pub size_bytes: u64,
    pub threads: usize,
    pub template: TemplateSource,
}

/// Hooks around loading the GGUF, for a progress display. All run on the engine thread, so
/// keep them quick. Every method has an empty default.
pub trait LoadObserver: Send + Sync {
    fn on_load_start(&self, _path: &Path) {}
    /// Fraction loaded, 0.0..=1.0, as llama.cpp reports it.
    fn on_load_progress(&self, _fraction: f32) {}
    /// `Ok` with the model, or the error message.
    fn on_load_done(&self, _result: Result<&ModelInfo, &str>) {}
}

/// Counters since the provider was built.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct EngineStats {
    /// Times the GGUF was loaded (1 once warm; more only after failed loads were retried).
    pub loads: u64,
    /// Requests that got past admission and started generating.
    pub requests_started: u64,
    /// Requests that ended with `Finished`.
    pub requests_finished: u64,
    /// Requests stopped because their client went away (stream or call dropped).
    pub requests_cancelled: u64,
    /// Output tokens sampled, over all requests.
    pub tokens_generated: u64,
    /// Prompt tokens evaluated, over all requests (prefix reuse makes this lower than the
    /// sum of prompt sizes).
    pub prompt_tokens_evaluated: u64,
}
