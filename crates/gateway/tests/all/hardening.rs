//! What a hostile client or a careless operator tried: agents with host-changing tools on a
//! token-less gateway, empty conversations, a non-UTF-8 session header, heads at the 64 KiB
//! limit, bare HTTP-layer errors, internal errors naming state paths, secrets in a base URL,
//! and more request body in flight than the budget holds.

use std::time::Duration;

use clawgate_gateway::RequestLimits;
use mock_upstream::{Fault, Script};
use reqwest::header::HeaderValue;
use serde_json::{Value, json};

use crate::support::{Harness, Inbound, MODEL, Setup, dead_port, raw_request};

const TOKEN: &str = "gw-hardening-token-9012";

fn model() -> String {
    format!("chatup/{MODEL}")
}

#[tokio::test]
async fn agents_with_exec_or_write_need_the_token_even_on_loopback() {
    // No token configured: the gateway made its own, and a tool agent needs it.
    let h = Harness::start().await;
    let generated = h.token.clone().expect("the gateway's own token");
    let on_disk = std::fs::read_to_string(h.dir.path().join("state/gateway-token")).unwrap();
    assert_eq!(
        on_disk.trim(),
        generated,
        "the token lives in <state>/gateway-token"
    );
    let body = Inbound::Messages.body("clawgate/main", "hi", false);
    let r = h
        .http
        .post(h.url("/v1/messages"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let refused: Value = r.json().await.unwrap();
    let message = refused["error"]["message"].as_str().unwrap();
    assert!(message.contains("gateway-token"), "{message}");
    assert!(h.mock.requests().is_empty(), "the turn never started");
    // With the gateway's own token the same turn runs.
    let r = h.post("/v1/messages", &body).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    // A routed model call has no tools of the gateway's: still token-less on loopback.
    let r = h
        .http
        .post(h.url("/v1/chat/completions"))
        .json(&Inbound::Chat.body(&model(), "hi", false))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn auth_mode_none_refuses_agents_that_can_change_the_machine() {
    let h = Harness::with(Setup {
        extra_gateway: r#"auth: { mode: "none" },"#.into(),
        ..Setup::default()
    })
    .await;
    assert!(h.token.is_none(), "mode none: no token at all");
    assert!(!h.dir.path().join("state/gateway-token").exists());
    let r = h
        .post(
            "/v1/messages",
            &Inbound::Messages.body("clawgate/main", "hi", false),
        )
        .await;
    assert_eq!(r.status(), 403);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["type"], "permission_error", "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("gateway.auth.token"), "{message}");
    assert!(message.contains("write"), "{message}");
    assert!(h.mock.requests().is_empty(), "the turn never started");
}

#[tokio::test]
async fn an_agent_narrowed_to_read_only_tools_runs_without_a_token() {
    let h = Harness::with(Setup {
        extra_root: r#"tools: { deny: ["exec", "write", "edit"] },"#.into(),
        ..Setup::default()
    })
    .await;
    let r = h
        .post(
            "/v1/chat/completions",
            &Inbound::Chat.body("clawgate/main", "read only", false),
        )
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let tools = h.mock.requests().pop().unwrap().body["tools"].to_string();
    assert!(
        tools.contains("\"read\"") && !tools.contains("\"write\""),
        "{tools}"
    );
}

#[tokio::test]
async fn empty_conversations_never_go_upstream() {
    let h = Harness::start().await;
    let cases = [
        (
            Inbound::Chat,
            json!({ "model": model(), "messages": [] }),
            None,
        ),
        (
            Inbound::Chat,
            json!({ "model": model(), "messages": [{ "role": "system", "content": "only" }] }),
            None,
        ),
        (
            Inbound::Messages,
            json!({ "model": model(), "max_tokens": 8, "messages": [] }),
            None,
        ),
        (
            Inbound::Responses,
            json!({ "model": model(), "input": [null, 1, "x"] }),
            Some("input[0]"),
        ),
        (
            Inbound::Responses,
            json!({ "model": model(), "input": [] }),
            None,
        ),
    ];
    for (inbound, body, path) in cases {
        let r = h.post(inbound.path(), &body).await;
        assert_eq!(r.status(), 400, "{inbound:?} {body}");
        let answer: Value = r.json().await.unwrap();
        let message = answer["error"]["message"].as_str().unwrap();
        match path {
            Some(path) => assert!(message.contains(path), "{message}"),
            None => assert!(message.contains("empty"), "{message}"),
        }
        if inbound == Inbound::Messages {
            assert_eq!(answer["type"], "error");
        }
    }
    assert!(h.mock.requests().is_empty(), "nothing was sent upstream");
}

#[tokio::test]
async fn a_session_header_that_is_not_utf8_is_a_400() {
    let h = Harness::with(Setup {
        token: Some(TOKEN.into()),
        ..Setup::default()
    })
    .await;
    let r = h
        .http
        .post(h.url("/v1/chat/completions"))
        .bearer_auth(TOKEN)
        .header(
            "x-clawgate-session-key",
            HeaderValue::from_bytes(b"work-\xff\xfe").unwrap(),
        )
        .json(&Inbound::Chat.body("clawgate/main", "hi", false))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let body: Value = r.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("x-clawgate-session-key"),
        "{body}"
    );
    assert!(h.mock.requests().is_empty());
}

/// A POST to `path` whose head is exactly `size` bytes (a filler header makes up the rest).
fn head_of_size(path: &str, host: &str, size: usize, body: &str) -> Vec<u8> {
    let fixed = format!(
        "POST {path} HTTP/1.1\r\nHost: {host}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\nx-filler: \r\n\r\n",
        body.len()
    );
    let filler = "f".repeat(size - fixed.len());
    let head = fixed.replace("x-filler: \r\n", &format!("x-filler: {filler}\r\n"));
    assert_eq!(head.len(), size);
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(body.as_bytes());
    bytes
}

#[tokio::test]
async fn the_request_head_limit_is_64_kib_exactly_and_answers_in_the_dialect() {
    let h = Harness::start().await;
    let addr = h.gateway.local_addr();
    let host = addr.to_string();
    let limit = RequestLimits::default().max_header_bytes;
    assert_eq!(limit, 64 * 1024);
    let body = Inbound::Messages.body(&model(), "hi", false).to_string();
    let at = raw_request(addr, &head_of_size("/v1/messages", &host, limit, &body)).await;
    assert_eq!(
        at.status, 200,
        "a head of exactly 64 KiB is served: {}",
        at.body
    );
    let over = raw_request(addr, &head_of_size("/v1/messages", &host, limit + 1, &body)).await;
    assert_eq!(over.status, 431);
    let json = over.json();
    assert_eq!(json["type"], "error", "{json}");
    assert_eq!(json["error"]["type"], "invalid_request_error", "{json}");
    let chat = Inbound::Chat.body(&model(), "hi", false).to_string();
    let over = raw_request(
        addr,
        &head_of_size("/v1/chat/completions", &host, limit + 4096, &chat),
    )
    .await;
    assert_eq!(over.status, 431);
    assert_eq!(
        over.json()["error"]["code"],
        "request_header_fields_too_large"
    );
}

#[tokio::test]
async fn http_layer_errors_carry_the_dialect_error_body() {
    let h = Harness::start().await;
    // 405 from the router, per path.
    let r = h.http.get(h.url("/v1/messages")).send().await.unwrap();
    assert_eq!(r.status(), 405);
    assert!(r.headers().contains_key("allow"));
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["type"], "error", "{body}");
    assert_eq!(body["error"]["type"], "invalid_request_error", "{body}");
    let r = h
        .http
        .get(h.url("/v1/chat/completions"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 405);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "method_not_allowed", "{body}");
    // 404 on an unknown path under /v1/messages answers in Anthropic's shape.
    let r = h
        .post("/v1/messages/count_tokens", &json!({ "model": "x" }))
        .await;
    assert_eq!(r.status(), 404);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["type"], "not_found_error", "{body}");
}

