//! Gateway replicas for the Postgres tier: a cluster with one database, a config naming it and
//! the mocks, and `clawgate gateway` processes started on free ports and killed on drop.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use mock_upstream::MockServer;
use serde_json::{Value, json};

pub const TOKEN: &str = "pg-tier-token-7Hq2Lx9Vb";

pub use clawgate_state_postgres::test_cluster::TestDatabase as Db;

pub fn db() -> Db {
    Db::start().unwrap()
}

/// The config every replica reads: `local` (primary) and `hosted` (fallback) providers,
/// fifteen-second cooldowns, the shared store at `$CLAWGATE_TEST_PG_URL` with a `lease`-second turn lease.
pub fn config(primary: &str, fallback: &str, lease: u64) -> String {
    format!(
        r#"{{
  models: {{ mode: "replace", providers: {{
    local: {{ baseUrl: "{primary}", apiKey: "sk-local", api: "openai-completions",
      models: [{{ id: "mock-model", name: "Mock", contextWindow: 32768, maxTokens: 256 }}] }},
    hosted: {{ baseUrl: "{fallback}", apiKey: "sk-hosted", api: "openai-completions",
      models: [{{ id: "mock-model", name: "Mock", contextWindow: 32768, maxTokens: 256 }}] }},
  }} }},
  agents: {{ defaults: {{ model: {{ primary: "local/mock-model", fallbacks: ["hosted/mock-model"] }} }} }},
  auth: {{ cooldowns: {{ backoffMinutes: [0.25] }} }},
  gateway: {{ auth: {{ token: "{TOKEN}" }} }},
  state: {{ backend: "postgres", url: "${{CLAWGATE_TEST_PG_URL}}", leaseSeconds: {lease} }},
}}"#
    )
}

/// One `clawgate gateway` process.
pub struct Replica {
    pub name: &'static str,
    pub port: u16,
    child: Option<Child>,
    _dir: tempfile::TempDir,
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

impl Replica {
    /// Starts a replica with its own HOME and state dir (nothing shared but the database).
    pub async fn start(name: &'static str, config: &str, url: &str) -> Replica {
        let dir = tempfile::tempdir().unwrap();
        for sub in ["home", "state", "cwd"] {
            std::fs::create_dir_all(dir.path().join(sub)).unwrap();
        }
        let cfg: PathBuf = dir.path().join("clawgate.json");
        std::fs::write(&cfg, config).unwrap();
        let port = free_port();
        let child = Command::new(env!("CARGO_BIN_EXE_clawgate"))
            .args(["--config", cfg.to_str().unwrap(), "gateway", "--port"])
            .arg(port.to_string())
            .env_clear()
            .env("HOME", dir.path().join("home"))
            .env("CLAWGATE_STATE_DIR", dir.path().join("state"))
            .env("CLAWGATE_TEST_PG_URL", url)
            .env("RUST_LOG", "warn")
            .current_dir(dir.path().join("cwd"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let replica = Replica {
            name,
            port,
            child: Some(child),
            _dir: dir,
        };
        for _ in 0..400 {
            if let Ok(r) = client().get(replica.url("/healthz")).send().await
                && r.status().is_success()
            {
                return replica;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("replica {name} did not start");
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// SIGKILL, as a crashed host would.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().unwrap();
            child.wait().unwrap();
        }
    }

    /// A routed chat completion; returns the status and the body.
    pub async fn chat(&self, model: &str, session: Option<&str>, text: &str) -> (u16, Value) {
        let mut request = client()
            .post(self.url("/v1/chat/completions"))
            .bearer_auth(TOKEN)
            .json(&json!({
                "model": model,
                "messages": [{ "role": "user", "content": text }],
            }));
        if let Some(session) = session {
            request = request.header("x-clawgate-session-key", session);
        }
        match request.send().await {
            Ok(response) => {
                let status = response.status().as_u16();
                (status, response.json().await.unwrap_or(Value::Null))
            }
            Err(e) => (0, json!({ "transport": e.to_string() })),
        }
    }

    /// `/readyz`'s `status`.
    pub async fn readiness(&self) -> String {
        let body: Value = client()
            .get(self.url("/readyz"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        body["status"].as_str().unwrap_or_default().to_string()
    }

    /// The value of one metric line (`name{labels}`) in `/metrics`.
    pub async fn metric(&self, line_start: &str) -> Option<f64> {
        let text = client()
            .get(self.url("/metrics"))
            .bearer_auth(TOKEN)
            .send()
            .await
            .ok()?
            .text()
            .await
            .ok()?;
        text.lines()
            .find(|l| l.starts_with(line_start))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        self.kill();
    }
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(120))
        .build()
        .unwrap()
}

/// Three replicas on `db`, with `primary` and `fallback` as upstreams.
pub async fn three(
    db: &Db,
    primary: &MockServer,
    fallback: &MockServer,
    lease: u64,
) -> [Replica; 3] {
    three_on(
        db,
        &primary.openai_base_url(),
        &fallback.openai_base_url(),
        lease,
    )
    .await
}

pub async fn three_on(db: &Db, primary: &str, fallback: &str, lease: u64) -> [Replica; 3] {
    let text = config(primary, fallback, lease);
    [
        Replica::start("a", &text, &db.url).await,
        Replica::start("b", &text, &db.url).await,
        Replica::start("c", &text, &db.url).await,
    ]
}

/// Polls `check` every 100 ms for up to 60 s (a bound for the failure message only).
pub async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..600 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("never happened: {what}");
}

/// The text of the first choice of a chat completion.
pub fn answer(body: &Value) -> String {
    body["choices"][0]["message"]["content"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}
