//! `web_fetch` against SSRF: a hosts table injected into the tool points names at loopback,
//! cloud-metadata, CGNAT and private addresses; the test server itself is on loopback, so the
//! tool allowlists only the name `pages.test` (its address stays refused under any other name)
//! and redirect chains from it into private targets are followed hop by hop and refused.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use clawgate_agent::tools::fetch_guard::StaticHosts;
use clawgate_agent::tools::web_fetch::WebFetchTool;
use clawgate_agent::{
    SsrfPolicy, Tool, ToolContext, ToolOutput, ToolSettings, WebFetchSettings, Workspace,
};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A loopback HTTP server with a few routes; remembers every path it was asked for.
/// `/payload` serves whatever `payload` holds, as plain text.
pub struct TestServer {
    pub port: u16,
    pub seen: Arc<Mutex<Vec<String>>>,
    pub payload: Arc<Mutex<String>>,
}

fn response(path: &str, port: u16, payload: &str) -> String {
    let (status, headers, body) = match path {
        "/payload" => (
            "200 OK",
            "content-type: text/plain; charset=utf-8\r\n".to_string(),
            payload.to_string(),
        ),
        "/page" => (
            "200 OK",
            "content-type: text/html; charset=utf-8\r\n".to_string(),
            "<html><head><title>T</title><style>.x{color:red}</style>\
             <script>var secretScript = 1;</script></head><body><h1>Heading</h1>\
             <p>First <b>para</b> &amp; more, <a href=\"https://example.org/x\">a link</a>.</p><ul><li>one</li><li>two</li></ul></body></html>"
                .to_string(),
        ),
        "/secret" => (
            "200 OK",
            "content-type: text/plain\r\n".into(),
            "TOP-SECRET".into(),
        ),
        "/to-evil" => redirect(&format!("http://evil.test:{port}/secret")),
        "/to-loopback" => redirect(&format!("http://127.0.0.1:{port}/secret")),
        "/to-metadata" => redirect("http://169.254.169.254/latest/meta-data/"),
        "/to-localhost" => redirect(&format!("http://localhost:{port}/secret")),
        "/to-file" => redirect("file:///etc/passwd"),
        "/relative" => redirect("/secret-ok"),
        "/secret-ok" => (
            "200 OK",
            "content-type: text/plain\r\n".into(),
            "same host".into(),
        ),
        p if p.starts_with("/chain/") => {
            let n: u32 = p["/chain/".len()..].parse().unwrap_or(0);
            if n == 0 {
                (
                    "200 OK",
                    "content-type: text/plain\r\n".into(),
                    "end of chain".into(),
                )
            } else {
                redirect(&format!("/chain/{}", n - 1))
            }
        }
        _ => ("404 Not Found", String::new(), "no".into()),
    };
    format!(
        "HTTP/1.1 {status}\r\n{headers}content-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
}

fn redirect(to: &str) -> (&'static str, String, String) {
    ("302 Found", format!("location: {to}\r\n"), String::new())
}

impl TestServer {
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let payload = Arc::new(Mutex::new(String::new()));
        let log = seen.clone();
        let page = payload.clone();
        tokio::spawn(async move {
            while let Ok((mut sock, _)) = listener.accept().await {
                let log = log.clone();
                let page = page.clone();
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 4096];
                    let n = sock.read(&mut buf).await.unwrap_or(0);
                    let head = String::from_utf8_lossy(&buf[..n]).to_string();
                    let path = head.split_whitespace().nth(1).unwrap_or("/").to_string();
                    log.lock().unwrap().push(path.clone());
                    let body = page.lock().unwrap().clone();
                    let _ = sock
                        .write_all(response(&path, port, &body).as_bytes())
                        .await;
                });
            }
        });
        TestServer {
            port,
            seen,
            payload,
        }
    }

    pub fn url(&self, host: &str, path: &str) -> String {
        format!("http://{host}:{}{path}", self.port)
    }

    pub fn seen(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }
}

