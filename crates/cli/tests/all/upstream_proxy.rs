//! A proxy named in the environment carries upstream calls (reqwest honours `HTTP_PROXY` and
//! `ALL_PROXY`; with one set, plain-HTTP calls leave the direct path for reqwest, see
//! `clawgate_providers::http_client`). The "proxy" here is mock-upstream: it answers a
//! forward-proxy request (`POST http://host/...`) by its path, so an answer for a host that
//! never resolves proves the call went through it.

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
}
