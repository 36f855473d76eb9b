//! The engine's error enum, and its one-way mapping into the classified `ProviderError` the
//! router decides on (so an embedded model that cannot serve falls back like any upstream).

use clawgate_providers::{FailureKind, ProviderError};
use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Error)]
pub enum EngineError {
    #[error(
        "clawgate was built without the embedded engine; rebuild with --features embedded \
         (cargo feature `llama` of clawgate-engine)"
    )]
    NotBuilt,
    #[error("model file not found: {path}")]
    ModelFileMissing { path: String },
    #[error("model `{requested}` is not served here (this engine serves `{served}`)")]
    UnknownModel { requested: String, served: String },
    #[error("failed to load {path}: {reason}")]
    Load { path: String, reason: String },
    #[error("prompt is {prompt_tokens} tokens; the context window is {limit} tokens")]
    ContextOverflow { prompt_tokens: u64, limit: u64 },
    #[error("unsupported request: {0}")]
    Unsupported(String),
    #[error("prompt rendering failed: {0}")]
    Template(String),
    #[error("llama.cpp failed: {0}")]
    Inference(String),
    #[error("{0}")]
    ForcedCallTruncated(String),
    #[error("the engine thread stopped")]
    EngineStopped,
}

impl From<EngineError> for ProviderError {
    fn from(err: EngineError) -> Self {
        let kind = match &err {
            // Not built in, or no file: this model cannot answer; a router falls back.
            EngineError::NotBuilt
            | EngineError::ModelFileMissing { .. }
            | EngineError::UnknownModel { .. } => FailureKind::ModelNotFound,
            EngineError::ContextOverflow {
                prompt_tokens,
                limit,
            } => FailureKind::ContextOverflow {
                requested: Some(*prompt_tokens),
                limit: Some(*limit),
            },
            EngineError::Unsupported(_) | EngineError::Template(_) => FailureKind::Format,
            EngineError::ForcedCallTruncated(_) => FailureKind::Truncated,
            EngineError::Load { .. } | EngineError::Inference(_) | EngineError::EngineStopped => {
                FailureKind::ServerError
            }
        };
        ProviderError::new(kind, err.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classification_table() {
        let cases = [
            (EngineError::NotBuilt, "model_not_found"),
            (
                EngineError::ModelFileMissing {
                    path: "m.gguf".into(),
                },
                "model_not_found",
            ),
            (
                EngineError::ContextOverflow {
                    prompt_tokens: 600,
                    limit: 512,
                },
                "context_overflow",
            ),
            (
                EngineError::Unsupported("forced tool call".into()),
                "format",
            ),
            (
                EngineError::Load {
                    path: "m.gguf".into(),
                    reason: "bad magic".into(),
                },
                "server_error",
            ),
        ];
        for (err, kind) in cases {
            assert_eq!(ProviderError::from(err).kind.name(), kind);
        }
    }

    #[test]
    fn overflow_carries_both_numbers() {
        let err = ProviderError::from(EngineError::ContextOverflow {
            prompt_tokens: 600,
            limit: 512,
        });
        assert_eq!(
            err.kind,
            FailureKind::ContextOverflow {
                requested: Some(600),
                limit: Some(512)
            }
        );
    }

    #[test]
    fn not_built_message_names_the_feature() {
        let err = ProviderError::from(EngineError::NotBuilt);
        assert!(err.message.contains("rebuild with --features embedded"));
    }
}
