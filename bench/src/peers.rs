//! The processes a run measures, started the same way every time: `mock-upstream` (the
//! upstream every path ends at), the `clawgate gateway` binary and the LiteLLM proxy, each
//! configured with the same upstreams, so "direct", "through clawgate" and "through LiteLLM"
//! differ only in the gateway in the middle.
//!
//! Upstreams (both `mock-upstream` processes with `--request-log 0 --workers 1`):
//! * `fast`: 0 ms, 4 answer pieces (the non-streaming and throughput figures);
//! * `stream`: a role chunk, 64 content chunks 20 ms apart, finish, `[DONE]` (streaming);
//!
//! clawgate routes `fast/mock-model` and `stream/mock-model` (api `openai-completions`);
//! LiteLLM serves `fast`, `fast-bridge`, `stream`, `stream-bridge` (`openai/` provider; the
//! `-bridge` ones with `use_chat_completions_api: true`, its Responses → chat bridge), with
//! `drop_params` and `disable_cooldowns`, offline cost map, a master key.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use serde_json::json;

use crate::procs::{self, Spawned};

/// Where the harness finds the programs it runs.
#[derive(Debug, Clone)]
pub struct Programs {
    pub clawgate: Option<PathBuf>,
    pub mock: Option<PathBuf>,
    pub litellm: Option<PathBuf>,
    pub oha: Option<PathBuf>,
}

impl Programs {
    pub fn mock(&self) -> anyhow::Result<&Path> {
        self.mock
            .as_deref()
            .context("no mock-upstream binary next to clawgate-bench (build -p mock-upstream)")
    }
    pub fn clawgate(&self) -> anyhow::Result<&Path> {
        self.clawgate
            .as_deref()
            .context("no clawgate binary next to clawgate-bench (build -p clawgate)")
    }
}

/// A `mock-upstream` process.
pub struct MockProcess {
    pub url: String,
    /// Kept for its drop (which kills the mock).
    _process: Spawned,
}

impl MockProcess {
    /// `extra` are mock-upstream flags (`--chunks 64 --chunk-interval-ms 20`).
    pub fn start(binary: &Path, extra: &[&str], cpus: Option<&str>) -> anyhow::Result<Self> {
        let mut cmd = procs::command(binary, cpus);
        cmd.args(["--port", "0", "--request-log", "0", "--workers", "1"])
            .args(extra);
        let process = Spawned::start("mock-upstream", cmd, true, None)?;
        let url = process.next_line(Duration::from_secs(10))?;
        if !url.starts_with("http://") {
            bail!("mock-upstream printed {url:?} instead of its URL");
        }
        Ok(Self {
            url,
            _process: process,
        })
    }

    pub fn fast(binary: &Path, cpus: Option<&str>) -> anyhow::Result<Self> {
        Self::start(binary, &[], cpus)
    }

    pub fn streaming(binary: &Path, interval_ms: u64, cpus: Option<&str>) -> anyhow::Result<Self> {
        Self::start(
            binary,
            &[
                "--chunks",
                "64",
                "--chunk-interval-ms",
                &interval_ms.to_string(),
            ],
            cpus,
        )
    }
}

/// How a gateway process is started.
#[derive(Debug, Clone, Default)]
pub struct Launch {
    /// `taskset -c` list.
    pub cpus: Option<String>,
    /// clawgate `--workers`.
    pub workers: Option<usize>,
    /// A PostgreSQL URL: the gateway keeps its state there (`state.backend: "postgres"`)
    /// instead of in files under its state dir.
    pub state_url: Option<String>,
}

/// A running `clawgate gateway`.
pub struct ClawgateProcess {
    pub port: u16,
    pub process: Spawned,
    pub ready_after: Duration,
    _state: tempfile::TempDir,
}

