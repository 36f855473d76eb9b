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
    /// Extra JSON5 top-level sections (e.g. `session: {…},`).
    pub extra_root: String,
    /// Builds `llama-cpp` providers (a stand-in for the in-process engine).
    pub engine: Option<Arc<EngineFactory>>,
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
            extra_root: String::new(),
            engine: None,
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
        Some(token) => format!(r#"gateway: {{ auth: {{ mode: "token", token: "{token}" }} }},"#),
        None => String::new(),
    };
    format!(
        r#"{{
  models: {{
    mode: "replace",
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
      models: {{ "chatup/{MODEL}": {{ alias: "fast" }} }},
      workspace: "{workspace}",
      {extra_defaults}
    }},
  }},
  {auth}
  {extra_root}
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
        extra_root = setup.extra_root,
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
        options.config_options = Some(config_options);
        let gateway = Gateway::start(services, Some(loader), options)
            .await
            .unwrap();
        Harness {
            mock,
            gateway,
            dir,
            config_path,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(20))
                .build()
                .unwrap(),
            token: setup.token,
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
