//! clawgate-wire: the canonical conversation and stream-event types, and one pure codec per
//! wire dialect (`openai_chat`, `openai_responses`, `anthropic`, `ollama`), each able to decode
//! and encode requests, full responses and streams. Also the SSE/NDJSON framing and the
//! reasoning-tag splitter, and the one token estimate of canonical text ([`token_estimate`]).
//!
//! Must not know about: I/O of any kind, configuration, HTTP clients or servers. Everything
//! here is a pure function or a push-driven state machine, so it is easy to test and fuzz.
//!
//! Every codec module has the same shape: `encode_request(&Request, &EncodeOptions) -> Value`,
//! `decode_request(&Value)`, `encode_response(&Response) -> Value`, `decode_response(&Value)`,
//! a stream `Decoder` ([`StreamDecoder`], `Decoder::new()`) and a stream `Encoder`
//! ([`StreamEncoder`], `Encoder::new(id, model)` plus dialect-specific `with_*` options). The
//! OpenAI dialects also write a whole answer as text with its creation time
//! (`write_response(&Response, created)`, the same object as `encode_response`). Each
//! module's `//!` states its normal form: what survives `decode(encode(x))` in that dialect.
//! Bytes become frames with [`sse::SseParser`] / [`ndjson::NdjsonParser`] and frames become
//! bytes with [`sse::write_frame`] / [`ndjson::write_line`] (or `…_into` a buffer) (Ollama uses NDJSON, the rest SSE).

pub mod canonical;
pub mod codec;
pub mod error;

pub use canonical::*;
pub use codec::{EncodeOptions, Frame, StreamDecoder, StreamEncoder, Think};
pub use error::WireError;

pub mod anthropic;
pub mod clock;
pub mod collect;
pub mod embeddings;
pub mod ndjson;
pub mod ollama;
pub mod openai_chat;
pub mod openai_responses;
pub mod reasoning_tags;
pub mod sse;
pub mod token_estimate;

mod json_at;
mod upstream_error;
