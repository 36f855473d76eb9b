//! Web pages cannot drive the gateway: a cross-site "simple" POST (text/plain, no preflight) is
//! refused before anything runs, a DNS-rebinding `Host` is refused on a loopback bind, while
//! the gateway's own origin, origins CORS allows (`gateway.controlUi.allowedOrigins`,
//! `--cors-origin`) and reverse-proxy names in `gateway.allowedHosts` are served.

use mock_upstream::Script;
use serde_json::{Value, json};

use crate::support::{Harness, Inbound, MODEL, Setup, config_text, raw_post, raw_request};

const TOKEN: &str = "gw-browser-token-5678";

fn agent_body() -> Value {
    Inbound::Chat.body("clawgate/main", "please write the file", false)
}

/// The mock asks the agent to `write` `pwned.txt` (once); then answers plainly.
fn script_write(h: &Harness) {
    h.mock.push_script(
        Script::default().with_tool_call("write", json!({ "path": "pwned.txt", "content": "x" })),
    );
}

#[tokio::test]
async fn a_cross_site_text_plain_post_is_refused_and_writes_nothing() {
    let h = Harness::with(Setup {
        token: Some(TOKEN.into()),
        ..Setup::default()
    })
    .await;
    let pwned = h.dir.path().join("workspace").join("pwned.txt");
    script_write(&h);
    // What a page on another site can send without a preflight: text/plain, its own Origin.
    // Even holding the right token, it is refused before the agent runs.
    let r = h
        .http
        .post(h.url("/v1/chat/completions"))
        .header("origin", "https://evil.example")
        .header("content-type", "text/plain;charset=UTF-8")
        .bearer_auth(TOKEN)
        .body(agent_body().to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert!(r.headers().get("access-control-allow-origin").is_none());
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "origin_not_allowed", "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("gateway.controlUi.allowedOrigins"),
        "{body}"
    );

    // Without an Origin (a form post from a sandboxed frame, a Blob body): the content type
    // alone refuses it, in the dialect of the path.
    for (path, content_type) in [
        ("/v1/chat/completions", Some("text/plain")),
        ("/v1/messages", Some("application/x-www-form-urlencoded")),
        ("/v1/responses", None),
    ] {
        let mut request = h
            .http
            .post(h.url(path))
            .bearer_auth(TOKEN)
            .body(agent_body().to_string());
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        let r = request.send().await.unwrap();
        assert_eq!(r.status(), 415, "{path}");
        let body: Value = r.json().await.unwrap();
        if path == "/v1/messages" {
            assert_eq!(body["type"], "error", "{body}");
            assert_eq!(body["error"]["type"], "invalid_request_error", "{body}");
        } else {
            assert_eq!(body["error"]["code"], "unsupported_media_type", "{body}");
        }
    }
    assert!(h.mock.requests().is_empty(), "nothing reached the model");
    assert!(!pwned.exists(), "no file was written");

    // The same turn as a JSON API call without a browser Origin runs and writes the file
    // (so the refusals above are what kept it from happening).
    let r = h.post("/v1/chat/completions", &agent_body()).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    assert!(pwned.exists(), "the scripted write ran");
}

#[tokio::test]
async fn a_dns_rebinding_host_is_refused_on_a_loopback_bind() {
    let h = Harness::start().await;
    let addr = h.gateway.local_addr();
    let body = Inbound::Messages.body(&format!("chatup/{MODEL}"), "hi", false);
    let r = raw_request(
        addr,
        &raw_post("/v1/messages", "evil.example:18789", &[], &body),
    )
    .await;
    assert_eq!(r.status, 403, "{r:?}");
    assert_eq!(
        r.header("content-type").as_deref(),
        Some("application/json")
    );
    let json = r.json();
    assert_eq!(json["type"], "error", "{json}");
    assert_eq!(json["error"]["type"], "permission_error", "{json}");
    assert!(
        json["error"]["message"]
            .as_str()
            .unwrap()
            .contains("gateway.allowedHosts"),
        "{json}"
    );
    // Reads are refused too (a rebinding page reads answers, not only sends).
    let get = format!(
        "GET /v1/models HTTP/1.1\r\nHost: evil.example:{}\r\nconnection: close\r\n\r\n",
        addr.port()
    );
    let r = raw_request(addr, get.as_bytes()).await;
    assert_eq!(r.status, 403, "{r:?}");
    assert_eq!(r.json()["error"]["code"], "host_not_allowed");
    assert!(h.mock.requests().is_empty());

    // Loopback names pass, with or without a port.
    for host in [
        format!("127.0.0.1:{}", addr.port()),
        format!("localhost:{}", addr.port()),
        "localhost".to_string(),
        format!("app.localhost:{}", addr.port()),
        format!("[::1]:{}", addr.port()),
    ] {
        let body = Inbound::Chat.body(&format!("chatup/{MODEL}"), "hi", false);
        let r = raw_request(addr, &raw_post("/v1/chat/completions", &host, &[], &body)).await;
        assert_eq!(r.status, 200, "{host}: {r:?}");
    }
}

