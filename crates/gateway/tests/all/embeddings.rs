//! `/v1/embeddings` through the whole stack against mock-upstream: OpenAI's shape both ways
//! (floats and base64), an OpenAI-compatible upstream (`/v1/embeddings`) and Ollama
//! (`/api/embed`), failover to the same model on another server (and never to another model),
//! and clear errors for a dialect or a server without embeddings, for agents and for bad input.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use mock_upstream::{Fault, Quirk, Script};
use serde_json::{Value, json};

use crate::support::{Harness, MODEL, Setup};

/// mock-upstream's vector of a text: characters, words, first byte, last byte.
fn mock_vector(text: &str) -> Vec<f64> {
    let b = text.as_bytes();
    vec![
        text.chars().count() as f64,
        text.split_whitespace().count() as f64,
        f64::from(b[0]),
        f64::from(b[b.len() - 1]),
    ]
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

/// POST without fallbacks (`x-clawgate-fallbacks: none`): every harness provider has a
/// `mock-model` row, so the default chain would find the same model elsewhere.
async fn post_strict(h: &Harness, body: &Value) -> reqwest::Response {
    h.http
        .post(h.url("/v1/embeddings"))
        .header("x-clawgate-fallbacks", "none")
        .json(body)
        .send()
        .await
        .unwrap()
}

fn upstream_bodies(h: &Harness, path: &str) -> Vec<Value> {
    h.mock
        .requests()
        .into_iter()
        .filter(|r| r.path == path)
        .map(|r| r.body)
        .collect()
}

#[tokio::test]
async fn embeddings_from_an_openai_compatible_upstream_in_openai_shape() {
    let h = Harness::start().await;
    let r = h
        .post(
            "/v1/embeddings",
            &json!({"model": format!("chatup/{MODEL}"), "input": ["hello world", "hi"]}),
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers()["x-clawgate-model"],
        format!("chatup/{MODEL}").as_str()
    );
    assert_eq!(r.headers()["x-clawgate-fallback"], "false");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["object"], "list");
    assert_eq!(body["model"], format!("chatup/{MODEL}"));
    assert_eq!(body["data"][0]["object"], "embedding");
    assert_eq!(body["data"][1]["index"], 1);
    assert_eq!(
        floats(&body["data"][0]["embedding"]),
        mock_vector("hello world")
    );
    assert_eq!(floats(&body["data"][1]["embedding"]), mock_vector("hi"));
    assert_eq!(body["usage"]["prompt_tokens"], 3);
    let sent = upstream_bodies(&h, "/v1/embeddings");
    assert_eq!(
        sent,
        [json!({"model": MODEL, "input": ["hello world", "hi"], "encoding_format": "float"})]
    );
}

#[tokio::test]
async fn base64_vectors_for_clients_that_ask_for_them() {
    let h = Harness::start().await;
    let r = h
        .post(
            "/v1/embeddings",
            &json!({"model": "fast", "input": "hello", "encoding_format": "base64"}),
        )
        .await;
    assert_eq!(r.status(), 200, "the alias resolves");
    let body: Value = r.json().await.unwrap();
    let bytes = STANDARD
        .decode(body["data"][0]["embedding"].as_str().unwrap())
        .unwrap();
    let vector: Vec<f64> = bytes
        .chunks_exact(4)
        .map(|c| f64::from(f32::from_le_bytes([c[0], c[1], c[2], c[3]])))
        .collect();
    assert_eq!(vector, mock_vector("hello"));
    // Upstreams are always asked for floats.
    assert_eq!(
        upstream_bodies(&h, "/v1/embeddings")[0]["encoding_format"],
        "float"
    );
}

