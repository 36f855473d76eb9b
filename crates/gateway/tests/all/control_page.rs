//! The Control UI page: served at `/` from compiled-in assets without a token, with a strict
//! Content-Security-Policy and the other hardening headers, and refused on a loopback listener
//! when `Host` is not a loopback name (DNS rebinding), for the page and its JSON API alike.

use reqwest::header::HOST;

use crate::support::{Harness, Setup};

fn with_token() -> Setup {
    Setup {
        token: Some("page-token".into()),
        ..Setup::default()
    }
}

#[tokio::test]
async fn the_page_and_its_assets_need_no_token_and_carry_a_strict_policy() {
    let h = Harness::with(with_token()).await;
    let r = h.http.get(h.url("/")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let headers = r.headers().clone();
    assert_eq!(headers["content-type"], "text/html; charset=utf-8");
    let csp = headers["content-security-policy"].to_str().unwrap();
    for directive in [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "connect-src 'self'",
        "frame-ancestors 'none'",
    ] {
        assert!(csp.contains(directive), "{csp}");
    }
    assert!(
        !csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"),
        "{csp}"
    );
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["referrer-policy"], "no-referrer");
    assert_eq!(headers["x-frame-options"], "DENY");
    assert!(headers.get("set-cookie").is_none());
    let html = r.text().await.unwrap();
    assert!(html.contains("<script type=\"module\" src=\"/ui/app.js\"></script>"));

    for (path, content_type) in [
        ("/ui/app.js", "text/javascript; charset=utf-8"),
        ("/ui/markdown.js", "text/javascript; charset=utf-8"),
        ("/ui/app.css", "text/css; charset=utf-8"),
        ("/ui/favicon.svg", "image/svg+xml"),
    ] {
        let r = h.http.get(h.url(path)).send().await.unwrap();
        assert_eq!(r.status(), 200, "{path}");
        assert_eq!(r.headers()["content-type"], content_type, "{path}");
        assert_eq!(r.headers()["x-content-type-options"], "nosniff", "{path}");
        assert!(!r.bytes().await.unwrap().is_empty());
    }
    let missing = h.http.get(h.url("/ui/nope.js")).send().await.unwrap();
    assert_eq!(missing.status(), 404);
}

#[tokio::test]
async fn a_loopback_gateway_answers_only_loopback_host_names() {
    let h = Harness::with(with_token()).await;
    let port = h.gateway.local_addr().port();
    for host in [format!("127.0.0.1:{port}"), format!("localhost:{port}")] {
        let r = h
            .http
            .get(h.url("/"))
            .header(HOST, &host)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{host}");
    }
    for path in ["/", "/ui/app.js"] {
        let r = h
            .http
            .get(h.url(path))
            .header(HOST, format!("evil.example:{port}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403, "{path}");
        assert!(r.text().await.unwrap().contains("DNS rebinding"));
    }
    // The JSON API too, even with the right token.
    let r = h
        .http
        .get(h.url("/clawgate/v1/overview"))
        .bearer_auth("page-token")
        .header(HOST, format!("rebind.example:{port}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
}

#[tokio::test]
async fn the_json_api_needs_the_token_like_v1() {
    let h = Harness::with(with_token()).await;
    let r = h
        .http
        .get(h.url("/clawgate/v1/overview"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "invalid_api_key");
    let r = h
        .http
        .get(h.url("/clawgate/v1/requests"))
        .bearer_auth("wrong")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let overview = h.get_json("/clawgate/v1/overview").await;
    assert_eq!(overview["defaultAgent"], "main");
    assert_eq!(overview["agents"][0]["id"], "main");
    assert_eq!(overview["primary"], "chatup/mock-model");
    let models = overview["models"].as_array().unwrap();
    let fast = models
        .iter()
        .find(|m| m["ref"] == "chatup/mock-model")
        .unwrap();
    assert_eq!(fast["alias"], "fast");
    assert_eq!(fast["contextWindow"], 65536);
}

#[tokio::test]
async fn the_control_namespace_does_not_shadow_other_paths() {
    let h = Harness::start().await;
    for path in ["/api/nope", "/clawgate/v2/overview", "/clawgate/v1/nope"] {
        let r = h.get(path).await;
        assert_eq!(r.status(), 404, "{path}");
    }
}
