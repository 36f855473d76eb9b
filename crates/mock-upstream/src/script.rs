//! What one answer should look like: the `Script` a test writes (every field optional, so
//! scripts layer: per-request header over queued script over the server's defaults), the
//! closed set of `Fault`s, the overflow wordings of real servers, and the `Plan` a handler
//! follows once the layers are resolved. Scripts are plain serde types so the same JSON works
//! in the `x-mock-script` header, in `POST /__mock/script` and in Rust.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One layer of instructions for an answer. `None` means "take it from the layer below".
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Script {
    /// Delay before the response headers.
    pub latency_ms: Option<u64>,
    /// Delay between the headers and the first streamed frame (added to latency when not streaming).
    pub ttft_ms: Option<u64>,
    /// Number of answer text pieces (and of reasoning / tool-argument pieces).
    pub chunks: Option<usize>,
    /// Pause between streamed frames after the first.
    pub chunk_interval_ms: Option<u64>,
    /// Report token usage (streams: only when the client asks, as real servers do).
    pub usage: Option<bool>,
    /// The answer text; default `mock answer to: <last user text>`.
    pub text: Option<String>,
    /// Reasoning to emit before the answer, in the dialect's own reasoning field.
    pub reasoning: Option<String>,
    /// Answer with a tool call (`{}` calls the first tool the request offers).
    pub tool_call: Option<ToolCallScript>,
    /// Fail in this way instead of answering.
    pub fault: Option<Fault>,
    /// Whose wording a `context_overflow` uses (default: the dialect's own vendor).
    pub overflow_server: Option<OverflowServer>,
    /// The context limit an overflow error states (default: the model's context length).
    pub context_limit: Option<u64>,
    /// The token count an overflow error states (default: limit + 1000).
    pub requested_tokens: Option<u64>,
    /// `Retry-After` seconds on `status_429` (default 1).
    pub retry_after_secs: Option<u64>,
    /// Real servers' quirks to reproduce (replaces the lower layer's list when set).
    pub quirks: Option<Vec<Quirk>>,
    /// Queue matching: only a request for this model takes the script.
    pub when_model: Option<String>,
    /// Queue matching: only a request to this path takes the script. Without it, only
    /// generation routes take queued scripts (model listings never do).
    pub when_path: Option<String>,
}

/// A scripted tool call.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ToolCallScript {
    /// Tool name; default: the forced tool, else the request's first tool, else `mock_tool`.
    pub name: Option<String>,
    /// Arguments object; default: filled in from the tool's JSON schema.
    pub arguments: Option<Value>,
}

/// The ways an answer can fail. Names are the snake_case strings used on the CLI and in JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fault {
    /// TCP reset (RST) without any response bytes.
    Reset,
    /// Orderly close (FIN) without any response bytes.
    Close,
    /// Accept the request and never send headers.
    HangBeforeHeaders,
    /// Stream up to the first answer frame, then stall forever.
    HangAfterFirstChunk,
    /// Stream up to the first answer frame, then reset the connection.
    ResetAfterFirstChunk,
    /// 429 with `Retry-After`.
    #[serde(rename = "status_429")]
    Status429,
    /// 500 in the dialect's error shape.
    #[serde(rename = "status_500")]
    Status500,
    /// 503 in the dialect's error shape.
    #[serde(rename = "status_503")]
    Status503,
    /// 401 (bad key).
    #[serde(rename = "status_401")]
    Status401,
    /// 402 (billing / credits).
    #[serde(rename = "status_402")]
    Status402,
    /// 404 naming the requested model.
    ModelNotFound,
    /// A 200 stream that carries an error event (dialect shape) after the first answer frame.
    ErrorInStream,
    /// A 200 with the right content type and an empty body (llama-cpp-python on overflow).
    #[serde(rename = "empty_200_stream")]
    Empty200Stream,
    /// A frame that is not valid JSON (non-stream: a cut JSON body).
    MalformedSse,
    /// Answer frames, then a clean end without finish / `[DONE]` / `message_stop` / `done`.
    TruncatedStream,
    /// Context-window overflow in `overflow_server`'s wording (and its stream behaviour).
    ContextOverflow,
    /// Streamed: a tool call and the first half of its argument pieces, then llama.cpp's
    /// `Invalid diff: now finding less tool calls!` error (chat; the dialect's own error event
    /// elsewhere). Not streamed: the whole answer. Answers with a tool call even when the
    /// script names none.
    ToolCallDiffError,
}

