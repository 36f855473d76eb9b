//! Errors a codec can report. `Upstream` is an error the upstream itself put inside a body or
//! stream (an `error` event in a 200 stream, an error object in a response): the providers
//! crate classifies it; the codec only extracts what the upstream said.

use thiserror::Error;

use crate::StopReason;

#[derive(Debug, Clone, PartialEq, Error)]
pub enum WireError {
    /// The bytes are not JSON, or not the JSON this dialect defines.
    #[error("malformed {dialect} payload at {path}: {message}")]
    Malformed {
        dialect: &'static str,
        /// JSON path of the offending value (`$.messages[2].content`), or `$` for the body.
        path: String,
        message: String,
    },
    /// The upstream reported an error inside a body or a stream.
    #[error("upstream error{}: {message}", code.as_deref().map(|c| format!(" ({c})")).unwrap_or_default())]
    Upstream {
        /// HTTP-like status carried inside the payload, when there is one.
        status: Option<u16>,
        /// Machine code (`context_length_exceeded`, `overloaded_error`, ...).
        code: Option<String>,
        message: String,
    },
    /// The stream ended before any event.
    #[error("upstream stream ended without any event")]
    EmptyStream,
    /// The stream ended after content but without a finish reason.
    #[error("upstream stream ended without a finish reason")]
    Truncated,
}

impl WireError {
    /// A stream that ended without its finish: cut off after content, or empty.
    pub(crate) fn unfinished(saw_content: bool) -> Self {
        if saw_content {
            WireError::Truncated
        } else {
            WireError::EmptyStream
        }
    }

    /// How a stream that ended stands: the stop reason it announced, or why it is not a whole
    /// answer (nothing started, or no finish after what came).
    pub(crate) fn check_end(
        started: bool,
        stop: Option<StopReason>,
        saw_content: bool,
    ) -> Result<StopReason, Self> {
        if !started {
            return Err(WireError::EmptyStream);
        }
        stop.ok_or(WireError::unfinished(saw_content))
    }
}
