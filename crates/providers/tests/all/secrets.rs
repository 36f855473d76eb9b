//! A real key never shows: not in an error message even when the upstream echoes it back (in
//! full or in part), not in `Debug` of the spec or the provider.

use clawgate_providers::{ApiKind, FailureKind, ProviderSpec};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::support::*;

const KEY: &str = "sk-proj-Q9w8E7r6T5y4U3i2O1p0AsDfGhJkLzXc";

/// A one-request HTTP server that answers 401 with a body quoting the credential it got.
async fn echo_server() -> String {
    serve_once(|head| {
        let credential = head
            .lines()
            .find_map(|l| {
                let lower = l.to_ascii_lowercase();
                (lower.starts_with("authorization:") || lower.starts_with("x-api-key:"))
                    .then(|| l.split_once(':').map(|(_, v)| v.trim().to_string()))
                    .flatten()
            })
            .unwrap_or_default();
        let token = credential.trim_start_matches("Bearer ").to_string();
        let prefix: String = token.chars().take(20).collect();
        format!(
            r#"{{"error":{{"message":"Incorrect API key provided: {token}. (starts with {prefix})","type":"invalid_request_error","code":"invalid_api_key"}}}}"#
        )
    })
    .await
}

/// A one-request HTTP server that answers 401 with `body(request head)`.
async fn serve_once(body: impl FnOnce(&str) -> String + Send + 'static) -> String {
    let listener = match TcpListener::bind("127.0.0.1:0").await {
        Ok(l) => l,
        Err(e) => panic!("bind: {e}"),
    };
    let addr = match listener.local_addr() {
        Ok(a) => a,
        Err(e) => panic!("addr: {e}"),
    };
    tokio::spawn(async move {
        let Ok((mut sock, _)) = listener.accept().await else {
            return;
        };
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
            match sock.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
        let head = String::from_utf8_lossy(&buf).to_string();
        let body = body(&head);
        let response = format!(
            "HTTP/1.1 401 Unauthorized\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
        let _ = sock.write_all(response.as_bytes()).await;
        let _ = sock.shutdown().await;
    });
    format!("http://{addr}")
}

#[tokio::test]
async fn an_echoed_key_is_redacted_from_errors() {
    for api in [ApiKind::OpenAiCompletions, ApiKind::AnthropicMessages] {
        let base = echo_server().await;
        let base = if api == ApiKind::OpenAiCompletions {
            format!("{base}/v1")
        } else {
            base
        };
        let s = ProviderSpec::new("hosted", api, base).with_key(KEY);
        let out = run(&provider(&s), request("hi", true)).await;
        let err = out.error();
        assert_eq!(err.kind, FailureKind::Auth, "{api}");
        assert!(err.message.contains("Incorrect API key"), "{}", err.message);
        for shown in [err.message.clone(), format!("{err:?}"), err.to_string()] {
            assert!(!shown.contains(KEY), "{api}: key leaked: {shown}");
            assert!(
                !shown.contains(&KEY[..20]),
                "{api}: key prefix leaked: {shown}"
            );
        }
    }
}

#[tokio::test]
async fn debug_output_hides_keys() {
    let s = ProviderSpec::new(
        "hosted",
        ApiKind::OpenAiCompletions,
        "https://api.openai.com/v1",
    )
    .with_key(KEY);
    assert!(!format!("{s:?}").contains(KEY));
    let p = provider(&s);
    assert_eq!(p.id(), "hosted");
}

const AZURE_KEY: &str = "3f9a1c7e5b2d4f6a8c0e1b3d5f7a9c2e";
const QUERY_KEY: &str = "AIzaSyQ-query-key-0123456789abcdef";

#[tokio::test]
async fn header_values_and_url_credentials_echoed_by_an_upstream_are_redacted() {
    // Azure-style: the key travels in an `api-key` header; a gateway echoes every header and
    // the request line (with its `?key=` query) back in its 401.
    let base = serve_once(|head| {
        let line = head.lines().next().unwrap_or_default().replace('"', "'");
        let api_key = head
            .lines()
            .find_map(|l| l.strip_prefix("api-key: "))
            .unwrap_or_default()
            .to_string();
        format!(
            r#"{{"error":{{"message":"Access denied: invalid subscription key {api_key} for {line}","code":"401"}}}}"#
        )
    })
    .await;
    let mut spec = ProviderSpec::new(
        "azure",
        ApiKind::OpenAiCompletions,
        format!("{base}/v1?key={QUERY_KEY}"),
    );
    spec.headers.insert("api-key".into(), AZURE_KEY.into());
    let out = run(&provider(&spec), request("hi", true)).await;
    let err = out.error();
    assert!(err.message.contains("Access denied"), "{}", err.message);
    // The path went before the query: the request line ends in `/chat/completions?key=[…]`.
    assert!(
        err.message.contains("/v1/chat/completions?key="),
        "{}",
        err.message
    );
    for shown in [err.message.clone(), format!("{err:?}"), err.to_string()] {
        assert!(!shown.contains(AZURE_KEY), "header value leaked: {shown}");
        assert!(!shown.contains(QUERY_KEY), "query key leaked: {shown}");
    }
}

#[tokio::test]
async fn a_transport_error_shows_the_base_url_without_credentials() {
    let addr = free_addr().await;
    let spec = ProviderSpec::new(
        "box",
        ApiKind::OpenAiCompletions,
        format!("http://admin:pw@{addr}/v1?sig=s1gn4ture&mode=x"),
    );
    let out = run(&provider(&spec), request("hi", true)).await;
    let err = out.error();
    assert!(matches!(err.kind, FailureKind::Network { .. }), "{err:?}");
    assert!(!err.message.contains(":pw@"), "{}", err.message);
    assert!(!err.message.contains("s1gn4ture"), "{}", err.message);
}