impl Fault {
    /// Every fault, for `--help` and for tests that walk them all.
    pub const ALL: [Fault; 17] = [
        Fault::Reset,
        Fault::Close,
        Fault::HangBeforeHeaders,
        Fault::HangAfterFirstChunk,
        Fault::ResetAfterFirstChunk,
        Fault::Status429,
        Fault::Status500,
        Fault::Status503,
        Fault::Status401,
        Fault::Status402,
        Fault::ModelNotFound,
        Fault::ErrorInStream,
        Fault::Empty200Stream,
        Fault::MalformedSse,
        Fault::TruncatedStream,
        Fault::ContextOverflow,
        Fault::ToolCallDiffError,
    ];
}

/// Servers whose context-overflow answers differ (status, body shape, wording, stream behaviour).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OverflowServer {
    /// llama-cpp-python: 400 `context_length_exceeded`; streaming: an empty 200.
    LlamaCppPython,
    /// llama.cpp's own `llama-server`: 400 `exceed_context_size_error` with `n_ctx`.
    LlamaServer,
    /// vLLM: 400 `BadRequestError`, "However, your request has N input tokens".
    Vllm,
    /// SGLang: 400 top-level `{"object":"error"}`, "The input (N tokens) is longer than…".
    Sglang,
    /// LM Studio: 400 `{"error":"…loaded with context length of only N tokens…"}`.
    LmStudio,
    /// Ollama: 400 `{"error":"the input length exceeds the context length"}`.
    Ollama,
    /// OpenAI: 400 `context_length_exceeded`.
    Openai,
    /// Anthropic: 400 "prompt is too long: N tokens > M maximum".
    Anthropic,
    /// LiteLLM proxy: 400 `ContextWindowExceededError`; streaming: masked as a `stop`.
    Litellm,
    // Wordings read from the servers' sources (issue 10, wire side).
    /// llama.cpp's server when generation fills the context: 500 "Context size has been
    /// exceeded."; streaming: a 200 whose first event is that error.
    LlamaServerContextSize,
    /// Older llama.cpp servers: 500 "Input prompt is too big compared to KV size. …".
    LlamaServerKvSize,
    /// LM Studio: 400 `{"error":"Context size has been exceeded."}`.
    LmStudioContextSize,
    /// LM Studio: 400 "The number of tokens to keep from the initial prompt is greater than
    /// the context length (n_keep: N >= n_ctx: M). …".
    LmStudioKeep,
    /// Ollama: 400 "the prompt is longer than the context length currently available …".
    OllamaPromptLonger,
    /// Older Ollama runners: 500 "prompt too long; exceeded max context length by N tokens".
    OllamaPromptTooLong,
    /// vLLM ≥ 0.10: "… you requested N output tokens and your prompt contains at least M
    /// input tokens, for a total of at least T tokens. …".
    VllmTotal,
    /// SGLang's scheduler: "Input length (N tokens) exceeds the maximum allowed length (M
    /// tokens). …".
    SglangInputLength,
}

impl OverflowServer {
    /// Every wording, for `--help` and tests.
    pub const ALL: [OverflowServer; 17] = [
        OverflowServer::LlamaCppPython,
        OverflowServer::LlamaServer,
        OverflowServer::Vllm,
        OverflowServer::Sglang,
        OverflowServer::LmStudio,
        OverflowServer::Ollama,
        OverflowServer::Openai,
        OverflowServer::Anthropic,
        OverflowServer::Litellm,
        // Issue 10, wire side.
        OverflowServer::LlamaServerContextSize,
        OverflowServer::LlamaServerKvSize,
        OverflowServer::LmStudioContextSize,
        OverflowServer::LmStudioKeep,
        OverflowServer::OllamaPromptLonger,
        OverflowServer::OllamaPromptTooLong,
        OverflowServer::VllmTotal,
        OverflowServer::SglangInputLength,
    ];
}

