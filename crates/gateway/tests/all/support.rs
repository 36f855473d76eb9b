//! Test plumbing: one mock upstream per test (it speaks every dialect on one port), a config
//! file in a temp dir with one provider per upstream dialect pointing at it, the gateway
//! in-process on 127.0.0.1:0, and helpers to send each inbound dialect and read the answer
//! back (JSON or SSE, parsed here independently of the wire crate's own parser).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clawgate_config::{EnvVars, LoadOptions};
use clawgate_gateway::{AuthLimits, Gateway, GatewayOptions, RequestLimits, ServicesLoader};
use clawgate_providers::EngineFactory;
use clawgate_runtime::{Services, ServicesOptions};
use mock_upstream::{MockConfig, MockModel, MockServer};
use serde_json::{Value, json};
use tempfile::TempDir;

pub const MODEL: &str = mock_upstream::DEFAULT_MODEL;

/// Upstream providers in the test config, one per upstream dialect.
pub const UPSTREAMS: [&str; 4] = ["chatup", "respup", "anthup", "ollup"];

/// Inbound dialects, by path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inbound {
    Chat,
    Responses,
    Messages,
}

pub const INBOUNDS: [Inbound; 3] = [Inbound::Chat, Inbound::Responses, Inbound::Messages];

impl Inbound {
    pub fn path(self) -> &'static str {
        match self {
            Inbound::Chat => "/v1/chat/completions",
            Inbound::Responses => "/v1/responses",
            Inbound::Messages => "/v1/messages",
        }
    }

    /// A one-message request in this dialect.
    pub fn body(self, model: &str, prompt: &str, stream: bool) -> Value {
        match self {
            Inbound::Chat => {
                let mut body = json!({
                    "model": model,
                    "messages": [{ "role": "user", "content": prompt }],
                    "stream": stream,
                });
                if stream {
                    body["stream_options"] = json!({ "include_usage": true });
                }
                body
            }
            Inbound::Responses => json!({ "model": model, "input": prompt, "stream": stream }),
            Inbound::Messages => json!({
                "model": model,
                "max_tokens": 64,
                "messages": [{ "role": "user", "content": prompt }],
                "stream": stream,
            }),
        }
    }
}

/// What a test wants configured.
#[derive(Clone)]
pub struct Setup {
    pub primary: String,
    pub fallbacks: Vec<String>,
    pub token: Option<String>,
    pub limits: RequestLimits,
    pub auth_limits: AuthLimits,
    /// Extra JSON5 text inside `models.providers` (e.g. a dead provider).
    pub extra_providers: String,
    /// Extra JSON5 text inside `agents.defaults`.
    pub extra_defaults: String,
    /// Extra JSON5 text inside `agents` (e.g. `list: […],`).
    pub extra_agents: String,
    /// Extra JSON5 top-level sections (e.g. `session: {…},`).
    pub extra_root: String,
    /// Extra JSON5 text inside `gateway` (besides `auth`).
    pub extra_gateway: String,
    /// `GatewayOptions::cors_origins` (the `--cors-origin` flag).
    pub cors_origins: Vec<String>,
    /// Extra JSON5 entries inside `agents.defaults.models` (per-model params).
    pub extra_model_entries: String,
    /// Builds `llama-cpp` providers (a stand-in for the in-process engine).
    pub engine: Option<Arc<EngineFactory>>,
    /// An OpenClaw state dir copied to `~/.openclaw` before loading (its auth profiles).
    pub openclaw_home: Option<PathBuf>,
    /// `models.mode` (`replace` unless a test wants the catalog and implicit providers).
    pub models_mode: &'static str,
    /// Puts a (stand-in) demo model file in the state dir, so `merge` registers the implicit
    /// `embedded/gemma-3-270m`.
    pub demo_model: bool,
    /// `GatewayOptions::lanes` (the `--workers` flag).
    pub lanes: usize,
    /// `GatewayOptions::on_idle`.
    pub on_idle: Option<clawgate_gateway::IdleHook>,
}

