//! Ollama's model endpoints (`/api/tags`, `/api/show`, `/api/ps`, `/api/version`), the names
//! Ollama's tools send (`:latest` appended, aliases, agents), and the "load"/"unload" calls
//! (an empty conversation), which the gateway answers without calling an upstream.

use serde_json::{Value, json};

use crate::ollama_chat::{chat, ndjson};
use crate::support::{Harness, MODEL, Setup, raw_post, raw_request};

#[tokio::test]
async fn tags_lists_what_v1_models_lists_plus_aliases_in_ollamas_shape() {
    let h = Harness::start().await;
    let r = h.get("/api/tags").await;
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    let models = body["models"].as_array().unwrap();
    let names: Vec<&str> = models.iter().map(|m| m["name"].as_str().unwrap()).collect();
    let openai: Value = h.get("/v1/models").await.json().await.unwrap();
    let mut expected: Vec<String> = Vec::new();
    for entry in openai["data"].as_array().unwrap() {
        expected.push(entry["id"].as_str().unwrap().to_string());
        if let Some(alias) = entry["alias"].as_str() {
            expected.push(alias.to_string());
        }
    }
    assert_eq!(
        names, expected,
        "same order as /v1/models, aliases after their model"
    );
    assert_eq!(names[0], "clawgate/main");
    for model in models {
        assert_eq!(model["model"], model["name"]);
        assert!(model["size"].is_u64(), "{model}");
        let digest = model["digest"].as_str().unwrap();
        assert_eq!(digest.len(), 64, "{digest}");
        assert!(digest.chars().all(|c| c.is_ascii_hexdigit()), "{digest}");
        let modified = model["modified_at"].as_str().unwrap();
        assert!(humantime::parse_rfc3339(modified).is_ok(), "{modified}");
        let details = &model["details"];
        for key in [
            "parent_model",
            "format",
            "family",
            "parameter_size",
            "quantization_level",
        ] {
            assert!(details[key].is_string(), "{key} in {model}");
        }
        assert!(details["families"].is_array(), "{model}");
    }
    let row = models
        .iter()
        .find(|m| m["name"] == "chatup/mock-model")
        .unwrap();
    assert_eq!(row["details"]["context_length"], 65536);
    assert_eq!(row["details"]["parent_model"], "");
    let alias = models.iter().find(|m| m["name"] == "fast").unwrap();
    assert_eq!(alias["details"]["parent_model"], "chatup/mock-model");
    assert_ne!(alias["digest"], row["digest"]);
    let digests: std::collections::HashSet<&str> = models
        .iter()
        .map(|m| m["digest"].as_str().unwrap())
        .collect();
    assert_eq!(digests.len(), models.len(), "one digest per name");
}

#[tokio::test]
async fn show_describes_refs_aliases_and_agents() {
    let h = Harness::with(Setup {
        extra_providers: r#""visionup": { baseUrl: "http://127.0.0.1:9/v1",
            api: "openai-completions", models: [{ id: "seer", contextWindow: 8192,
            reasoning: true, input: ["text", "image"] }] },"#
            .into(),
        ..Setup::default()
    })
    .await;
    let show = |name: &str| {
        let h = &h;
        let body = json!({ "model": name });
        async move {
            let r = h.post("/api/show", &body).await;
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    };
    let (status, seer) = show("visionup/seer").await;
    assert_eq!(status, 200, "{seer}");
    assert_eq!(
        seer["capabilities"],
        json!(["completion", "tools", "thinking", "vision"])
    );
    assert_eq!(seer["details"]["context_length"], 8192);
    assert_eq!(seer["model_info"]["general.architecture"], "clawgate");
    assert_eq!(seer["model_info"]["clawgate.context_length"], 8192);
    assert!(humantime::parse_rfc3339(seer["modified_at"].as_str().unwrap()).is_ok());

    let (status, fast) = show("fast:latest").await;
    assert_eq!(status, 200, "{fast}");
    assert_eq!(fast["details"]["parent_model"], "chatup/mock-model");
    assert_eq!(fast["capabilities"], json!(["completion", "tools"]));

    let (status, agent) = show("clawgate/main").await;
    assert_eq!(status, 200, "{agent}");
    assert_eq!(agent["capabilities"], json!(["completion"]));
    assert!(
        agent.get("model_info").is_some(),
        "the Python client requires it"
    );

    let (status, missing) = show("nope/never").await;
    assert_eq!(status, 404);
    assert_eq!(missing, json!({ "error": "model 'nope/never' not found" }));
    let r = h.post("/api/show", &json!({})).await;
    assert_eq!(r.status(), 400);
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({ "error": "model is required" })
    );
}