/// Wire quirks of real servers that clients must survive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Quirk {
    /// Chat streams: every tool-call chunk repeats `id`, `type` and `function.name`, and a
    /// legacy `function_call` delta rides along (llama-cpp-python).
    RepeatToolCallHeader,
    /// Responses streams: `data:` lines only (no `event:`), no `sequence_number`, and a final
    /// `data: [DONE]` (LiteLLM's bridge).
    ResponsesDataOnly,
    /// Reasoning travels as `<think>…</think>` inside the answer text (servers without a
    /// reasoning parser).
    ThinkTagsInContent,
    /// Chat: reasoning in `reasoning` instead of `reasoning_content` (LM Studio, OpenRouter).
    ReasoningField,
    // Answers local servers give that clawgate turns into clean ones (issue 10, wire side).
    /// The whole answer as gpt-oss harmony markup inside the answer text: reasoning on the
    /// `analysis` channel, then the text on `final` or the tool call as `commentary
    /// to=functions.<name>` (LM Studio's Responses `output_text`, servers without a harmony
    /// parser). The server did not parse it, so it reports no tool call and stop `stop`.
    HarmonyInContent,
    /// Reasoning in the answer text closed by `</think>` with no opening tag (vLLM/SGLang
    /// reasoning parsers for MiniMax M2, GLM, Qwen3 whose template opens the block).
    OrphanThinkClose,
    /// Reasoning and no answer text at all (Ollama streaming `thinking` when no `think` was
    /// sent). Uses the scripted reasoning, or a default one.
    ThinkingOnly,
    /// Tool calls always get the id `functions.<name>:0` (Kimi K2 numbering restarts each
    /// turn); Anthropic `toolu_0`. Ollama sends no ids anyway.
    RepeatedToolIds,
    /// No `/v1/responses` route: 404 with an empty body there (a plain `/v1` proxy).
    NoResponsesRoute404,
    /// No `/v1/responses` route: 405 with an empty body there.
    NoResponsesRoute405,
    /// No `/v1/responses` route: 501 with an empty body there.
    NoResponsesRoute501,
    /// LiteLLM in front of a server without `/v1/responses`: its 404 wrapping the upstream's
    /// `{"detail":"Not Found"}`.
    LitellmNoResponsesRoute,
    /// A model without tool support: 400 "`<model>` does not support tools" whenever the
    /// request offers tools (Ollama; its `/v1` answers the same in OpenAI's error shape).
    ToolsUnsupported,
    /// A server started without embeddings: llama.cpp's 501 "This server does not support
    /// embeddings. Start it with `--embeddings`" on `/v1/embeddings` and `/api/embed`.
    NoEmbeddings,
}

macro_rules! snake_case_from_str {
    ($ty:ty, $what:literal) => {
        impl FromStr for $ty {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                serde_json::from_value(Value::String(s.to_owned())).map_err(|_| {
                    let names: Vec<String> = Self::ALL.iter().map(|v| v.to_string()).collect();
                    format!("unknown {} `{s}` (one of: {})", $what, names.join(", "))
                })
            }
        }
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match serde_json::to_value(self) {
                    Ok(Value::String(s)) => f.write_str(&s),
                    _ => write!(f, "{self:?}"),
                }
            }
        }
    };
}

snake_case_from_str!(Fault, "fault");
snake_case_from_str!(OverflowServer, "overflow server");

impl Quirk {
    /// Every quirk, for `--help`.
    pub const ALL: [Quirk; 14] = [
        Quirk::RepeatToolCallHeader,
        Quirk::ResponsesDataOnly,
        Quirk::ThinkTagsInContent,
        Quirk::ReasoningField,
        // Issue 10, wire side.
        Quirk::HarmonyInContent,
        Quirk::OrphanThinkClose,
        Quirk::ThinkingOnly,
        Quirk::RepeatedToolIds,
        Quirk::NoResponsesRoute404,
        Quirk::NoResponsesRoute405,
        Quirk::NoResponsesRoute501,
        Quirk::LitellmNoResponsesRoute,
        Quirk::ToolsUnsupported,
        Quirk::NoEmbeddings,
    ];
}
snake_case_from_str!(Quirk, "quirk");

