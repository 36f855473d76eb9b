//! Transport failures without an HTTP status: refused, DNS, TLS, reset, header timeout.

use clawgate_providers::{ApiKind, FailureKind, NetworkCause, ProviderSpec};
use mock_upstream::{Fault, Script};

use crate::support::*;

fn net(cause: NetworkCause) -> FailureKind {
    FailureKind::Network { cause }
}

#[tokio::test]
async fn connection_refused() {
    let addr = free_addr().await;
    let s = ProviderSpec::new("x", ApiKind::OpenAiCompletions, format!("http://{addr}/v1"));
    let out = run(&provider(&s), request("hi", true)).await;
    assert_eq!(
        out.error().kind,
        net(NetworkCause::Refused),
        "{}",
        out.error().message
    );
}

#[tokio::test]
async fn unknown_host_is_dns() {
    // `.invalid` never resolves (RFC 6761), with or without network access.
    let s = ProviderSpec::new(
        "x",
        ApiKind::OpenAiCompletions,
        "http://clawgate-test.invalid/v1",
    );
    let out = run(&provider(&s), request("hi", true)).await;
    assert_eq!(
        out.error().kind,
        net(NetworkCause::Dns),
        "{}",
        out.error().message
    );
}

#[tokio::test]
async fn tls_to_a_plain_http_port_is_tls() {
    let mock = mock().await;
    let base = mock.openai_base_url().replacen("http://", "https://", 1);
    let s = ProviderSpec::new("x", ApiKind::OpenAiCompletions, base);
    let out = run(&provider(&s), request("hi", true)).await;
    assert_eq!(
        out.error().kind,
        net(NetworkCause::Tls),
        "{}",
        out.error().message
    );
}

#[tokio::test]
async fn reset_before_any_byte() {
    let mock = mock().await;
    mock.push_script(Script::fault(Fault::Reset));
    let out = run(
        &provider(&spec(&mock, ApiKind::OpenAiCompletions)),
        request("hi", true),
    )
    .await;
    assert_eq!(
        out.error().kind,
        net(NetworkCause::Reset),
        "{}",
        out.error().message
    );
}

#[tokio::test]
async fn connections_are_reused_across_attempts() {
    let mock = mock().await;
    let p = provider(&spec(&mock, ApiKind::OpenAiCompletions));
    for _ in 0..3 {
        assert_well_formed(&run(&p, request("hi", true)).await);
        assert_well_formed(&run(&p, request("hi", false)).await);
    }
    assert_eq!(mock.connection_count(), 1, "keep-alive pooling");
}

// The raw-socket helpers below panic on any I/O error: that is the test failing.

/// One request as a raw HTTP/1.1 server saw it: the head's lines (names lowercased) and the
/// body. Answers 200 with a small JSON document.
#[allow(clippy::expect_used)]
async fn capture_one(listener: tokio::net::TcpListener) -> (Vec<String>, Vec<u8>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (mut socket, _) = listener.accept().await.expect("accept");
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    let head_end = loop {
        let n = socket.read(&mut buf).await.expect("read");
        assert!(n > 0, "closed before the head ended");
        seen.extend_from_slice(&buf[..n]);
        if let Some(at) = seen.windows(4).position(|w| w == b"\r\n\r\n") {
            break at;
        }
    };
    let head = String::from_utf8_lossy(&seen[..head_end]).to_string();
    let lines: Vec<String> = head
        .lines()
        .map(|line| match line.split_once(':') {
            Some((name, value)) => format!("{}:{}", name.to_ascii_lowercase(), value),
            None => line.to_string(),
        })
        .collect();
    let length: usize = lines
        .iter()
        .find_map(|l| l.strip_prefix("content-length:"))
        .map(|v| v.trim().parse().expect("content-length"))
        .unwrap_or(0);
    let mut body = seen[head_end + 4..].to_vec();
    while body.len() < length {
        let n = socket.read(&mut buf).await.expect("read body");
        assert!(n > 0, "closed before the body ended");
        body.extend_from_slice(&buf[..n]);
    }
    let answer = r#"{"data":[]}"#;
    let reply = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{answer}",
        answer.len()
    );
    socket.write_all(reply.as_bytes()).await.expect("write");
    (lines, body)
}

/// Plain-HTTP calls take hyper's client directly unless a proxy is configured (then reqwest,
/// which honours it): both must put the same request on the wire.
#[tokio::test]
#[allow(clippy::expect_used)]
async fn the_direct_path_and_reqwest_send_the_same_request() {
    use clawgate_providers::HttpClient;
    use reqwest::header::{HeaderMap, HeaderValue};
    let direct = client();
    assert!(
        direct.calls_plain_http_directly(),
        "no proxy is set for the tests"
    );
    let via_reqwest = HttpClient::from_reqwest(
        reqwest::Client::builder()
            .user_agent(concat!("clawgate/", env!("CARGO_PKG_VERSION")))
            .build()
            .expect("reqwest client"),
    );
    let mut seen = Vec::new();
    for client in [&direct, &via_reqwest] {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let server = tokio::spawn(capture_one(listener));
        let mut headers = HeaderMap::new();
        headers.insert("authorization", HeaderValue::from_static("Bearer sk-test"));
        let url = format!("http://{addr}/v1/chat/completions?api-version=1");
        let response = client
            .post_json(&url, headers, br#"{"model":"m"}"#.to_vec())
            .await
            .expect("answered");
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-type"], "application/json");
        assert_eq!(
            &response.bytes().await.expect("body")[..],
            br#"{"data":[]}"#
        );
        let (mut lines, body) = server.await.expect("server");
        assert_eq!(body, br#"{"model":"m"}"#);
        assert_eq!(lines[0], "POST /v1/chat/completions?api-version=1 HTTP/1.1");
        assert!(lines.contains(&format!("host: {addr}")), "{lines:?}");
        lines.retain(|l| !l.starts_with("host:"));
        lines.sort();
        seen.push(lines);
    }
    assert_eq!(seen[0], seen[1], "the same head either way");
    for expected in [
        "authorization: Bearer sk-test",
        "content-type: application/json",
        "content-length: 13",
        "accept: */*",
    ] {
        assert!(
            seen[0].iter().any(|l| l == expected),
            "{expected}: {:?}",
            seen[0]
        );
    }
    let agent = format!("user-agent: clawgate/{}", env!("CARGO_PKG_VERSION"));
    assert!(seen[0].contains(&agent), "{:?}", seen[0]);
}

/// Credentials written into a base URL (`http://user:pass@host`) go as basic auth, on the
/// client the gateway uses.
#[tokio::test]
#[allow(clippy::expect_used)]
async fn credentials_in_a_plain_http_url_go_as_basic_auth() {
    use reqwest::header::HeaderMap;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let server = tokio::spawn(capture_one(listener));
    let url = format!("http://admin:pw@{addr}/v1/chat/completions");
    let response = client()
        .post_json(&url, HeaderMap::new(), b"{}".to_vec())
        .await
        .expect("answered");
    assert_eq!(response.status(), 200);
    let (lines, _) = server.await.expect("server");
    // base64("admin:pw")
    assert!(
        lines
            .iter()
            .any(|l| l == "authorization: Basic YWRtaW46cHc="),
        "{lines:?}"
    );
}