impl ClawgateProcess {
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Starts the gateway on a free port routing `fast/…` and `stream/…` to the two mocks,
    /// and waits (polling every `poll`) for `GET /healthz`.
    pub fn start(
        binary: &Path,
        fast_url: &str,
        stream_url: &str,
        launch: &Launch,
        poll: Duration,
    ) -> anyhow::Result<Self> {
        let state = tempfile::tempdir()?;
        let config = state.path().join("clawgate.json");
        let provider = |url: &str| {
            json!({
                "baseUrl": format!("{url}/v1"), "apiKey": "sk-local", "api": "openai-completions",
                "models": [{"id": "mock-model", "name": "Mock", "contextWindow": 8192, "maxTokens": 256}],
            })
        };
        let mut text = json!({
            "models": {"mode": "replace", "providers": {
                "fast": provider(fast_url),
                "stream": provider(stream_url),
            }},
            "agents": {"defaults": {"model": {"primary": "fast/mock-model"}}},
        });
        if let Some(url) = &launch.state_url {
            text["state"] = json!({"backend": "postgres", "url": url});
        }
        std::fs::write(&config, serde_json::to_vec_pretty(&text)?)?;
        let port = procs::free_port()?;
        let mut cmd = procs::command(binary, launch.cpus.as_deref());
        cmd.arg("--config")
            .arg(&config)
            .arg("--state-dir")
            .arg(state.path())
            .args(["gateway", "--port", &port.to_string()])
            // No per-request log lines in the measurement (info logs none either; warn keeps
            // the start-up quiet too).
            .env("RUST_LOG", "warn");
        if let Some(n) = launch.workers {
            cmd.args(["--workers", &n.to_string()]);
        }
        let log = state.path().join("gateway.log");
        let started = Instant::now();
        let mut process = Spawned::start("clawgate gateway", cmd, false, Some(&log))?;
        let ready_after = procs::wait_healthy(
            &mut process,
            port,
            "/healthz",
            started,
            poll,
            Duration::from_secs(30),
        )
        .with_context(|| log_tail(&log))?;
        Ok(Self {
            port,
            process,
            ready_after,
            _state: state,
        })
    }
}

/// The LiteLLM proxy of the live tier's venv.
pub struct LitellmProcess {
    pub port: u16,
    pub key: String,
    pub process: Spawned,
    pub ready_after: Duration,
    _dir: tempfile::TempDir,
}

/// `$CLAWGATE_LIVE_DIR/venv-litellm/bin/litellm`, when installed (`scripts/live-setup`).
pub fn default_litellm() -> Option<PathBuf> {
    let path = procs::live_dir().join("venv-litellm/bin/litellm");
    path.is_file().then_some(path)
}

fn log_tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    let tail = lines[lines.len().saturating_sub(15)..].join("\n");
    format!("log tail of {}:\n{tail}", path.display())
}

impl LitellmProcess {
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn start(
        binary: &Path,
        fast_url: &str,
        stream_url: &str,
        cpus: Option<&str>,
    ) -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        let config = dir.path().join("litellm.yaml");
        let entry = |name: &str, url: &str, bridge: bool| {
            format!(
                "  - model_name: {name}\n    litellm_params: {{model: openai/mock-model, \
                 api_base: \"{url}/v1\", api_key: sk-dummy{}}}\n",
                if bridge {
                    ", use_chat_completions_api: true"
                } else {
                    ""
                }
            )
        };
        let yaml = format!(
            "model_list:\n{}{}{}{}litellm_settings: {{drop_params: true}}\n\
             router_settings: {{disable_cooldowns: true}}\n",
            entry("fast", fast_url, false),
            entry("fast-bridge", fast_url, true),
            entry("stream", stream_url, false),
            entry("stream-bridge", stream_url, true),
        );
        std::fs::write(&config, yaml)?;
        let key = format!("sk-bench-{:x}", std::process::id() as u64 * 0x9e37_79b9);
        let port = procs::free_port()?;
        let mut cmd = procs::command(binary, cpus);
        cmd.arg("--config")
            .arg(&config)
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .env("LITELLM_LOCAL_MODEL_COST_MAP", "True")
            .env("LITELLM_MASTER_KEY", &key);
        let log = dir.path().join("litellm.log");
        let started = Instant::now();
        let mut process = Spawned::start("litellm", cmd, false, Some(&log))?;
        let ready_after = procs::wait_healthy(
            &mut process,
            port,
            "/health/liveliness",
            started,
            Duration::from_millis(20),
            Duration::from_secs(180),
        )
        .with_context(|| log_tail(&log))?;
        Ok(Self {
            port,
            key,
            process,
            ready_after,
            _dir: dir,
        })
    }
}
