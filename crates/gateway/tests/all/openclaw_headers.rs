//! OpenClaw's request headers and its model allowlist at the gateway: `x-openclaw-agent-id`
//! picks the agent over the `model` field, `x-openclaw-model` names the backend model (of a
//! routed call, or of the agent's turn), and a model outside the allowlist gets OpenClaw's
//! "not allowed" error (400, `invalid_request_error`) before any upstream call.

use serde_json::Value;

use crate::support::{Harness, Inbound, MODEL, Setup};

async fn post(h: &Harness, body: &Value, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut request = h.http.post(h.url("/v1/chat/completions")).json(body);
    if let Some(token) = &h.token {
        request = request.bearer_auth(token);
    }
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.unwrap()
}

fn chat(model: &str) -> Value {
    Inbound::Chat.body(model, "hello", false)
}

#[tokio::test]
async fn x_openclaw_model_names_the_backend_model_of_a_routed_call() {
    let h = Harness::start().await;
    let body = chat(&format!("chatup/{MODEL}"));
    let r = post(
        &h,
        &body,
        &[("x-openclaw-model", &format!("anthup/{MODEL}"))],
    )
    .await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers()["x-clawgate-model"],
        format!("anthup/{MODEL}").as_str()
    );
    let upstream = h.mock.requests().pop().unwrap();
    assert_eq!(
        upstream.path, "/v1/messages",
        "the Anthropic upstream answered"
    );
}

#[tokio::test]
async fn x_openclaw_agent_id_wins_over_the_model_field() {
    let h = Harness::with(Setup {
        extra_agents: r#"list: [{ id: "main" }, { id: "ops", model: "respup/mock-model" }],"#
            .into(),
        // Agents with write tools need the token, even on loopback.
        token: Some("t0ken".into()),
        ..Setup::default()
    })
    .await;
    let r = post(
        &h,
        &chat("openclaw/main"),
        &[("x-openclaw-agent-id", "ops")],
    )
    .await;
    let status = r.status();
    let headers = r.headers().clone();
    assert_eq!(status, 200, "{}", r.text().await.unwrap());
    assert_eq!(headers["x-clawgate-agent"], "ops");
    assert_eq!(
        headers["x-clawgate-model"],
        format!("respup/{MODEL}").as_str()
    );
    // With the agent named by the header, x-openclaw-model is that turn's model.
    let r = post(
        &h,
        &chat("openclaw"),
        &[
            ("x-openclaw-agent-id", "ops"),
            ("x-openclaw-model", &format!("anthup/{MODEL}")),
        ],
    )
    .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-clawgate-agent"], "ops");
    assert_eq!(
        r.headers()["x-clawgate-model"],
        format!("anthup/{MODEL}").as_str()
    );
}

/// `chatup/*` allowed; respup and anthup are not (the primary, chatup, is).
async fn restricted() -> Harness {
    Harness::with(Setup {
        extra_defaults: r#"modelPolicy: { allow: ["chatup/*"] },"#.into(),
        token: Some("t0ken".into()),
        ..Setup::default()
    })
    .await
}

#[tokio::test]
async fn a_routed_call_outside_the_allowlist_is_refused_before_any_upstream_call() {
    let h = restricted().await;
    let r = post(&h, &chat(&format!("respup/{MODEL}")), &[]).await;
    assert_eq!(r.status(), 400);
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        body["error"]["message"],
        format!("Model 'respup/{MODEL}' is not allowed for agent 'main'.")
    );
    assert_eq!(body["error"]["type"], "invalid_request_error");
    assert!(h.mock.requests().is_empty());
    let r = post(&h, &chat(&format!("chatup/{MODEL}")), &[]).await;
    assert_eq!(r.status(), 200);
    // The header's model is held to the same list.
    let r = post(
        &h,
        &chat(&format!("chatup/{MODEL}")),
        &[("x-openclaw-model", &format!("anthup/{MODEL}"))],
    )
    .await;
    assert_eq!(r.status(), 400);
}

#[tokio::test]
async fn an_agent_turn_with_a_model_outside_the_allowlist_is_refused() {
    let h = restricted().await;
    let r = post(
        &h,
        &chat("openclaw/main"),
        &[("x-openclaw-model", &format!("anthup/{MODEL}"))],
    )
    .await;
    assert_eq!(r.status(), 400);
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        body["error"]["message"],
        format!("Model 'anthup/{MODEL}' is not allowed for agent 'main'.")
    );
    assert!(h.mock.requests().is_empty());
}