#[tokio::test]
async fn allowed_hosts_let_a_reverse_proxy_name_in() {
    let h = Harness::start().await;
    let addr = h.gateway.local_addr();
    let body = Inbound::Chat.body(&format!("chatup/{MODEL}"), "via the proxy", false);
    let request = raw_post("/v1/chat/completions", "clawgate.example.com", &[], &body);
    assert_eq!(raw_request(addr, &request).await.status, 403);

    let setup = Setup {
        extra_gateway: r#"allowedHosts: ["clawgate.example.com"],"#.into(),
        ..Setup::default()
    };
    let text = config_text(&h.mock, &h.dir.path().join("workspace"), &setup);
    std::fs::write(&h.config_path, text).unwrap();
    h.gateway.reload().unwrap();
    let r = raw_request(addr, &request).await;
    assert_eq!(r.status, 200, "{r:?}");
    // Other names stay out.
    let other = raw_post("/v1/chat/completions", "other.example.com", &[], &body);
    assert_eq!(raw_request(addr, &other).await.status, 403);
}

#[tokio::test]
async fn the_gateways_own_origin_and_allowed_origins_are_served() {
    let h = Harness::with(Setup {
        extra_gateway: r#"controlUi: { allowedOrigins: ["https://app.example.com"] },"#.into(),
        cors_origins: vec!["http://tools.example:8080".into()],
        ..Setup::default()
    })
    .await;
    let port = h.gateway.local_addr().port();
    let body = Inbound::Chat.body(&format!("chatup/{MODEL}"), "hi", false);
    let from = |origin: &str| {
        h.http
            .post(h.url("/v1/chat/completions"))
            .header("origin", origin)
            .json(&body)
            .send()
    };
    // The web UI at `/` of the gateway itself: same scheme, host and port.
    let own = format!("http://127.0.0.1:{port}");
    for origin in [
        own.as_str(),
        "https://app.example.com",
        "http://tools.example:8080",
    ] {
        let r = from(origin).await.unwrap();
        assert_eq!(r.status(), 200, "{origin}");
        if origin != own {
            assert_eq!(r.headers()["access-control-allow-origin"], origin);
        }
    }
    // Another local port is another origin (a dev server, another app).
    for origin in [
        "http://localhost:5173",
        "null",
        "https://app.example.com.evil.example",
    ] {
        assert_eq!(from(origin).await.unwrap().status(), 403, "{origin}");
    }
}

#[tokio::test]
async fn preflight_works_when_cors_is_configured() {
    let h = Harness::with(Setup {
        extra_gateway: r#"controlUi: { allowedOrigins: ["https://app.example.com"] },"#.into(),
        ..Setup::default()
    })
    .await;
    let preflight = |origin: &'static str| {
        h.http
            .request(reqwest::Method::OPTIONS, h.url("/v1/messages"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "content-type,x-api-key,anthropic-version",
            )
            .send()
    };
    let r = preflight("https://app.example.com").await.unwrap();
    assert_eq!(r.status(), 200);
    let headers = r.headers();
    assert_eq!(
        headers["access-control-allow-origin"],
        "https://app.example.com"
    );
    let methods = headers["access-control-allow-methods"].to_str().unwrap();
    assert!(methods.contains("POST"), "{methods}");
    assert!(headers.contains_key("access-control-allow-headers"));

    let r = preflight("https://evil.example").await.unwrap();
    assert_eq!(r.status(), 403);
    assert!(r.headers().get("access-control-allow-origin").is_none());
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["type"], "permission_error", "{body}");
}
