//! Context-overflow answers in each real server's status, shape and wording, and the two
//! servers that answer a streamed overflow with a 200.

use mock_upstream::{MockConfig, MockModel, MockServer, OverflowServer, Script};
use serde_json::{Value, json};

use crate::support::*;

fn message(body: &Value) -> String {
    let m = body["error"]["message"]
        .as_str()
        .or_else(|| body["error"].as_str())
        .or_else(|| body["message"].as_str());
    m.unwrap_or_else(|| panic!("no message in {body}"))
        .to_owned()
}

#[tokio::test]
async fn every_server_wording_is_a_400_or_500_naming_the_limit() {
    let mock = MockServer::start(MockConfig::default()).await;
    for server in OverflowServer::ALL {
        mock.push_script(Script {
            context_limit: Some(4096),
            requested_tokens: Some(13915),
            ..Script::overflow(server)
        });
        let (status, body) = post_json(&mock, "/v1/chat/completions", &chat(false)).await;
        let want_status = match server {
            OverflowServer::LlamaServerContextSize
            | OverflowServer::LlamaServerKvSize
            | OverflowServer::OllamaPromptTooLong => 500,
            _ => 400,
        };
        assert_eq!(status, want_status, "{server}");
        let msg = message(&body);
        let expected: &[&str] = match server {
            OverflowServer::LlamaCppPython => &[
                "This model's maximum context length is 4096 tokens. However, you requested 13915 tokens",
            ],
            OverflowServer::LlamaServer => &["exceeds the available context size (4096 tokens)"],
            OverflowServer::Vllm => &["However, your request has 13915 input tokens"],
            OverflowServer::Sglang => &[
                "The input (13915 tokens) is longer than the model's context length (4096 tokens)",
            ],
            OverflowServer::LmStudio => &["loaded with context length of only 4096 tokens"],
            OverflowServer::Ollama => &["the input length exceeds the context length"],
            OverflowServer::Openai => &["maximum context length is 4096 tokens"],
            OverflowServer::Anthropic => &["prompt is too long: 13915 tokens > 4096 maximum"],
            OverflowServer::Litellm => &["ContextWindowExceededError", "4096 tokens"],
            // Issue 10, wire side.
            OverflowServer::LlamaServerContextSize => &["Context size has been exceeded."],
            OverflowServer::LlamaServerKvSize => &["too big compared to KV size"],
            OverflowServer::LmStudioContextSize => &["Context size has been exceeded."],
            OverflowServer::LmStudioKeep => &["(n_keep: 13915 >= n_ctx: 4096)"],
            OverflowServer::OllamaPromptLonger => &["the prompt is longer than the context length"],
            OverflowServer::OllamaPromptTooLong => &["exceeded max context length by 9819 tokens"],
            OverflowServer::VllmTotal => &[
                "maximum context length is 4096 tokens",
                "for a total of at least 13915 tokens",
            ],
            OverflowServer::SglangInputLength => {
                &["Input length (13915 tokens) exceeds the maximum allowed length (4096 tokens)"]
            }
        };
        for e in expected {
            assert!(msg.contains(e), "{server}: {msg}");
        }
    }
}

#[tokio::test]
async fn codes_and_shapes_match_the_servers() {
    let mock = MockServer::start(MockConfig::default()).await;
    mock.push_script(Script::overflow(OverflowServer::LlamaCppPython));
    let (_, b) = post_json(&mock, "/v1/chat/completions", &chat(false)).await;
    assert_eq!(b["error"]["code"], "context_length_exceeded");
    mock.push_script(Script::overflow(OverflowServer::LlamaServer));
    let (_, b) = post_json(&mock, "/v1/chat/completions", &chat(false)).await;
    assert_eq!(b["error"]["type"], "exceed_context_size_error");
    assert_eq!(b["error"]["n_ctx"], 8192, "the listed model's context");
    mock.push_script(Script::overflow(OverflowServer::Sglang));
    let (_, b) = post_json(&mock, "/v1/chat/completions", &chat(false)).await;
    assert_eq!(b["object"], "error");
    mock.push_script(Script::overflow(OverflowServer::Litellm));
    let (_, b) = post_json(&mock, "/v1/chat/completions", &chat(false)).await;
    assert_eq!(b["error"]["code"], "400", "LiteLLM loses the upstream code");
}

#[tokio::test]
async fn dialect_defaults_pick_the_vendor_wording() {
    let mock =
        MockServer::start(MockConfig::default().models(vec![MockModel::new("mock-model", 2048)]))
            .await;
    mock.push_script(Script::overflow(OverflowServer::Vllm).for_model("nobody"));
    mock.clear_scripts();
    assert_eq!(mock.queued_scripts(), 0);
    let overflow = Script {
        fault: Some(mock_upstream::Fault::ContextOverflow),
        ..Script::default()
    };
    mock.push_script(overflow.clone());
    let (_, b) = post_json(&mock, "/v1/messages", &anthropic(false)).await;
    assert_eq!(b["type"], "error");
    assert!(message(&b).contains("> 2048 maximum"), "{b}");
    mock.push_script(overflow.clone());
    let (_, b) = post_json(&mock, "/api/chat", &ollama(false)).await;
    assert_eq!(
        b,
        json!({"error": "the input length exceeds the context length"})
    );
    mock.push_script(overflow);
    let (_, b) = post_json(&mock, "/v1/responses", &responses(false)).await;
    assert_eq!(b["error"]["code"], "context_length_exceeded");
    assert_eq!(b["error"]["param"], "input");
}

#[tokio::test]
async fn llama_cpp_python_streams_an_empty_200_and_litellm_masks_it_as_stop() {
    let mock = MockServer::start(MockConfig::default()).await;
    mock.push_script(Script::overflow(OverflowServer::LlamaCppPython));
    let (status, ct, text) = stream_text(&mock, "/v1/chat/completions", &chat(true)).await;
    assert_eq!(status, 200);
    assert!(ct.starts_with("text/event-stream"));
    assert_eq!(text, "");

    mock.push_script(Script::overflow(OverflowServer::Litellm));
    let (status, _, text) = stream_text(&mock, "/v1/chat/completions", &chat(true)).await;
    assert_eq!(status, 200);
    let events = parse_sse(&text);
    assert_eq!(events.len(), 2);
    let chunk = events[0].json();
    assert_eq!(chunk["choices"][0]["delta"], json!({}));
    assert_eq!(chunk["choices"][0]["finish_reason"], "stop");
    assert_eq!(events[1].data, "[DONE]");

    mock.push_script(Script::overflow(OverflowServer::Vllm));
    let (status, _, _) = stream_text(&mock, "/v1/chat/completions", &chat(true)).await;
    assert_eq!(status, 400, "others reject before streaming");
}

#[tokio::test]
async fn llama_server_streams_context_size_exceeded_as_its_first_event() {
    let mock = MockServer::start(MockConfig::default()).await;
    mock.push_script(Script::overflow(OverflowServer::LlamaServerContextSize));
    let (status, _, text) = stream_text(&mock, "/v1/chat/completions", &chat(true)).await;
    assert_eq!(status, 200);
    let events = parse_sse(&text);
    assert_eq!(events.len(), 1, "{text}");
    assert_eq!(
        events[0].json(),
        json!({"error": {"code": 500, "message": "Context size has been exceeded.",
                         "type": "server_error"}})
    );
}