#[tokio::test]
async fn a_declared_oversized_body_is_413_in_the_dialect_shape_before_it_is_read() {
    let h = Harness::with(Setup {
        limits: RequestLimits {
            max_body_bytes: 4096,
            ..Setup::default().limits
        },
        ..Setup::default()
    })
    .await;
    // The limit layer answers from Content-Length alone: the body is never sent.
    let request = format!(
        "POST /v1/messages HTTP/1.1\r\nHost: {}\r\ncontent-type: application/json\r\ncontent-length: 999999\r\nconnection: close\r\n\r\n",
        h.gateway.local_addr()
    );
    let r = raw_request(h.gateway.local_addr(), request.as_bytes()).await;
    assert_eq!(r.status, 413);
    let body = r.json();
    assert_eq!(body["type"], "error", "{body}");
    assert_eq!(body["error"]["type"], "request_too_large", "{body}");
}

#[tokio::test]
async fn internal_errors_do_not_show_state_paths() {
    let h = Harness::with(Setup {
        token: Some(TOKEN.into()),
        ..Setup::default()
    })
    .await;
    // The agent's sessions folder cannot be created: a file is in the way.
    let agents = h.dir.path().join("state").join("agents").join("main");
    std::fs::create_dir_all(&agents).unwrap();
    std::fs::write(agents.join("sessions"), "not a folder").unwrap();
    for stream in [false, true] {
        let r = h
            .post(
                "/v1/chat/completions",
                &Inbound::Chat.body("clawgate/main", "hi", stream),
            )
            .await;
        let status = r.status();
        let text = r.text().await.unwrap();
        assert!(status.is_server_error(), "{status}: {text}");
        let dir = h.dir.path().to_string_lossy().to_string();
        assert!(!text.contains(&dir), "a state path leaked: {text}");
        assert!(text.contains("request id req_"), "{text}");
    }
}

