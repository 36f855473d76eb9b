//! Building a provider from its spec: the one constructor the router (and `models test`)
//! calls. Validation that can fail early (bad header names, an api that needs another crate)
//! happens here, so a request never fails for a config mistake.

use std::sync::Arc;

use reqwest::header::{HeaderName, HeaderValue};
use thiserror::Error;

use crate::adapters::anthropic::AnthropicProvider;
use crate::adapters::ollama::OllamaProvider;
use crate::adapters::openai_chat::OpenAiChatProvider;
use crate::adapters::openai_responses::OpenAiResponsesProvider;
use crate::spec::{ApiKind, ProviderSpec};
use crate::{HttpClient, Provider};

/// Why a provider could not be built.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ProviderBuildError {
    #[error(
        "provider `{provider}` uses api `llama-cpp`, which needs the embedded engine (build clawgate with cargo feature `embedded`)"
    )]
    NeedsEmbeddedEngine { provider: String },
    #[error("provider `{provider}` uses api `{api}`, which clawgate does not implement")]
    UnsupportedApi { provider: String, api: String },
    #[error("provider `{provider}`: invalid header `{name}`: {reason}")]
    InvalidHeader {
        provider: String,
        name: String,
        reason: String,
    },
    #[error("provider `{provider}`: base URL `{base_url}` is not a valid http(s) URL")]
    InvalidBaseUrl { provider: String, base_url: String },
    /// The in-process engine could not set the provider up.
    #[error("provider `{provider}`: {message}")]
    Engine { provider: String, message: String },
    #[error("could not build the HTTP client: {0}")]
    HttpClient(String),
}

fn check_headers<'a>(
    provider: &str,
    headers: impl IntoIterator<Item = (&'a String, &'a String)>,
) -> Result<(), ProviderBuildError> {
    for (name, value) in headers {
        let bad = |reason: String| ProviderBuildError::InvalidHeader {
            provider: provider.to_string(),
            name: name.clone(),
            reason,
        };
        HeaderName::from_bytes(name.as_bytes()).map_err(|e| bad(e.to_string()))?;
        HeaderValue::from_str(value).map_err(|e| bad(e.to_string()))?;
    }
    Ok(())
}

fn check_base_url(spec: &ProviderSpec) -> Result<(), ProviderBuildError> {
    let base = spec.base_url.trim();
    if base.is_empty() {
        return Ok(());
    }
    let ok = reqwest::Url::parse(base)
        .map(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
        .unwrap_or(false);
    if ok {
        Ok(())
    } else {
        Err(ProviderBuildError::InvalidBaseUrl {
            provider: spec.id.clone(),
            base_url: clawgate_config::decode::redact_url(&spec.base_url),
        })
    }
}

/// Builds the in-process provider for a `llama-cpp` spec. The engine crate depends on this
/// one, so it cannot be called from here directly: the binary passes the engine's factory to
/// [`build_provider_with_engine`] when it is compiled with the `embedded` feature.
pub type EngineFactory =
    dyn Fn(&ProviderSpec) -> Result<Arc<dyn Provider>, ProviderBuildError> + Send + Sync;

/// Build the adapter for `spec.api` on the shared client (`llama-cpp` is an error: see
/// [`build_provider_with_engine`]).
pub fn build_provider(
    spec: &ProviderSpec,
    client: &HttpClient,
) -> Result<Arc<dyn Provider>, ProviderBuildError> {
    build_provider_with_engine(spec, client, None)
}

/// [`build_provider`], with the in-process engine's factory for `llama-cpp` specs.
pub fn build_provider_with_engine(
    spec: &ProviderSpec,
    client: &HttpClient,
    engine: Option<&EngineFactory>,
) -> Result<Arc<dyn Provider>, ProviderBuildError> {
    if spec.api == ApiKind::LlamaCpp {
        return match engine {
            Some(factory) => factory(spec),
            None => Err(ProviderBuildError::NeedsEmbeddedEngine {
                provider: spec.id.clone(),
            }),
        };
    }
    check_base_url(spec)?;
    check_headers(&spec.id, &spec.headers)?;
    for model in &spec.models {
        check_headers(&spec.id, &model.headers)?;
    }
    Ok(match spec.api {
        ApiKind::OpenAiCompletions => Arc::new(OpenAiChatProvider::new(spec, client)),
        ApiKind::OpenAiResponses => Arc::new(OpenAiResponsesProvider::new(spec, client)),
        ApiKind::AnthropicMessages => Arc::new(AnthropicProvider::new(spec, client)),
        ApiKind::Ollama => Arc::new(OllamaProvider::new(spec, client)),
        ApiKind::LlamaCpp => {
            return Err(ProviderBuildError::NeedsEmbeddedEngine {
                provider: spec.id.clone(),
            });
        }
        other => {
            return Err(ProviderBuildError::UnsupportedApi {
                provider: spec.id.clone(),
                api: other.as_str().to_string(),
            });
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::ModelInfo;

    fn client() -> HttpClient {
        match HttpClient::new() {
            Ok(c) => c,
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn llama_cpp_needs_the_engine_or_uses_its_factory() {
        let spec = ProviderSpec::new("local-gguf", ApiKind::LlamaCpp, "");
        let err = build_provider(&spec, &client()).err();
        assert_eq!(
            err,
            Some(ProviderBuildError::NeedsEmbeddedEngine {
                provider: "local-gguf".into()
            })
        );
        assert!(err.is_some_and(|e| e.to_string().contains("cargo feature `embedded`")));

        let factory: &EngineFactory = &|spec: &ProviderSpec| {
            Err(ProviderBuildError::Engine {
                provider: spec.id.clone(),
                message: "factory was called".into(),
            })
        };
        let err = build_provider_with_engine(&spec, &client(), Some(factory)).err();
        assert!(err.is_some_and(|e| e.to_string().contains("factory was called")));
    }

    #[test]
    fn an_api_without_an_adapter_is_refused_by_name() {
        let spec = ProviderSpec::new("g", ApiKind::GoogleGenerativeAi, "http://127.0.0.1:1");
        assert_eq!(
            build_provider(&spec, &client()).err(),
            Some(ProviderBuildError::UnsupportedApi {
                provider: "g".into(),
                api: "google-generative-ai".into()
            })
        );
    }

    #[test]
    fn config_mistakes_fail_at_build_time() {
        let mut spec = ProviderSpec::new("x", ApiKind::OpenAiCompletions, "http://127.0.0.1:1/v1");
        spec.headers.insert("bad header".into(), "v".into());
        assert!(matches!(
            build_provider(&spec, &client()),
            Err(ProviderBuildError::InvalidHeader { .. })
        ));
        let mut spec = ProviderSpec::new("x", ApiKind::Ollama, "http://127.0.0.1:1");
        let mut row = ModelInfo::new("m");
        row.headers.insert("x-ok".into(), "line\nbreak".into());
        spec.models.push(row);
        assert!(matches!(
            build_provider(&spec, &client()),
            Err(ProviderBuildError::InvalidHeader { .. })
        ));
        let spec = ProviderSpec::new("x", ApiKind::AnthropicMessages, "ftp://example.com");
        assert!(matches!(
            build_provider(&spec, &client()),
            Err(ProviderBuildError::InvalidBaseUrl { .. })
        ));
        let spec = ProviderSpec::new("x", ApiKind::OpenAiResponses, "");
        assert!(
            build_provider(&spec, &client()).is_ok(),
            "empty base = api.openai.com"
        );
    }
}
