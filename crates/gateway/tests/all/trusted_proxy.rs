//! `gateway.auth.mode: "trusted-proxy"` and `gateway.trustedProxies`: a request from the proxy
//! address is let in by the identity it carries (required headers, allow list, loopback only
//! with `allowLoopback`); from any other address it needs the gateway token. In token mode the
//! lockout counts the client a trusted proxy names in `X-Forwarded-For`, and nobody else's
//! `X-Forwarded-For`. The proxy connects from 127.0.0.2, direct clients from 127.0.0.1 (all
//! loopback, as tests must be).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use clawgate_gateway::{AuthLimits, Gateway, GatewayOptions};
use clawgate_runtime::{Services, ServicesOptions};
use serde_json::Value;

use crate::support::{Harness, Inbound, MODEL, Setup, config_text, load_options, mock};

const TOKEN: &str = "direct-client-token";
const PROXY: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));

fn proxy_config(allow_loopback: bool) -> String {
    format!(
        r#"gateway: {{
      trustedProxies: ["127.0.0.2"],
      auth: {{ mode: "trusted-proxy", token: "{TOKEN}",
        trustedProxy: {{ userHeader: "X-Forwarded-User", requiredHeaders: ["x-forwarded-proto"],
                         allowUsers: ["alice@example.com"], allowLoopback: {allow_loopback} }} }},
    }},"#
    )
}

/// A client whose connections come from `from`.
fn client(from: IpAddr) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(from)
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
}

async fn post(h: &Harness, from: IpAddr, headers: &[(&str, &str)]) -> (reqwest::StatusCode, Value) {
    let mut request = client(from)
        .post(h.url(Inbound::Chat.path()))
        .json(&Inbound::Chat.body(&format!("chatup/{MODEL}"), "hi", false));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn message(body: &Value) -> &str {
    body["error"]["message"].as_str().unwrap_or_default()
}

const ALICE: [(&str, &str); 2] = [
    ("x-forwarded-user", "alice@example.com"),
    ("x-forwarded-proto", "https"),
];

#[tokio::test]
async fn the_proxy_vouches_for_its_users_and_direct_clients_need_the_token() {
    let h = Harness::with(Setup {
        extra_root: proxy_config(true),
        ..Setup::default()
    })
    .await;
    let direct = IpAddr::V4(Ipv4Addr::LOCALHOST);

    let (status, _) = post(&h, PROXY, &ALICE).await;
    assert_eq!(status, 200, "identity from the proxy, no token");

    let (status, body) = post(&h, PROXY, &[("x-forwarded-user", "alice@example.com")]).await;
    assert_eq!(status, 401);
    assert!(message(&body).starts_with("trusted_proxy_missing_header_x-forwarded-proto"));

    // From the proxy without a user, a token is no way around it.
    let bearer = format!("Bearer {TOKEN}");
    let (status, body) = post(
        &h,
        PROXY,
        &[("x-forwarded-proto", "https"), ("authorization", &bearer)],
    )
    .await;
    assert_eq!(status, 401);
    assert!(
        message(&body).starts_with("trusted_proxy_user_missing"),
        "{body}"
    );

    let (status, body) = post(
        &h,
        PROXY,
        &[
            ("x-forwarded-user", "mallory"),
            ("x-forwarded-proto", "https"),
        ],
    )
    .await;
    assert_eq!(status, 401);
    assert!(message(&body).starts_with("trusted_proxy_user_not_allowed"));

    // A direct client's identity headers count for nothing: it needs the token.
    let (status, body) = post(&h, direct, &ALICE).await;
    assert_eq!(status, 401);
    assert!(message(&body).contains("missing gateway token"), "{body}");
    let (status, _) = post(&h, direct, &[("authorization", &bearer)]).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn a_loopback_proxy_counts_only_with_allow_loopback() {
    let h = Harness::with(Setup {
        extra_root: proxy_config(false),
        ..Setup::default()
    })
    .await;
    let (status, body) = post(&h, PROXY, &ALICE).await;
    assert_eq!(status, 401, "{body}");
    let bearer = format!("Bearer {TOKEN}");
    let (status, _) = post(&h, PROXY, &[("authorization", &bearer)]).await;
    assert_eq!(
        status, 200,
        "treated as a direct client, the token lets it in"
    );
}

#[tokio::test]
async fn a_trusted_proxy_mode_gateway_may_listen_beyond_loopback_without_a_token() {
    let mock = mock().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("clawgate.json");
    let setup = Setup {
        extra_root: proxy_config(true).replace(&format!("token: \"{TOKEN}\","), ""),
        ..Setup::default()
    };
    std::fs::write(&path, config_text(&mock, &dir.path().join("ws"), &setup)).unwrap();
    let services =
        Services::load(&load_options(dir.path(), path), ServicesOptions::default()).unwrap();
    assert!(services.auth_token().unwrap().is_none());
    let options = GatewayOptions::new(SocketAddr::from(([0, 0, 0, 0], 0)));
    let gateway = Gateway::start(services, None, options).await.unwrap();
    gateway.shutdown().await;
}

#[tokio::test]
async fn the_lockout_counts_the_client_behind_a_trusted_proxy() {
    let h = Harness::with(Setup {
        auth_limits: AuthLimits {
            max_failures: 2,
            window: Duration::from_secs(60),
            lockout: Duration::from_secs(60),
        },
        extra_root: r#"gateway: { trustedProxies: ["127.0.0.2"], auth: { mode: "token", token: "direct-client-token" } },"#
            .into(),
        ..Setup::default()
    })
    .await;
    let bearer = format!("Bearer {TOKEN}");
    // The second failure starts the lockout (and is answered 429 already).
    for expected in [401, 429] {
        let (status, _) = post(&h, PROXY, &[("x-forwarded-for", "203.0.113.5")]).await;
        assert_eq!(status, expected);
    }
    let (status, _) = post(
        &h,
        PROXY,
        &[
            ("x-forwarded-for", "203.0.113.5"),
            ("authorization", &bearer),
        ],
    )
    .await;
    assert_eq!(status, 429, "203.0.113.5 is locked out");
    let (status, _) = post(
        &h,
        PROXY,
        &[
            ("x-forwarded-for", "203.0.113.6"),
            ("authorization", &bearer),
        ],
    )
    .await;
    assert_eq!(status, 200, "another client behind the same proxy is not");

    // A direct client cannot choose whom its failures count against.
    let direct = IpAddr::V4(Ipv4Addr::LOCALHOST);
    for (n, expected) in [401, 429].into_iter().enumerate() {
        let spoof = format!("198.51.100.{n}");
        let (status, _) = post(&h, direct, &[("x-forwarded-for", &spoof)]).await;
        assert_eq!(status, expected);
    }
    let (status, _) = post(
        &h,
        direct,
        &[
            ("x-forwarded-for", "198.51.100.9"),
            ("authorization", &bearer),
        ],
    )
    .await;
    assert_eq!(
        status, 429,
        "its own address is locked out, whatever header it sends"
    );
}

#[tokio::test]
async fn direct_clients_may_use_the_password_instead() {
    let h = Harness::with(Setup {
        extra_root: proxy_config(true).replace(
            &format!("token: \"{TOKEN}\","),
            "password: \"local-password\",",
        ),
        ..Setup::default()
    })
    .await;
    let direct = IpAddr::V4(Ipv4Addr::LOCALHOST);
    let (status, _) = post(&h, direct, &[("x-api-key", "local-password")]).await;
    assert_eq!(status, 200);
    let (status, _) = post(&h, direct, &[("x-api-key", TOKEN)]).await;
    assert_eq!(status, 401);
}