#[tokio::test]
async fn ollama_upstreams_are_asked_at_api_embed() {
    let h = Harness::start().await;
    let r = h
        .post(
            "/v1/embeddings",
            &json!({"model": format!("ollup/{MODEL}"), "input": "hello"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(floats(&body["data"][0]["embedding"]), mock_vector("hello"));
    assert_eq!(body["usage"]["prompt_tokens"], 1);
    assert_eq!(
        upstream_bodies(&h, "/api/embed"),
        [json!({"model": MODEL, "input": ["hello"]})]
    );
    // Token ids cannot go to Ollama: a 400 naming the input.
    let r = post_strict(
        &h,
        &json!({"model": format!("ollup/{MODEL}"), "input": [1, 2, 3]}),
    )
    .await;
    assert_eq!(r.status(), 400);
    let body: Value = r.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Ollama embeds text only"),
        "{body}"
    );
}

#[tokio::test]
async fn a_failing_server_falls_over_to_the_same_model_elsewhere() {
    let h = Harness::with(Setup {
        fallbacks: vec![format!("ollup/{MODEL}")],
        ..Setup::default()
    })
    .await;
    h.mock.push_script(Script {
        when_path: Some("/v1/embeddings".into()),
        ..Script::fault(Fault::Status500)
    });
    let r = h
        .post(
            "/v1/embeddings",
            &json!({"model": format!("chatup/{MODEL}"), "input": "hello"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers()["x-clawgate-model"],
        format!("ollup/{MODEL}").as_str()
    );
    assert_eq!(r.headers()["x-clawgate-fallback"], "true");
    assert_eq!(r.headers()["x-clawgate-fallback-reason"], "server_error");
    let body: Value = r.json().await.unwrap();
    assert_eq!(floats(&body["data"][0]["embedding"]), mock_vector("hello"));
    assert_eq!(upstream_bodies(&h, "/v1/embeddings").len(), 1);
    assert_eq!(upstream_bodies(&h, "/api/embed").len(), 1);
}

#[tokio::test]
async fn a_fallback_to_another_model_is_never_tried() {
    let h = Harness::with(Setup {
        fallbacks: vec!["ollup/other-model".into()],
        ..Setup::default()
    })
    .await;
    h.mock.push_script(Script {
        when_path: Some("/v1/embeddings".into()),
        ..Script::fault(Fault::Status500)
    });
    let r = h
        .post(
            "/v1/embeddings",
            &json!({"model": format!("chatup/{MODEL}"), "input": "hello"}),
        )
        .await;
    assert_eq!(r.status(), 502);
    assert!(upstream_bodies(&h, "/api/embed").is_empty());
}

#[tokio::test]
async fn servers_and_dialects_without_embeddings_say_so() {
    let h = Harness::start().await;
    // Anthropic's Messages API has no embeddings.
    let r = post_strict(
        &h,
        &json!({"model": format!("anthup/{MODEL}"), "input": "hello"}),
    )
    .await;
    assert_eq!(r.status(), 400);
    let body: Value = r.json().await.unwrap();
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("provider anthup does not serve embeddings"),
        "{body}"
    );
    assert_eq!(body["error"]["type"], "invalid_request_error");
    // llama.cpp's server started without --embeddings.
    h.mock.push_script(Script {
        when_path: Some("/v1/embeddings".into()),
        quirks: Some(vec![Quirk::NoEmbeddings]),
        ..Script::default()
    });
    let r = post_strict(
        &h,
        &json!({"model": format!("chatup/{MODEL}"), "input": "hello"}),
    )
    .await;
    assert_eq!(r.status(), 400);
    let body: Value = r.json().await.unwrap();
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("chatup does not serve embeddings") && message.contains("--embeddings"),
        "{body}"
    );
    // Nothing cooled down: the same provider still answers chat at once.
    let r = h
        .post(
            "/v1/chat/completions",
            &json!({"model": format!("chatup/{MODEL}"),
                    "messages": [{"role": "user", "content": "hi"}]}),
        )
        .await;
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn agents_and_bad_input_are_refused_with_the_reason() {
    let h = Harness::start().await;
    let r = h
        .post(
            "/v1/embeddings",
            &json!({"model": "clawgate/main", "input": "hello"}),
        )
        .await;
    assert_eq!(r.status(), 400);
    let body: Value = r.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("agents do not embed"),
        "{body}"
    );
    let r = h
        .post(
            "/v1/embeddings",
            &json!({"model": format!("chatup/{MODEL}"), "input": [true]}),
        )
        .await;
    assert_eq!(r.status(), 400);
    let body: Value = r.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("$.input[0]"),
        "{body}"
    );
    let r = h
        .post(
            "/v1/embeddings",
            &json!({"model": "nope/none", "input": "hello"}),
        )
        .await;
    assert_eq!(r.status(), 404);
    assert!(h.mock.requests().is_empty(), "nothing went upstream");
}
