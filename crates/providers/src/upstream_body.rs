//! The one place a prepared canonical request becomes the body sent upstream, in any dialect:
//! the pure wire codec with the options compat resolves (`compat::resolve_encode_options`),
//! then the body fixes no codec can know about (`compat`, `chat_compat`), then the model's
//! `params` (`request_params`, last, so `extra_body` wins). Every HTTP adapter and the
//! Responses-to-chat bridge encode through [`encode_upstream`].

use clawgate_wire::{Request, anthropic, ollama, openai_chat, openai_responses};
use serde_json::Value;

use crate::chat_compat;
use crate::compat::{
    adjust_anthropic_body, adjust_openai_body, ollama_think, resolve_encode_options,
};
use crate::request_params::apply_to_body;
use crate::spec::{ApiKind, ProviderSpec};

/// The upstream body of `request` (already prepared: `AdapterCore::prepare`) in dialect
/// `api` on `spec`'s server.
pub fn encode_upstream(spec: &ProviderSpec, api: ApiKind, request: &Request) -> Value {
    let model = request.model.as_str();
    let mut options = resolve_encode_options(spec, model);
    let mut body = match api {
        ApiKind::OpenAiCompletions => openai_chat::encode_request(request, &options),
        ApiKind::OpenAiResponses => openai_responses::encode_request(request, &options),
        ApiKind::AnthropicMessages => anthropic::encode_request(request, &options),
        ApiKind::Ollama => {
            options.think = ollama_think(spec, request);
            ollama::encode_request(request, &options)
        }
        // The in-process engine takes the canonical request itself; apis without an adapter
        // never get here (`build_provider` refuses them).
        _ => return Value::Null,
    };
    match api {
        ApiKind::OpenAiCompletions => {
            adjust_openai_body(spec, api, model, &options, &mut body);
            chat_compat::apply(spec, request, options.string_content, &mut body);
        }
        ApiKind::OpenAiResponses => adjust_openai_body(spec, api, model, &options, &mut body),
        ApiKind::AnthropicMessages => adjust_anthropic_body(&spec.compat_for(model), &mut body),
        _ => {}
    }
    apply_to_body(api, spec.params_for(model), &mut body);
    body
}
