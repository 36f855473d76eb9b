//! `params` and the compat flags on the wire: what `mock-upstream` records of each dialect's
//! request body, and a tool call whose HTML-escaped arguments come back decoded.

use clawgate_providers::{ApiKind, CompatFlags, ModelParams, ToolCallArgumentsEncoding};
use mock_upstream::Script;
use serde_json::{Value, json};

use crate::support::{assert_well_formed, last_request, mock, provider, request, run, spec};

fn object(v: Value) -> Option<serde_json::Map<String, Value>> {
    v.as_object().cloned()
}

/// Each dialect's body carries the params it uses; the model's win over the provider's.
#[tokio::test]
async fn params_reach_the_upstream_body_in_every_dialect() {
    let provider_params = ModelParams {
        temperature: Some(0.1),
        top_k: Some(5),
        extra_body: object(json!({"x_provider": true})),
        ..ModelParams::default()
    };
    let model_params = ModelParams {
        temperature: Some(0.3),
        keep_alive: Some(json!("10m")),
        provider: object(json!({"order": ["eu-west"], "allow_fallbacks": false})),
        chat_template_kwargs: object(json!({"enable_thinking": false})),
        ..ModelParams::default()
    };
    // What `from_config` gives a row: the provider's params with the model's on top.
    let merged = provider_params.overlaid_by(&model_params);
    for api in crate::support::APIS {
        let mock = mock().await;
        let mut s = spec(&mock, api);
        s.params = provider_params.clone();
        s.models[0].params = merged.clone();
        let out = run(&provider(&s), request("hi", false)).await;
        assert_well_formed(&out);
        let body = last_request(&mock).body;
        assert_eq!(body["x_provider"], json!(true), "{api}: extra_body");
        match api {
            ApiKind::OpenAiCompletions => {
                assert_eq!(body["temperature"], json!(0.3), "model params win");
                assert_eq!(body["top_k"], json!(5));
                assert_eq!(body["provider"]["order"], json!(["eu-west"]));
                assert_eq!(
                    body["chat_template_kwargs"]["enable_thinking"],
                    json!(false)
                );
            }
            ApiKind::OpenAiResponses => {
                assert_eq!(body["temperature"], json!(0.3));
                assert_eq!(body["provider"]["allow_fallbacks"], json!(false));
            }
            ApiKind::AnthropicMessages => {
                assert_eq!(body["temperature"], json!(0.3));
                assert_eq!(body["top_k"], json!(5));
            }
            ApiKind::Ollama => {
                assert_eq!(body["options"]["temperature"], json!(0.3));
                assert_eq!(body["options"]["top_k"], json!(5));
                assert_eq!(body["keep_alive"], json!("10m"));
            }
            other => panic!("{other} is not an HTTP api under test"),
        }
    }
}

/// A request's own temperature wins over params.
#[tokio::test]
async fn request_fields_win_over_params_on_the_wire() {
    let mock = mock().await;
    let mut s = spec(&mock, ApiKind::OpenAiCompletions);
    s.models[0].params = ModelParams {
        temperature: Some(0.1),
        ..ModelParams::default()
    };
    let mut req = request("hi", false);
    req.temperature = Some(0.9);
    let out = run(&provider(&s), req).await;
    assert_well_formed(&out);
    let t = last_request(&mock).body["temperature"]
        .as_f64()
        .unwrap_or_default();
    assert!((t - 0.9).abs() < 1e-6, "{t}");
}

/// `toolCallArgumentsEncoding: "html-entities"`: the tool receives decoded strings.
#[tokio::test]
async fn html_entity_tool_arguments_are_decoded() {
    for stream in [true, false] {
        let mock = mock().await;
        mock.push_script(Script::default().with_tool_call(
            "exec",
            json!({"command": "cd ~/dev &amp;&amp; echo &quot;ok&quot;"}),
        ));
        let mut s = spec(&mock, ApiKind::OpenAiCompletions);
        s.models[0].compat = CompatFlags {
            tool_call_arguments_encoding: Some(ToolCallArgumentsEncoding::HtmlEntities),
            ..CompatFlags::default()
        };
        let mut req = request("run it", stream);
        req.tools = vec![crate::support::weather_tool()];
        let out = run(&provider(&s), req).await;
        assert_well_formed(&out);
        let calls = out.tool_calls();
        assert_eq!(calls.len(), 1, "{:?}", out.events);
        let args: Value = serde_json::from_str(&calls[0].2).unwrap_or_default();
        assert_eq!(
            args["command"],
            json!("cd ~/dev && echo \"ok\""),
            "stream={stream}"
        );
    }
}
