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