impl Default for Setup {
    fn default() -> Self {
        Self {
            primary: format!("chatup/{MODEL}"),
            fallbacks: Vec::new(),
            token: None,
            limits: RequestLimits {
                shutdown_grace: Duration::from_secs(5),
                ..RequestLimits::default()
            },
            auth_limits: AuthLimits::default(),
            extra_providers: String::new(),
            extra_defaults: String::new(),
            extra_agents: String::new(),
            extra_root: String::new(),
            extra_gateway: String::new(),
            cors_origins: Vec::new(),
            extra_model_entries: String::new(),
            engine: None,
            openclaw_home: None,
            models_mode: "replace",
            demo_model: false,
            lanes: 1,
            on_idle: None,
        }
    }
}

/// A provider entry for `api` at `base_url`, with short stream timeouts (a hung upstream
/// ends a test in well under a second) and a priced model row.
pub fn provider_entry(id: &str, api: &str, base_url: &str) -> String {
    format!(
        r#""{id}": {{
            baseUrl: "{base_url}", api: "{api}", apiKey: "upstream-key-{id}",
            timeouts: {{ connectMs: 2000, firstEventMs: 3000, idleMs: 400, totalMs: 20000 }},
            models: [{{ id: "{MODEL}", contextWindow: 65536, maxTokens: 1024,
                        cost: {{ input: 1.5, output: 6 }} }}],
        }},"#
    )
}

/// The config file text for `mock`.
pub fn config_text(mock: &MockServer, workspace: &std::path::Path, setup: &Setup) -> String {
    let openai = mock.openai_base_url();
    let root = mock.base_url();
    let fallbacks: Vec<String> = setup.fallbacks.iter().map(|f| format!("\"{f}\"")).collect();
    let auth = match &setup.token {
        Some(token) => format!(r#"auth: {{ mode: "token", token: "{token}" }},"#),
        None => String::new(),
    };
    format!(
        r#"{{
  models: {{
    mode: "{models_mode}",
    providers: {{
      {chat}
      {resp}
      {anth}
      {oll}
      {extra}
    }},
  }},
  agents: {{
    defaults: {{
      model: {{ primary: "{primary}", fallbacks: [{fallbacks}] }},
      models: {{ "chatup/{MODEL}": {{ alias: "fast" }}, {model_entries} }},
      workspace: "{workspace}",
      {extra_defaults}
    }},
    {extra_agents}
  }},
  gateway: {{ {auth} {extra_gateway} }},
  {extra_root}
  // As OpenClaw 2026.9 marks a migrated file: `agents.defaults.models` above is no allowlist
  // (tests that want one set `modelPolicy.allow`).
  meta: {{ migrations: {{ modelPolicyAllowlist: true }} }},
}}"#,
        chat = provider_entry("chatup", "openai-completions", &openai),
        resp = provider_entry("respup", "openai-responses", &openai),
        anth = provider_entry("anthup", "anthropic-messages", &root),
        oll = provider_entry("ollup", "ollama", &root),
        extra = setup.extra_providers,
        primary = setup.primary,
        fallbacks = fallbacks.join(", "),
        workspace = workspace.display(),
        extra_defaults = setup.extra_defaults,
        extra_agents = setup.extra_agents,
        extra_root = setup.extra_root,
        extra_gateway = setup.extra_gateway,
        model_entries = setup.extra_model_entries,
        models_mode = setup.models_mode,
    )
}

/// A port nothing listens on (bound, then released).
pub fn dead_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

pub struct Harness {
    pub mock: MockServer,
    pub gateway: Gateway,
    pub dir: TempDir,
    pub config_path: PathBuf,
    pub http: reqwest::Client,
    pub token: Option<String>,
}

pub fn load_options(dir: &std::path::Path, config_path: PathBuf) -> LoadOptions {
    LoadOptions {
        config_path: Some(config_path),
        state_dir: Some(dir.join("state")),
        home: Some(dir.to_path_buf()),
        cwd: dir.to_path_buf(),
        env: EnvVars::from_pairs(Vec::<(String, String)>::new()),
    }
}

pub async fn mock() -> MockServer {
    MockServer::start(MockConfig::default().models(vec![MockModel::new(MODEL, 65536)])).await
}

impl Harness {
    pub async fn start() -> Harness {
        Self::with(Setup::default()).await
    }

    pub async fn with(setup: Setup) -> Harness {
        let mock = mock().await;
        Self::with_mock(mock, setup).await
    }

