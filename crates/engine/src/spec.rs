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
    /// CPU threads for generation and prompt processing. `None`: [`default_threads`].
    pub threads: Option<usize>,
    /// Prompt tokens evaluated per llama.cpp decode call (n_batch). `None`: 512.
    pub batch_size: Option<u32>,
    /// Layers to offload to a GPU (needs a GPU build; see docs/embedded-engine.md). `None`: 0.
    pub gpu_layers: Option<u32>,
    pub flash_attention: FlashAttention,
    /// Memory-map the weights (default on).
    pub mmap: bool,
    /// Lock the weights in RAM so they are never swapped out (default off).
    pub mlock: bool,
    /// `None`: the GGUF's own template, else the built-in one for a chat model's
    /// architecture, else (a base model) the plain transcript.
    pub chat_template: Option<ChatTemplateSetting>,
    /// Sampling defaults; a request's own values win.
    pub sampling: SamplingDefaults,
    /// Output cap when a request sets no `max_tokens`.
    pub max_tokens: u32,
}

/// A chat template set in the spec (config `chatTemplate`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChatTemplateSetting {
    /// A built-in template (`gemma`, `chatml`, `llama3`, `phi3`, `mistral`) or `transcript`
    /// (the base-model prompt), by name.
    Named(String),
    /// Jinja source.
    Jinja(String),
    /// A file of Jinja source, read when the model loads.
    File(PathBuf),
}

impl ChatTemplateSetting {
    /// Jinja source when the text has Jinja markup, else a name.
    pub fn from_text(text: impl Into<String>) -> Self {
        let text = text.into();
        if text.contains("{{") || text.contains("{%") {
            ChatTemplateSetting::Jinja(text)
        } else {
            ChatTemplateSetting::Named(text)
        }
    }
}

/// llama.cpp's flash-attention policy.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FlashAttention {
    /// llama.cpp decides per backend and model.
    #[default]
    Auto,
    Enabled,
    Disabled,
}

/// Sampling settings a model row sets for requests that do not set their own.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct SamplingDefaults {
    /// 0 decodes greedily. Unset: [`DEFAULT_TEMPERATURE`].
    pub temperature: Option<f32>,
    pub top_p: Option<f32>,
    pub top_k: Option<u32>,
    pub min_p: Option<f32>,
    /// Penalty on tokens seen in the last 64 (1.0 = off).
    pub repeat_penalty: Option<f32>,
    /// Seed of the random draw. Unset: a random seed per request.
    pub seed: Option<u32>,
}

impl EngineModelSpec {
    pub fn new(id: impl Into<String>, path: impl Into<PathBuf>) -> Self {
        Self {
            id: id.into(),
            path: path.into(),
            context_window: None,
            threads: None,
            batch_size: None,
            gpu_layers: None,
            flash_attention: FlashAttention::Auto,
            mmap: true,
            mlock: false,
            chat_template: None,
            sampling: SamplingDefaults::default(),
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

    /// A built-in name, or Jinja source (text with `{{` or `{%`).
    pub fn with_chat_template(mut self, template: impl Into<String>) -> Self {
        self.chat_template = Some(ChatTemplateSetting::from_text(template));
        self
    }

    /// A file of Jinja source, read when the model loads.
    pub fn with_chat_template_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.chat_template = Some(ChatTemplateSetting::File(path.into()));
        self
    }

    pub fn with_batch_size(mut self, batch_size: u32) -> Self {
        self.batch_size = Some(batch_size);
        self
    }

    pub fn with_gpu_layers(mut self, layers: u32) -> Self {
        self.gpu_layers = Some(layers);
        self
    }

    pub fn with_flash_attention(mut self, policy: FlashAttention) -> Self {
        self.flash_attention = policy;
        self
    }

    pub fn with_mmap(mut self, mmap: bool) -> Self {
        self.mmap = mmap;
        self
    }

    pub fn with_mlock(mut self, mlock: bool) -> Self {
        self.mlock = mlock;
        self
    }

    pub fn with_sampling(mut self, sampling: SamplingDefaults) -> Self {
        self.sampling = sampling;
        self
    }

    pub fn with_max_tokens(mut self, max_tokens: u32) -> Self {
        self.max_tokens = max_tokens;
        self
    }

    /// Threads to use: the spec's, else [`default_threads`].
    pub fn effective_threads(&self) -> usize {
        self.threads
            .filter(|n| *n > 0)
            .unwrap_or_else(default_threads)
    }
}

/// Threads when the spec sets none: all cores (see docs/embedded-engine.md for the
/// measurements behind it).
pub fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
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
    /// `tokenizer.chat_template` in the GGUF (Jinja).
    Gguf,
    /// Jinja from the spec (config `chatTemplate`): inline, or the file named.
    Spec(String),
    /// The built-in table in [`crate::templates`], by name.
    Builtin(String),
    /// A base model: the plain-text transcript prompt.
    Transcript,
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
    /// Prompt tokens per decode call (n_batch).
    pub batch_size: u32,
    /// Layers offloaded to a GPU (0 in a CPU-only build, whatever the spec asks).
    pub gpu_layers: u32,
    /// llama.cpp's compute devices in this build (`CPU`, `CUDA0`, `Vulkan0`, …), each as
    /// `name (backend)`.
    pub devices: Vec<String>,
    pub flash_attention: FlashAttention,
    pub mmap: bool,
    /// Bytes of this process locked in RAM after loading (Linux; `None` without `mlock`).
    pub locked_bytes: Option<u64>,
    pub template: TemplateSource,
    /// A base model (no chat template, not chat-tuned): it continues a plain transcript, and
    /// calls tools only when a request forces a call.
    pub base_model: bool,
    /// How tool calls are written and read (`hermes`, `llama3`, `mistral`, `mistral-args`,
    /// `harmony`, `generic`).
    pub tool_call_format: String,
    pub sampling: SamplingDefaults,
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
