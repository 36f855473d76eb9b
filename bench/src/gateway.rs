//! Figure (d): added latency at c=1 through the `clawgate gateway` binary vs. straight to the
//! mock, per `shared/spec/benchmark-protocol.md`: sequential keep-alive requests, non-streaming
//! chat completions, 0 ms mock, after a warm-up; the two series alternate request by request
//! on two keep-alive connections (one per path), so drift hits both alike.
//!
//! The gateway runs as its own process (the release binary next to this one, or `--clawgate`),
//! with a temp config naming the mock as its only provider and a temp state dir; it is
//! started with `--port 0` and its address read from the line it prints when it listens.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use mock_upstream::MockServer;
use serde::Serialize;
use serde_json::json;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::stats::{Delta, Summary};

/// A running gateway process, killed on drop.
pub struct GatewayProcess {
    child: Child,
    pub base_url: String,
    _state: tempfile::TempDir,
}

impl GatewayProcess {
    /// Starts `binary gateway --port 0` with a config that routes `mock/mock-model` to `mock`.
    pub async fn start(binary: &Path, mock: &MockServer) -> anyhow::Result<Self> {
        let state = tempfile::tempdir()?;
        let config = state.path().join("clawgate.json");
        let text = json!({
            "models": {"mode": "replace", "providers": {"mock": {
                "baseUrl": mock.openai_base_url(), "apiKey": "sk-local",
                "api": "openai-completions",
                "models": [{"id": "mock-model", "name": "Mock", "contextWindow": 8192, "maxTokens": 256}],
            }}},
            "agents": {"defaults": {"model": {"primary": "mock/mock-model"}}},
        });
        std::fs::write(&config, serde_json::to_vec_pretty(&text)?)?;
        let mut child = Command::new(binary)
            .arg("--config")
            .arg(&config)
            .arg("--state-dir")
            .arg(state.path())
            .args(["gateway", "--port", "0"])
            // Per-request info logs would be part of the measurement; keep warnings only.
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {}", binary.display()))?;
        let stdout = child.stdout.take().context("gateway stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let wait = async {
            while let Some(line) = lines.next_line().await? {
                if let Some(url) = line.strip_prefix("clawgate gateway listening on ") {
                    return Ok::<_, anyhow::Error>(url.trim().to_string());
                }
            }
            bail!("the gateway exited before listening")
        };
        let base_url = tokio::time::timeout(Duration::from_secs(30), wait)
            .await
            .context("the gateway did not listen within 30 s")??;
        // Keep draining stdout so the gateway never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Ok(Self {
            child,
            base_url,
            _state: state,
        })
    }

    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}

/// The default place of the `clawgate` binary: next to this benchmark's own binary.
pub fn default_binary() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let candidate = exe.parent()?.join("clawgate");
    candidate.exists().then_some(candidate)
}

#[derive(Debug, Serialize)]
pub struct GatewayFigures {
    pub requests: usize,
    pub direct: Summary,
    pub through_gateway: Summary,
    pub added: Delta,
}

async fn post(
    client: &reqwest::Client,
    url: &str,
    body: &serde_json::Value,
) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let response = client.post(url).json(body).send().await?;
    let status = response.status();
    let bytes = response.bytes().await?;
    let elapsed = started.elapsed();
    if !status.is_success() {
        bail!("{url}: HTTP {status}: {}", String::from_utf8_lossy(&bytes));
    }
    Ok(elapsed)
}

fn keep_alive_client() -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .no_proxy()
        .http1_only()
        .tcp_nodelay(true)
        .pool_max_idle_per_host(1)
        .build()?)
}

/// Sequential requests, alternating direct and through the gateway.
pub async fn added_latency(
    mock: &MockServer,
    gateway: &GatewayProcess,
    requests: usize,
    warmup: usize,
) -> anyhow::Result<GatewayFigures> {
    let direct_client = keep_alive_client()?;
    let gateway_client = keep_alive_client()?;
    let direct_url = format!("{}/chat/completions", mock.openai_base_url());
    let gateway_url = format!("{}/v1/chat/completions", gateway.base_url);
    let message = json!([{"role": "user", "content": "hello"}]);
    let direct_body = json!({"model": "mock-model", "messages": message, "max_tokens": 64});
    let gateway_body = json!({"model": "mock/mock-model", "messages": message, "max_tokens": 64});
    let (mut direct, mut through) = (Vec::new(), Vec::new());
    for round in 0..warmup + requests {
        let (d, g) = if round % 2 == 0 {
            let d = post(&direct_client, &direct_url, &direct_body).await?;
            (d, post(&gateway_client, &gateway_url, &gateway_body).await?)
        } else {
            let g = post(&gateway_client, &gateway_url, &gateway_body).await?;
            (post(&direct_client, &direct_url, &direct_body).await?, g)
        };
        if round >= warmup {
            direct.push(d);
            through.push(g);
        }
    }
    let (direct, through_gateway) = (Summary::of(&direct), Summary::of(&through));
    Ok(GatewayFigures {
        requests,
        added: through_gateway.minus(&direct),
        direct,
        through_gateway,
    })
}