    pub async fn with_mock(mock: MockServer, setup: Setup) -> Harness {
        let dir = tempfile::tempdir().unwrap();
        let workspace = dir.path().join("workspace");
        let config_path = dir.path().join("clawgate.json");
        std::fs::write(&config_path, config_text(&mock, &workspace, &setup)).unwrap();
        if let Some(openclaw) = &setup.openclaw_home {
            // A copy: SQLite may touch files beside a database, the fixture stays as made.
            let copied = std::process::Command::new("cp")
                .arg("-R")
                .arg(openclaw)
                .arg(dir.path().join(".openclaw"))
                .status()
                .unwrap();
            assert!(copied.success());
        }
        if setup.demo_model {
            let path = clawgate_config::catalog::demo_model_path(&dir.path().join("state"));
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, b"stand-in").unwrap();
        }
        let opts = load_options(dir.path(), config_path.clone());
        let initial = ServicesOptions {
            engine: setup.engine.clone(),
            ..ServicesOptions::default()
        };
        let services = Services::load(&opts, initial).unwrap();
        let config_options = opts.clone();
        let loader: ServicesLoader = Arc::new(move |current: &Services| {
            Ok(Services::load(
                &opts,
                ServicesOptions::default().reusing(current),
            )?)
        });
        let mut options = GatewayOptions::new(SocketAddr::from(([127, 0, 0, 1], 0)));
        options.limits = setup.limits;
        options.auth_limits = setup.auth_limits;
        options.cors_origins = setup.cors_origins.clone();
        options.config_options = Some(config_options);
        options.lanes = setup.lanes;
        options.on_idle = setup.on_idle.clone();
        let gateway = Gateway::start(services, Some(loader), options)
            .await
            .unwrap();
        // The configured token, else the gateway's own (what a user reads from
        // `<state>/gateway-token` or `clawgate dashboard`); `None` only with mode "none".
        let token = setup.token.or_else(|| {
            let services = gateway.services();
            let generated = services.generated_token().unwrap();
            generated.map(|t| String::from_utf8(t.to_vec()).unwrap())
        });
        Harness {
            mock,
            gateway,
            dir,
            config_path,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(20))
                .build()
                .unwrap(),
            token,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.gateway.local_addr(), path)
    }

    /// POST with the harness token (when it has one).
    pub async fn post(&self, path: &str, body: &Value) -> reqwest::Response {
        let mut request = self.http.post(self.url(path)).json(body);
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        request.send().await.unwrap()
    }

    /// POST with the harness token and extra headers.
    pub async fn post_with(
        &self,
        path: &str,
        body: &Value,
        headers: &[(&str, &str)],
    ) -> reqwest::Response {
        let mut request = self.http.post(self.url(path)).json(body);
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.send().await.unwrap()
    }

    /// GET a JSON endpoint with the harness token; asserts 200.
    pub async fn get_json(&self, path: &str) -> Value {
        let response = self.get(path).await;
        let status = response.status();
        let text = response.text().await.unwrap();
        assert_eq!(status, 200, "{path}: {text}");
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}: {text}"))
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        let mut request = self.http.get(self.url(path));
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        request.send().await.unwrap()
    }

    pub async fn metrics_text(&self) -> String {
        let response = self.get("/metrics").await;
        assert_eq!(response.status(), 200);
        response.text().await.unwrap()
    }
}

/// One SSE event as a client sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct SseEvent {
    pub event: Option<String>,
    pub data: String,
}

impl SseEvent {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.data)
            .unwrap_or_else(|e| panic!("SSE data is not JSON ({e}): {}", self.data))
    }
}

/// Splits an SSE body into events (`event:` and `data:` fields; blank line ends an event).
pub fn parse_sse(body: &str) -> Vec<SseEvent> {
    let mut events = Vec::new();
    for block in body.replace("\r\n", "\n").split("\n\n") {
        let mut event = None;
        let mut data: Vec<&str> = Vec::new();
        for line in block.lines() {
            if let Some(rest) = line.strip_prefix("event:") {
                event = Some(rest.trim_start().to_string());
            } else if let Some(rest) = line.strip_prefix("data:") {
                data.push(rest.strip_prefix(' ').unwrap_or(rest));
            }
        }
        if !data.is_empty() {
            events.push(SseEvent {
                event,
                data: data.join("\n"),
            });
        }
    }
    events
}

