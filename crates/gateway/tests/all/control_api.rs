//! The Control UI's JSON endpoints under `/clawgate/v1/`: recent requests with attempts and
//! fallbacks (running ones included), models with live cooldowns and a probe, sessions (list,
//! show with the context meter, export), and the config redacted with the file's validation.

use mock_upstream::{MockConfig, MockModel, MockServer, Script};
use serde_json::Value;

use crate::support::{Harness, Inbound, MODEL, Setup, dead_port, provider_entry};

async fn dead_primary() -> Harness {
    let dead = format!("http://127.0.0.1:{}/v1", dead_port());
    Harness::with(Setup {
        primary: format!("deadup/{MODEL}"),
        fallbacks: vec![format!("chatup/{MODEL}")],
        extra_providers: provider_entry("deadup", "openai-completions", &dead),
        ..Setup::default()
    })
    .await
}

#[tokio::test]
async fn requests_show_the_model_asked_the_model_that_answered_and_every_attempt() {
    let h = dead_primary().await;
    let r = h
        .post(
            "/v1/chat/completions",
            &Inbound::Chat.body(&format!("deadup/{MODEL}"), "hi", false),
        )
        .await;
    assert_eq!(r.status(), 200);
    let id = r.headers()["x-clawgate-request-id"]
        .to_str()
        .unwrap()
        .to_string();
    r.text().await.unwrap();
    let log = h.get_json("/clawgate/v1/requests").await;
    assert!(log["running"].as_array().unwrap().is_empty(), "{log}");
    let entry = &log["requests"][0];
    assert_eq!(entry["id"], id.as_str());
    assert_eq!(entry["route"], "chat_completions");
    assert_eq!(entry["asked"], "deadup/mock-model");
    assert_eq!(entry["answered"], "chatup/mock-model");
    assert_eq!(entry["fallback"]["requested"], "deadup/mock-model");
    assert_eq!(entry["fallback"]["reason"], "network");
    assert_eq!(entry["outcome"], "ok");
    let attempts = entry["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 2, "{entry}");
    assert_eq!(attempts[0]["model"], "deadup/mock-model");
    assert_eq!(attempts[0]["outcome"], "failed");
    assert_eq!(attempts[0]["reason"], "network");
    assert!(
        attempts[0]["detail"]
            .as_str()
            .unwrap()
            .contains("(network)")
    );
    assert_eq!(attempts[1]["outcome"], "ok");
    assert!(entry["tokens"]["output"].as_u64().unwrap() > 0, "{entry}");
    assert!(entry["latencyMs"].is_u64());
    let one = h.get_json(&format!("/clawgate/v1/requests/{id}")).await;
    assert_eq!(&one, entry);
    assert_eq!(h.get("/clawgate/v1/requests/nope").await.status(), 404);

    // A refused request is listed with its status and message.
    let r = h
        .post(
            "/v1/chat/completions",
            &Inbound::Chat.body("nosuch/model", "hi", false),
        )
        .await;
    assert_eq!(r.status(), 404);
    let log = h.get_json("/clawgate/v1/requests?limit=1").await;
    let entry = &log["requests"][0];
    assert_eq!(log["requests"].as_array().unwrap().len(), 1);
    assert_eq!(entry["outcome"], "client_error");
    assert_eq!(entry["status"], 404);
    assert!(entry["error"].as_str().unwrap().contains("nosuch/model"));
}

#[tokio::test]
async fn a_streaming_request_is_listed_while_it_runs() {
    let h = Harness::start().await;
    h.mock.push_script(Script {
        chunks: Some(40),
        chunk_interval_ms: Some(50),
        ..Script::default()
    });
    let mut r = h
        .post(
            "/v1/chat/completions",
            &Inbound::Chat.body("fast", "slowly", true),
        )
        .await;
    assert_eq!(r.status(), 200);
    assert!(r.chunk().await.unwrap().is_some());
    let log = h.get_json("/clawgate/v1/requests").await;
    let running = &log["running"][0];
    assert_eq!(running["asked"], "fast", "{log}");
    assert_eq!(running["answered"], "chatup/mock-model");
    assert!(running["outcome"].is_null());
    while r.chunk().await.unwrap().is_some() {}
    let log = h.get_json("/clawgate/v1/requests").await;
    assert!(log["running"].as_array().unwrap().is_empty());
    assert_eq!(log["requests"][0]["outcome"], "ok");
}

#[tokio::test]
async fn models_show_the_chain_and_a_cooldown_a_failed_request_set() {
    let h = dead_primary().await;
    let before = h.get_json("/clawgate/v1/models").await;
    assert_eq!(before["status"]["primary"], "deadup/mock-model");
    assert_eq!(before["status"]["fallbacks"][0], "chatup/mock-model");
    let dead = |v: &Value| {
        v["status"]["providers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["id"] == "deadup")
            .cloned()
            .unwrap()
    };
    assert!(dead(&before)["cooldown"].is_null());
    let rows = before["list"]["models"].as_array().unwrap();
    assert_eq!(rows[0]["ref"], "deadup/mock-model");
    assert_eq!(rows[0]["roles"][0], "primary");

    let r = h
        .post(
            "/v1/chat/completions",
            &Inbound::Chat.body("deadup/mock-model", "hi", false),
        )
        .await;
    assert_eq!(r.status(), 200);
    let after = h.get_json("/clawgate/v1/models").await;
    let cooldown = &dead(&after)["cooldown"];
    assert_eq!(cooldown["reason"], "network", "{after}");
    assert!(cooldown["remainingMs"].as_u64().unwrap() > 0);
    assert!(cooldown["until"].as_u64().unwrap() > after["now"].as_u64().unwrap());
    assert_eq!(after["status"]["check"]["ok"], false);
}

#[tokio::test]
async fn a_probe_shows_served_models_and_a_context_window_mismatch() {
    // The server runs the model with 4096 tokens; the config says 65536.
    let mock =
        MockServer::start(MockConfig::default().models(vec![MockModel::new(MODEL, 4096)])).await;
    let h = Harness::with_mock(mock, Setup::default()).await;
    let r = h
        .http
        .post(h.url("/clawgate/v1/models/probe?timeout_ms=3000"))
        .bearer_auth(h.token.as_deref().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    let status = &body["status"];
    assert_eq!(status["probed"], true);
    let chat = status["providers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == "chatup")
        .unwrap();
    assert_eq!(chat["probe"]["reachable"], true, "{chat}");
    let row = status["models"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["ref"] == "chatup/mock-model")
        .unwrap();
    assert_eq!(row["served"], true);
    assert_eq!(row["serverContextWindow"], 4096);
    let warnings = status["warnings"].to_string();
    assert!(warnings.contains("set contextWindow: 4096"), "{warnings}");
}

#[tokio::test]
async fn sessions_are_listed_shown_with_their_context_and_exported() {
    let h = Harness::start().await;
    let key = "agent:main:ui-test";
    for prompt in ["first question", "second question"] {
        let r = h
            .post_with(
                "/v1/chat/completions",
                &Inbound::Chat.body("clawgate/main", prompt, false),
                &[("x-clawgate-session-key", key)],
            )
            .await;
        assert_eq!(r.status(), 200);
    }
    let list = h.get_json("/clawgate/v1/sessions?agent=main").await;
    assert_eq!(list["agent"], "main");
    let row = list["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["key"] == key)
        .cloned()
        .unwrap();
    assert_eq!(row["lastModel"], "chatup/mock-model");
    assert!(row["totalTokens"].as_u64().unwrap() > 0);

    let encoded = "agent%3Amain%3Aui-test";
    let session = h
        .get_json(&format!("/clawgate/v1/sessions/{encoded}?agent=main"))
        .await;
    assert_eq!(session["key"], key);
    let messages = session["messages"].as_array().unwrap();
    let roles: Vec<&str> = messages
        .iter()
        .map(|m| m["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["user", "assistant", "user", "assistant"]);
    assert_eq!(messages[2]["text"], "second question");
    assert_eq!(messages[3]["text"], "mock answer to: second question");
    assert_eq!(messages[3]["model"], "chatup/mock-model");
    let context = &session["context"];
    assert_eq!(context["window"], 65536);
    assert_eq!(context["model"], "chatup/mock-model");
    assert_eq!(context["compactions"], 0);
    assert!(context["tokens"].as_u64().unwrap() > 0, "{context}");

    let md = h
        .get(&format!(
            "/clawgate/v1/sessions/{encoded}/export?agent=main&format=markdown"
        ))
        .await;
    assert_eq!(md.status(), 200);
    assert_eq!(md.headers()["content-type"], "text/markdown; charset=utf-8");
    let disposition = md.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        disposition.starts_with("attachment; filename=\"session-"),
        "{disposition}"
    );
    assert!(md.text().await.unwrap().contains("second question"));
    let jsonl = h
        .get(&format!(
            "/clawgate/v1/sessions/{encoded}/export?agent=main"
        ))
        .await;
    assert_eq!(jsonl.status(), 200);
    let text = jsonl.text().await.unwrap();
    for line in text.lines() {
        serde_json::from_str::<Value>(line).unwrap();
    }
    assert!(text.contains("first question"));

    assert_eq!(
        h.get("/clawgate/v1/sessions/agent%3Amain%3Anope?agent=main")
            .await
            .status(),
        404
    );
    assert_eq!(
        h.get("/clawgate/v1/sessions?agent=ghost").await.status(),
        404
    );
    let bad = h
        .get(&format!(
            "/clawgate/v1/sessions/{encoded}/export?format=pdf"
        ))
        .await;
    assert_eq!(bad.status(), 400);
}

#[tokio::test]
async fn config_is_redacted_and_the_file_on_disk_is_validated() {
    let h = Harness::start().await;
    let config = h.get_json("/clawgate/v1/config").await;
    let effective = config["effective"].to_string();
    assert!(!effective.contains("upstream-key-chatup"), "{effective}");
    assert!(config["effective"]["models"]["providers"]["chatup"]["apiKey"].is_string());
    assert_eq!(config["validation"]["valid"], true);

    // Break the file: the running config stays, the validation says what and where.
    let text = std::fs::read_to_string(&h.config_path).unwrap();
    let broken = text.replacen("contextWindow: 65536", "contextWindow: \"huge\"", 1);
    std::fs::write(&h.config_path, broken).unwrap();
    let config = h.get_json("/clawgate/v1/config").await;
    let validation = &config["validation"];
    assert_eq!(validation["valid"], false, "{validation}");
    let diagnostic = &validation["diagnostics"][0];
    assert_eq!(diagnostic["severity"], "error");
    assert!(
        diagnostic["path"]
            .as_str()
            .unwrap()
            .contains("contextWindow"),
        "{diagnostic}"
    );
    assert!(diagnostic["location"]["line"].as_u64().unwrap() > 1);
    assert!(config["effective"]["models"]["providers"]["chatup"].is_object());
}

#[tokio::test]
async fn the_api_needs_the_gateway_token_even_when_none_is_configured() {
    let h = Harness::start().await;
    for path in [
        "/clawgate/v1/overview",
        "/clawgate/v1/models",
        "/clawgate/v1/config",
        "/clawgate/v1/requests",
    ] {
        let r = h.http.get(h.url(path)).send().await.unwrap();
        assert_eq!(r.status(), 401, "{path} without a token");
        let r = h
            .http
            .get(h.url(path))
            .bearer_auth("not-the-token")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401, "{path} with a wrong token");
        let r = h
            .http
            .get(h.url(path))
            .bearer_auth(h.token.as_deref().unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{path} with the gateway's own token");
    }
}
