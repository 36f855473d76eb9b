//! A proxy named in the environment carries upstream calls (reqwest honours `HTTP_PROXY` and
//! `ALL_PROXY`; with one set, plain-HTTP calls leave the direct path for reqwest, see
//! `clawgate_providers::http_client`). The "proxy" here is mock-upstream: it answers a
//! forward-proxy request (`POST http://host/...`) by its path, so an answer for a host that
//! never resolves proves the call went through it. `HTTPS_PROXY` is asked for a tunnel to an
//! `https://` provider; a `.env` file does not set a proxy.

use mock_upstream::{MockConfig, MockServer, Script};

use super::failover_support::run;
use super::harness::Cli;

/// `.invalid` never resolves (RFC 6761).
const UNRESOLVABLE: &str = "http://clawgate-proxy-test.invalid:9/v1";

fn write_config(cli: &Cli) -> String {
    let text = format!(
        r#"{{ models: {{ mode: "replace", providers: {{ far: {{ baseUrl: "{UNRESOLVABLE}",
  apiKey: "sk-far", api: "openai-completions",
  models: [{{ id: "mock-model", name: "Mock", contextWindow: 8192, maxTokens: 64 }}] }} }} }} }}"#
    );
    cli.write("cfg/clawgate.json", &text)
        .to_str()
        .unwrap()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_http_proxy_in_the_environment_carries_upstream_calls() {
    let proxy =
        MockServer::start(MockConfig::default().script(Script::text("via the proxy"))).await;
    let proxy_url = proxy.base_url();
    let cli = Cli::new();
    let cfg = write_config(&cli);
    let args = [
        "--config",
        &cfg,
        "models",
        "test",
        "far/mock-model",
        "--json",
    ];

    let direct = run(&cli, &args, &[]);
    assert_ne!(direct.code, 0, "{}", direct.stdout);
    assert_eq!(proxy.request_count(), 0);

    for var in ["HTTP_PROXY", "http_proxy", "ALL_PROXY"] {
        let before = proxy.request_count();
        let r = run(&cli, &args, &[(var, &proxy_url)]);
        assert_eq!(r.code, 0, "{var}: {}\n{}", r.stdout, r.stderr);
        let json = r.json();
        assert_eq!(json["ok"], true, "{var}: {json:#}");
        assert_eq!(json["text"], "via the proxy", "{var}: {json:#}");
        assert!(proxy.request_count() > before, "{var}");
    }

    // NO_PROXY names the host: the call skips the proxy (and the host does not resolve).
    let before = proxy.request_count();
    let env = [
        ("HTTP_PROXY", proxy_url.as_str()),
        ("NO_PROXY", "clawgate-proxy-test.invalid"),
    ];
    let r = run(&cli, &args, &env);
    assert_ne!(r.code, 0, "{}", r.stdout);
    assert_eq!(proxy.request_count(), before);

    // A `.env` file feeds `${VAR}` in the config, not the process environment: no proxy.
    cli.write("cwd/.env", &format!("HTTP_PROXY={proxy_url}\n"));
    let r = run(&cli, &args, &[]);
    assert_ne!(r.code, 0, "{}", r.stdout);
    assert_eq!(proxy.request_count(), before);
}

/// `https://` providers go through `HTTPS_PROXY` as a tunnel: the proxy is asked to
/// `CONNECT` to the provider's host (a raw listener stands in, and refuses the tunnel).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_providers_ask_https_proxy_for_a_tunnel() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let proxy_url = format!("http://{}", listener.local_addr().unwrap());
    let asked = tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut head = Vec::new();
        let mut buf = [0u8; 1024];
        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = socket.read(&mut buf).await.unwrap();
            assert!(n > 0, "closed before the head ended");
            head.extend_from_slice(&buf[..n]);
        }
        let _ = socket
            .write_all(b"HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n")
            .await;
        String::from_utf8_lossy(&head).into_owned()
    });
    let cli = Cli::new();
    let text = r#"{ models: { mode: "replace", providers: { far: {
  baseUrl: "https://clawgate-proxy-test.invalid:9443/v1", apiKey: "sk-far",
  api: "openai-completions",
  models: [{ id: "mock-model", name: "Mock", contextWindow: 8192, maxTokens: 64 }] } } } }"#;
    let cfg = cli.write("cfg/clawgate.json", text);
    let args = [
        "--config",
        cfg.to_str().unwrap(),
        "models",
        "test",
        "far/mock-model",
        "--json",
    ];
    let r = run(&cli, &args, &[("HTTPS_PROXY", &proxy_url)]);
    assert_ne!(r.code, 0, "the tunnel was refused: {}", r.stdout);
    let head = asked.await.unwrap();
    assert!(
        head.starts_with("CONNECT clawgate-proxy-test.invalid:9443 HTTP/1.1\r\n"),
        "{head}"
    );
}
