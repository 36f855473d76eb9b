//! Auth rules: no token configured on loopback = open; with a token, a missing or wrong one is
//! refused in the dialect's error shape, the right one (Bearer or `x-api-key`) passes, repeated
//! failures from one address are rate-limited, and a non-loopback bind without a token does not
//! start at all.

use std::net::SocketAddr;
use std::time::Duration;

use clawgate_gateway::{AuthLimits, Gateway, GatewayError, GatewayOptions};
use clawgate_runtime::{Services, ServicesOptions};
use serde_json::Value;

use crate::support::{Harness, Inbound, MODEL, Setup, config_text, load_options, mock};

const TOKEN: &str = "gw-test-token-1234";

fn model() -> String {
    format!("chatup/{MODEL}")
}

async fn token_harness(auth_limits: AuthLimits) -> Harness {
    Harness::with(Setup {
        token: Some(TOKEN.into()),
        auth_limits,
        ..Setup::default()
    })
    .await
}

async fn send(h: &Harness, inbound: Inbound, auth: Option<(&str, &str)>) -> reqwest::Response {
    let mut request = h
        .http
        .post(h.url(inbound.path()))
        .json(&inbound.body(&model(), "hi", false));
    if let Some((name, value)) = auth {
        request = request.header(name, value);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn open_on_loopback_without_a_token() {
    let h = Harness::start().await;
    assert_eq!(send(&h, Inbound::Chat, None).await.status(), 200);
}

#[tokio::test]
async fn missing_and_wrong_tokens_are_refused_in_each_dialect() {
    let h = token_harness(AuthLimits::default()).await;
    let missing = send(&h, Inbound::Chat, None).await;
    assert_eq!(missing.status(), 401);
    let body: Value = missing.json().await.unwrap();
    assert_eq!(body["error"]["type"], "authentication_error");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("missing")
    );

    let wrong = send(
        &h,
        Inbound::Responses,
        Some(("authorization", "Bearer nope")),
    )
    .await;
    assert_eq!(wrong.status(), 401);
    let body: Value = wrong.json().await.unwrap();
    assert_eq!(body["error"]["code"], "invalid_api_key");

    let wrong = send(&h, Inbound::Messages, Some(("x-api-key", "nope"))).await;
    assert_eq!(wrong.status(), 401);
    let body: Value = wrong.json().await.unwrap();
    assert_eq!(body["type"], "error");
    assert_eq!(body["error"]["type"], "authentication_error");

    // The token itself never shows up in an answer.
    let text = send(&h, Inbound::Chat, Some(("authorization", "Bearer nope")))
        .await
        .text()
        .await
        .unwrap();
    assert!(!text.contains(TOKEN));
}

#[tokio::test]
async fn password_mode_takes_the_password_and_not_the_token() {
    let h = Harness::with(Setup {
        extra_gateway:
            r#"auth: { mode: "password", password: "pw-test-9876", token: "unused-token-1" },"#
                .into(),
        ..Setup::default()
    })
    .await;
    assert_eq!(send(&h, Inbound::Chat, None).await.status(), 401);
    let token = send(
        &h,
        Inbound::Chat,
        Some(("authorization", "Bearer unused-token-1")),
    )
    .await;
    assert_eq!(token.status(), 401, "password mode ignores the token");
    let pw = send(
        &h,
        Inbound::Chat,
        Some(("authorization", "Bearer pw-test-9876")),
    )
    .await;
    assert_eq!(pw.status(), 200);
    let pw = send(&h, Inbound::Messages, Some(("x-api-key", "pw-test-9876"))).await;
    assert_eq!(pw.status(), 200);
}

#[tokio::test]
async fn right_token_passes_as_bearer_or_x_api_key() {
    let h = token_harness(AuthLimits::default()).await;
    let bearer = format!("Bearer {TOKEN}");
    assert_eq!(
        send(&h, Inbound::Chat, Some(("authorization", &bearer)))
            .await
            .status(),
        200
    );
    assert_eq!(
        send(&h, Inbound::Messages, Some(("x-api-key", TOKEN)))
            .await
            .status(),
        200
    );
    assert_eq!(
        send(&h, Inbound::Responses, Some(("authorization", &bearer)))
            .await
            .status(),
        200
    );
    // /v1/models and /metrics are behind the token too; health probes are not.
    assert_eq!(
        h.http
            .get(h.url("/v1/models"))
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
    assert_eq!(
        h.http.get(h.url("/metrics")).send().await.unwrap().status(),
        401
    );
    assert_eq!(
        h.http.get(h.url("/healthz")).send().await.unwrap().status(),
        200
    );
    assert_eq!(h.get("/v1/models").await.status(), 200);
}

#[tokio::test]
async fn repeated_failures_from_one_address_are_rate_limited() {
    let h = token_harness(AuthLimits {
        max_failures: 3,
        window: Duration::from_secs(600),
        lockout: Duration::from_secs(120),
    })
    .await;
    for _ in 0..2 {
        let r = send(&h, Inbound::Chat, Some(("authorization", "Bearer guess"))).await;
        assert_eq!(r.status(), 401);
    }
    let third = send(&h, Inbound::Chat, Some(("authorization", "Bearer guess"))).await;
    assert_eq!(third.status(), 429);
    // Locked out now, even with the right token.
    let bearer = format!("Bearer {TOKEN}");
    let locked = send(&h, Inbound::Messages, Some(("authorization", &bearer))).await;
    assert_eq!(locked.status(), 429);
    let retry: u64 = locked.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=120).contains(&retry), "retry-after {retry}");
    let body: Value = locked.json().await.unwrap();
    assert_eq!(body["error"]["type"], "rate_limit_error");
    let metrics = h
        .http
        .get(h.url("/metrics"))
        .header("authorization", &bearer)
        .send()
        .await
        .unwrap();
    assert_eq!(metrics.status(), 429, "metrics are locked out too");
}

#[tokio::test]
async fn non_loopback_bind_without_a_token_is_refused() {
    let mock = mock().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("clawgate.json");
    std::fs::write(
        &path,
        config_text(&mock, &dir.path().join("ws"), &Setup::default()),
    )
    .unwrap();
    let services =
        Services::load(&load_options(dir.path(), path), ServicesOptions::default()).unwrap();
    let options = GatewayOptions::new(SocketAddr::from(([0, 0, 0, 0], 0)));
    let error = Gateway::start(services, None, options).await.unwrap_err();
    assert!(
        matches!(error, GatewayError::UnsafeBind { .. }),
        "{error:?}"
    );
    assert!(error.to_string().contains("auth token"), "{error}");
}