#[tokio::test]
async fn version_ps_and_auth() {
    let h = Harness::with(Setup {
        token: Some("gw-secret".into()),
        ..Setup::default()
    })
    .await;
    // Unauthenticated, like /healthz: clients probe it to find an Ollama server.
    let r = h.http.get(h.url("/api/version")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let version: Value = r.json().await.unwrap();
    assert_eq!(
        version,
        json!({ "version": clawgate_gateway::OLLAMA_API_VERSION })
    );

    let r = h.get("/api/ps").await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap(), json!({ "models": [] }));

    for path in ["/api/tags", "/api/ps"] {
        let r = h.http.get(h.url(path)).send().await.unwrap();
        assert_eq!(r.status(), 401, "{path}");
        assert!(r.json::<Value>().await.unwrap()["error"].is_string());
    }
    let r = h
        .http
        .post(h.url("/api/show"))
        .json(&json!({ "model": "fast" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}

/// Ollama's clients read `{"error": "..."}`: refusals made before a handler runs (an unknown
/// path, a DNS-rebinding `Host`) and the authentication of the read-only endpoints answer in
/// that shape on `/api/…`, and in OpenAI's on `/v1/…`.
#[tokio::test]
async fn refusals_on_ollama_paths_come_in_ollamas_error_shape() {
    let h = Harness::with(Setup {
        token: Some("gw-secret".into()),
        ..Setup::default()
    })
    .await;
    let ollama_shape = |body: &Value| body["error"].is_string();
    let openai_shape = |body: &Value| body["error"]["message"].is_string();

    let r = h.http.get(h.url("/api/nope")).send().await.unwrap();
    assert_eq!(r.status(), 404);
    assert!(ollama_shape(&r.json().await.unwrap()));
    let r = h.http.get(h.url("/v1/nope")).send().await.unwrap();
    assert_eq!(r.status(), 404);
    assert!(openai_shape(&r.json().await.unwrap()));

    let r = h.http.get(h.url("/api/tags")).send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert!(ollama_shape(&r.json().await.unwrap()));
    let r = h.http.get(h.url("/v1/models")).send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert!(openai_shape(&r.json().await.unwrap()));

    let addr = h.gateway.local_addr();
    let body = json!({ "model": "fast", "messages": [] });
    let request = raw_post("/api/chat", "rebound.example", &[], &body);
    let r = raw_request(addr, &request).await;
    assert_eq!(r.status, 403, "{r:?}");
    let refusal: Value = serde_json::from_str(&r.body).unwrap();
    assert!(ollama_shape(&refusal), "{refusal}");
    assert!(
        refusal["error"]
            .as_str()
            .unwrap()
            .contains("gateway.allowedHosts"),
        "{refusal}"
    );
}

#[tokio::test]
async fn an_empty_conversation_loads_and_keep_alive_zero_unloads_without_an_upstream_call() {
    let h = Harness::start().await;
    let r = h
        .post("/api/chat", &json!({ "model": "fast", "messages": [] }))
        .await;
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["done"], true);
    assert_eq!(body["done_reason"], "load");
    assert_eq!(
        body["message"],
        json!({ "role": "assistant", "content": "" })
    );
    let r = h
        .post(
            "/api/generate",
            &json!({ "model": "clawgate/main", "keep_alive": 0 }),
        )
        .await;
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["done_reason"], "unload");
    assert_eq!(body["response"], "");
    assert!(h.mock.requests().is_empty(), "no upstream was called");

    let r = h
        .post(
            "/api/chat",
            &json!({ "model": "nope/never", "messages": [] }),
        )
        .await;
    assert_eq!(r.status(), 404);
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({ "error": "model 'nope/never' not found" })
    );
}

#[tokio::test]
async fn a_latest_tag_is_dropped_when_only_the_bare_name_routes() {
    let h = Harness::start().await;
    for name in ["fast:latest", "chatup/mock-model:latest", "clawgate:latest"] {
        let r = h.post("/api/chat", &chat(name, "tagged")).await;
        assert_eq!(r.status(), 200, "{name}");
        let lines = ndjson(&r.text().await.unwrap());
        assert_eq!(lines.last().unwrap()["done"], true, "{name}");
    }
    let sent = h.mock.requests();
    assert_eq!(sent[0].body["model"], MODEL);
    let r = h.post("/api/chat", &chat("nope:latest", "x")).await;
    assert_eq!(r.status(), 404);
}