pub fn hosts() -> Arc<StaticHosts> {
    let ip = |s: &str| s.parse::<IpAddr>().unwrap();
    let table: HashMap<String, Vec<IpAddr>> = [
        ("pages.test", vec![ip("127.0.0.1")]),
        ("evil.test", vec![ip("127.0.0.1")]),
        ("metadata.test", vec![ip("169.254.169.254")]),
        ("meta6.test", vec![ip("fd00:ec2::254")]),
        ("cgnat.test", vec![ip("100.64.1.2")]),
        ("lan.test", vec![ip("192.168.1.10")]),
        ("mapped.test", vec![ip("::ffff:127.0.0.1")]),
        ("mixed.test", vec![ip("93.184.216.34"), ip("10.0.0.5")]),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    Arc::new(StaticHosts(table))
}

pub fn fetch_settings(policy: SsrfPolicy, max_redirects: u32) -> ToolSettings {
    ToolSettings {
        web_fetch: WebFetchSettings {
            max_redirects,
            ssrf: policy,
        },
        ..ToolSettings::default()
    }
}

pub fn pages_only() -> SsrfPolicy {
    SsrfPolicy {
        allowed_hostnames: vec!["pages.test".into()],
        ..SsrfPolicy::default()
    }
}

async fn fetch(tool: &WebFetchTool, ctx: &ToolContext, url: &str) -> ToolOutput {
    tool.run(json!({ "url": url }), ctx).await
}

fn setup(policy: SsrfPolicy, max_redirects: u32) -> (tempfile::TempDir, WebFetchTool, ToolContext) {
    let dir = tempfile::tempdir().unwrap();
    let settings = fetch_settings(policy, max_redirects);
    let tool = WebFetchTool::with_resolver(&settings, hosts());
    let ctx = ToolContext::new(Workspace::new(dir.path().join("ws")).unwrap(), settings);
    (dir, tool, ctx)
}

#[tokio::test]
async fn html_comes_back_as_readable_text_from_an_allowed_host() {
    let server = TestServer::start().await;
    let (_dir, tool, ctx) = setup(pages_only(), 3);
    let out = fetch(&tool, &ctx, &server.url("pages.test", "/page")).await;
    assert!(!out.is_error, "{}", out.content);
    let text = &out.content;
    assert!(
        text.contains("Heading") && text.contains("para") && text.contains("& more"),
        "{text}"
    );
    assert!(text.contains("one") && text.contains("two"));
    assert!(
        text.contains("a link") && text.contains("https://example.org/x"),
        "{text}"
    );
    for markup in ["<h1>", "<p>", "<b>", "&amp;", "secretScript", "color:red"] {
        assert!(!text.contains(markup), "{markup} left in: {text}");
    }
    let wrapped = out.for_model();
    assert!(wrapped.contains("Content-Type: text/html"));
}

#[tokio::test]
async fn names_resolving_to_private_addresses_are_refused() {
    let server = TestServer::start().await;
    let (_dir, tool, ctx) = setup(pages_only(), 3);
    for (host, range) in [
        ("evil.test", "loopback"),
        ("metadata.test", "cloud metadata"),
        ("meta6.test", "cloud metadata"),
        ("cgnat.test", "carrier-grade NAT"),
        ("lan.test", "private"),
        ("mapped.test", "loopback"),
        ("mixed.test", "private"),
    ] {
        let out = fetch(&tool, &ctx, &server.url(host, "/secret")).await;
        assert!(out.is_error, "{host}: {}", out.content);
        assert!(
            out.content.contains(&format!("{host}: it resolves to")),
            "{host}: {}",
            out.content
        );
        assert!(out.content.contains(range), "{host}: {}", out.content);
        assert!(out.content.contains("allowedHostnames"));
    }
    assert!(
        server.seen().is_empty(),
        "a refused fetch reached the server: {:?}",
        server.seen()
    );
}

#[tokio::test]
async fn private_address_literals_and_local_names_are_refused() {
    let server = TestServer::start().await;
    let (_dir, tool, ctx) = setup(pages_only(), 3);
    let port = server.port;
    for url in [
        format!("http://127.0.0.1:{port}/secret"),
        format!("http://[::1]:{port}/secret"),
        format!("http://[::ffff:127.0.0.1]:{port}/secret"),
        format!("http://localhost:{port}/secret"),
        format!("http://api.localhost:{port}/secret"),
        "http://169.254.169.254/latest/meta-data/".to_string(),
        "http://[fd00:ec2::254]/latest/meta-data/".to_string(),
        "http://100.100.100.200/latest/meta-data/".to_string(),
        "http://0.0.0.0/".to_string(),
        "http://metadata.google.internal/computeMetadata/v1/".to_string(),
    ] {
        let out = fetch(&tool, &ctx, &url).await;
        assert!(out.is_error, "{url}: {}", out.content);
        assert!(
            out.content.starts_with("web_fetch refused"),
            "{url}: {}",
            out.content
        );
    }
    let bad = fetch(&tool, &ctx, "file:///etc/passwd").await;
    assert!(bad.is_error && bad.content.contains("only http and https"));
    assert!(server.seen().is_empty());
}

#[tokio::test]
async fn every_redirect_hop_is_checked() {
    let server = TestServer::start().await;
    let (_dir, tool, ctx) = setup(pages_only(), 3);
    for (path, why) in [
        ("/to-evil", "evil.test: it resolves to 127.0.0.1"),
        ("/to-loopback", "127.0.0.1: it is a loopback"),
        ("/to-metadata", "cloud metadata"),
        ("/to-localhost", "localhost"),
        ("/to-file", "only http and https"),
    ] {
        let out = fetch(&tool, &ctx, &server.url("pages.test", path)).await;
        assert!(out.is_error, "{path}: {}", out.content);
        assert!(out.content.contains(why), "{path}: {}", out.content);
    }
    let seen = server.seen();
    assert!(
        !seen.contains(&"/secret".to_string()),
        "a redirect reached the secret: {seen:?}"
    );
    // A redirect that stays on the allowed host is followed.
    let ok = fetch(&tool, &ctx, &server.url("pages.test", "/relative")).await;
    assert!(
        !ok.is_error && ok.content.contains("same host"),
        "{}",
        ok.content
    );
    assert!(ok.for_model().contains("Final-URL: http://pages.test"));
}

#[tokio::test]
async fn max_redirects_bounds_the_chain() {
    let server = TestServer::start().await;
    let (_dir, tool, ctx) = setup(pages_only(), 3);
    let ok = fetch(&tool, &ctx, &server.url("pages.test", "/chain/3")).await;
    assert!(
        !ok.is_error && ok.content.contains("end of chain"),
        "{}",
        ok.content
    );
    let long = fetch(&tool, &ctx, &server.url("pages.test", "/chain/4")).await;
    assert!(
        long.is_error && long.content.contains("more than 3 redirects"),
        "{}",
        long.content
    );
    let (_dir, none, ctx) = setup(pages_only(), 0);
    let out = fetch(&none, &ctx, &server.url("pages.test", "/chain/1")).await;
    assert!(out.is_error && out.content.contains("more than 0 redirects"));
}

#[tokio::test]
async fn the_private_network_switch_never_opens_metadata() {
    let server = TestServer::start().await;
    let (_dir, tool, ctx) = setup(
        SsrfPolicy {
            dangerously_allow_private_network: true,
            ..SsrfPolicy::default()
        },
        3,
    );
    let ok = fetch(&tool, &ctx, &server.url("evil.test", "/secret")).await;
    assert!(
        !ok.is_error && ok.content.contains("TOP-SECRET"),
        "{}",
        ok.content
    );
    for host in ["metadata.test", "meta6.test"] {
        let out = fetch(&tool, &ctx, &server.url(host, "/")).await;
        assert!(
            out.is_error && out.content.contains("cloud metadata"),
            "{}",
            out.content
        );
    }
    // Names that do not resolve say so.
    let out = fetch(&tool, &ctx, "http://unknown.test/").await;
    assert!(
        out.is_error && out.content.contains("no such host"),
        "{}",
        out.content
    );
}