impl Script {
    /// Fills every unset field of `self` from `lower`.
    pub fn over(mut self, lower: &Script) -> Script {
        macro_rules! fill {
            ($($f:ident),*) => { $( if self.$f.is_none() { self.$f = lower.$f.clone(); } )* };
        }
        fill!(
            latency_ms,
            ttft_ms,
            chunks,
            chunk_interval_ms,
            usage,
            text,
            reasoning,
            tool_call,
            fault,
            overflow_server,
            context_limit,
            requested_tokens,
            retry_after_secs,
            quirks
        );
        self
    }

    /// The concrete plan, with built-in defaults for whatever no layer set.
    pub fn plan(&self) -> Plan {
        Plan {
            latency: Duration::from_millis(self.latency_ms.unwrap_or(0)),
            ttft: Duration::from_millis(self.ttft_ms.unwrap_or(0)),
            chunks: self.chunks.unwrap_or(DEFAULT_CHUNKS).max(1),
            chunk_interval: Duration::from_millis(self.chunk_interval_ms.unwrap_or(0)),
            usage: self.usage.unwrap_or(true),
            text: self.text.clone(),
            reasoning: self.reasoning.clone(),
            tool_call: self.tool_call.clone(),
            fault: self.fault,
            overflow_server: self.overflow_server,
            context_limit: self.context_limit,
            requested_tokens: self.requested_tokens,
            retry_after_secs: self.retry_after_secs.unwrap_or(1),
            quirks: self.quirks.clone().unwrap_or_default(),
        }
    }

    /// Whether a queued script may be taken by this request.
    pub(crate) fn matches(&self, path: &str, model: Option<&str>, generation: bool) -> bool {
        let path_ok = match &self.when_path {
            Some(p) => p == path,
            None => generation,
        };
        let model_ok = match &self.when_model {
            Some(m) => model == Some(m.as_str()),
            None => true,
        };
        path_ok && model_ok
    }

    /// Builder: a fault.
    pub fn fault(fault: Fault) -> Script {
        Script {
            fault: Some(fault),
            ..Script::default()
        }
    }

    /// Builder: a plain text answer.
    pub fn text(text: impl Into<String>) -> Script {
        Script {
            text: Some(text.into()),
            ..Script::default()
        }
    }

    /// Builder: a context overflow in `server`'s wording.
    pub fn overflow(server: OverflowServer) -> Script {
        Script {
            fault: Some(Fault::ContextOverflow),
            overflow_server: Some(server),
            ..Script::default()
        }
    }

    /// Builder: only for requests naming `model`.
    pub fn for_model(mut self, model: impl Into<String>) -> Script {
        self.when_model = Some(model.into());
        self
    }

    /// Builder: add a reasoning text.
    pub fn with_reasoning(mut self, reasoning: impl Into<String>) -> Script {
        self.reasoning = Some(reasoning.into());
        self
    }

    /// Builder: answer with a call of `name` with `arguments`.
    pub fn with_tool_call(mut self, name: impl Into<String>, arguments: Value) -> Script {
        self.tool_call = Some(ToolCallScript {
            name: Some(name.into()),
            arguments: Some(arguments),
        });
        self
    }

    /// Builder: add a quirk.
    pub fn with_quirk(mut self, quirk: Quirk) -> Script {
        self.quirks.get_or_insert_with(Vec::new).push(quirk);
        self
    }
}

/// Answer pieces when nobody says otherwise.
pub const DEFAULT_CHUNKS: usize = 4;

/// A resolved script: what the handler does for one request.
#[derive(Debug, Clone)]
pub struct Plan {
    pub latency: Duration,
    pub ttft: Duration,
    pub chunks: usize,
    pub chunk_interval: Duration,
    pub usage: bool,
    pub text: Option<String>,
    pub reasoning: Option<String>,
    pub tool_call: Option<ToolCallScript>,
    pub fault: Option<Fault>,
    pub overflow_server: Option<OverflowServer>,
    pub context_limit: Option<u64>,
    pub requested_tokens: Option<u64>,
    pub retry_after_secs: u64,
    pub quirks: Vec<Quirk>,
}

impl Plan {
    pub(crate) fn has(&self, quirk: Quirk) -> bool {
        self.quirks.contains(&quirk)
    }
}