/// The answer text of a non-streamed response in `inbound`'s shape.
pub fn response_text(inbound: Inbound, body: &Value) -> String {
    match inbound {
        Inbound::Chat => body["choices"][0]["message"]["content"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        Inbound::Responses => body["output"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|item| item["type"] == "message")
            .flat_map(|item| item["content"].as_array().unwrap().clone())
            .filter_map(|part| part["text"].as_str().map(str::to_string))
            .collect(),
        Inbound::Messages => body["content"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|block| block["type"] == "text")
            .filter_map(|block| block["text"].as_str().map(str::to_string))
            .collect(),
    }
}

/// The answer text of a streamed response in `inbound`'s shape.
pub fn stream_text(inbound: Inbound, events: &[SseEvent]) -> String {
    let mut text = String::new();
    for event in events {
        if event.data == "[DONE]" {
            continue;
        }
        let data = event.json();
        match inbound {
            Inbound::Chat => {
                if let Some(piece) = data["choices"][0]["delta"]["content"].as_str() {
                    text.push_str(piece);
                }
            }
            Inbound::Responses => {
                if data["type"] == "response.output_text.delta" {
                    text.push_str(data["delta"].as_str().unwrap());
                }
            }
            Inbound::Messages => {
                if data["type"] == "content_block_delta" && data["delta"]["type"] == "text_delta" {
                    text.push_str(data["delta"]["text"].as_str().unwrap());
                }
            }
        }
    }
    text
}

/// A response read off a raw socket.
#[derive(Debug)]
pub struct RawResponse {
    pub status: u16,
    pub head: String,
    pub body: String,
}

impl RawResponse {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {}", self.body))
    }

    /// A header's value (case-insensitive name).
    pub fn header(&self, name: &str) -> Option<String> {
        self.head.lines().find_map(|line| {
            let (n, v) = line.split_once(':')?;
            n.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_string())
        })
    }
}

/// Sends `request` (a whole HTTP/1.1 request, bytes as given) on a fresh connection and reads
/// the answer up to the end of its `Content-Length` body (the client controls every byte, which
/// reqwest does not let it do for `Host` or the exact head size).
pub async fn raw_request(addr: SocketAddr, request: &[u8]) -> RawResponse {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(request).await.unwrap();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_string();
            let length = head
                .lines()
                .find_map(|l| {
                    let (n, v) = l.split_once(':')?;
                    n.eq_ignore_ascii_case("content-length")
                        .then(|| v.trim().parse::<usize>().ok())?
                })
                .unwrap_or(0);
            if buf.len() >= end + 4 + length {
                let status = head
                    .split_whitespace()
                    .nth(1)
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(0);
                let body = String::from_utf8_lossy(&buf[end + 4..end + 4 + length]).to_string();
                return RawResponse { status, head, body };
            }
        }
        let n = tokio::time::timeout(Duration::from_secs(20), stream.read(&mut chunk))
            .await
            .expect("answer within 20 s")
            .unwrap_or(0);
        assert!(
            n > 0,
            "connection closed before a full answer: {:?}",
            String::from_utf8_lossy(&buf)
        );
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// A JSON POST as raw bytes, with `Host: host` and any extra header lines.
pub fn raw_post(path: &str, host: &str, extra: &[(&str, &str)], body: &Value) -> Vec<u8> {
    let body = body.to_string();
    let mut head = format!(
        "POST {path} HTTP/1.1\r\nHost: {host}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n",
        body.len()
    );
    for (name, value) in extra {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(body.as_bytes());
    bytes
}

/// The answer text of a response body in `inbound`'s shape, streamed or not.
pub fn answer_text(inbound: Inbound, stream: bool, body: &str) -> String {
    if stream {
        stream_text(inbound, &parse_sse(body))
    } else {
        response_text(inbound, &serde_json::from_str(body).unwrap())
    }
}

/// Held by the tests that start extra event loops: their threads are named `clawgate-lane-N`
/// in this one test process, and `shutdown.rs` counts them.
pub static LANE_THREADS: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