#[tokio::test]
async fn base_url_credentials_do_not_reach_a_502_body() {
    let port = dead_port();
    let h = Harness::with(Setup {
        extra_providers: format!(
            r#""locked": {{ baseUrl: "http://admin:hunter2pass@127.0.0.1:{port}/v1?key=AIzaQuerySecret123",
                api: "openai-completions", models: [{{ id: "m" }}] }},"#
        ),
        ..Setup::default()
    })
    .await;
    let r = h
        .http
        .post(h.url("/v1/chat/completions"))
        .header("x-clawgate-fallbacks", "none")
        .json(&Inbound::Chat.body("locked/m", "hi", false))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 502);
    let text = r.text().await.unwrap();
    assert!(!text.contains("hunter2pass"), "{text}");
    assert!(!text.contains("AIzaQuerySecret123"), "{text}");
}

#[tokio::test]
async fn bodies_beyond_the_in_flight_budget_wait_and_are_refused_not_buffered() {
    let h = Harness::with(Setup {
        limits: RequestLimits {
            max_body_bytes: 64 * 1024,
            body_budget_bytes: 100 * 1024,
            body_budget_wait: Duration::from_millis(200),
            ..Setup::default().limits
        },
        ..Setup::default()
    })
    .await;
    let big = |tag: &str| {
        let mut body = Inbound::Chat.body(&model(), tag, false);
        body["messages"] = json!([
            { "role": "user", "content": "x".repeat(60 * 1024) },
            { "role": "assistant", "content": "ok" },
            { "role": "user", "content": tag },
        ]);
        body
    };
    // A holds 60 KiB of the 100 KiB budget while its upstream hangs (until the provider's
    // first-event timeout).
    h.mock.push_script(Script::fault(Fault::HangBeforeHeaders));
    let holder = {
        let http = h.http.clone();
        let url = h.url("/v1/chat/completions");
        let body = big("holder");
        tokio::spawn(async move {
            http.post(url)
                .header("x-clawgate-fallbacks", "none")
                .json(&body)
                .send()
                .await
                .unwrap()
                .status()
        })
    };
    while h.mock.requests().is_empty() {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // B needs 60 KiB more: no room within its wait, so 503 in the dialect, never read.
    let r = h
        .post("/v1/messages", &{
            let mut body = big("second");
            body["max_tokens"] = json!(16);
            body
        })
        .await;
    assert_eq!(r.status(), 503);
    assert_eq!(r.headers()["retry-after"], "1");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["type"], "overloaded_error", "{body}");
    // A small body still fits beside A.
    let r = h
        .post(
            "/v1/chat/completions",
            &Inbound::Chat.body(&model(), "small", false),
        )
        .await;
    assert_eq!(r.status(), 200);
    // Once A is answered its bytes are free again.
    assert!(holder.await.unwrap().is_server_error());
    let r = h.post("/v1/chat/completions", &big("third")).await;
    assert_eq!(r.status(), 200);
    let seen: Vec<String> = h
        .mock
        .requests()
        .iter()
        .map(|r| r.body["messages"].to_string())
        .collect();
    assert!(
        !seen.iter().any(|m| m.contains("second")),
        "the refused body never went upstream"
    );
}
