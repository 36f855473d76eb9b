//! The embedded engine (issue 7) beside the llama.cpp server of llama-cpp-python, in one run:
//! the same GGUF (the live tier's gemma-3-270m Q4_K_M), 2 threads each, n_ctx 4096, the same
//! chat prompt (the engine is given the `gemma` template, the server `chat_format: gemma`:
//! the demo model is a base model, which the engine would otherwise prompt with a plain
//! transcript), temperature 0, 200 output tokens at most. Runs alternate (engine, server,
//! engine, …), so both see the same machine. The same runs under CPU contention:
//! `engine_load`.
//!
//! * generation speed: content pieces after the first over the time from the first to the
//!   last (the engine: output tokens from its usage; the server streams one chunk per token
//!   and sends no usage, so its chunks are counted);
//! * time to first token, cold: the engine's first call on a fresh provider (it loads the
//!   model on first use, so this includes the load); the server's first request after it
//!   became healthy (llama-cpp-python loads the model at start: its load is in its start-up
//!   time, reported beside it);
//! * time to first token, warm: later calls with the same prompt (both reuse the prompt's
//!   KV cache prefix).
//!
//! Only with `--features llama` (otherwise [`clawgate_engine::EMBEDDED_ENGINE_AVAILABLE`]
//! is false and the group reports why it was skipped).

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use clawgate_engine::{EngineModelSpec, LlamaCppProvider};
use clawgate_providers::{CallContext, Provider};
use clawgate_wire::{Event, Message, Request, Role};
use futures::StreamExt as _;
use serde::Serialize;
use serde_json::json;

use crate::client::{Dialect, Target, keep_alive_client};
use crate::procs::{self, Spawned};

pub const PROMPT: &str = "Write a long story about a lighthouse keeper and the sea.";
pub const MAX_TOKENS: u32 = 200;
pub const THREADS: usize = 2;
pub const N_CTX: u32 = 4096;

#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct GenerationRun {
    pub ttft_ms: f64,
    pub pieces: usize,
    pub tokens_per_s: f64,
    pub total_ms: f64,
}

#[derive(Debug, Serialize)]
pub struct EngineFigures {
    pub model: String,
    pub engine: Vec<GenerationRun>,
    pub server: Vec<GenerationRun>,
    pub server_start_ms: f64,
    pub engine_tokens_per_s: f64,
    pub server_tokens_per_s: f64,
    /// engine ÷ server generation speed.
    pub speed_ratio: f64,
    pub engine_output_tokens: u64,
    pub same_text: bool,
}

fn rate(pieces: usize, first: Instant, last: Instant) -> f64 {
    let secs = last.duration_since(first).as_secs_f64();
    if pieces > 1 && secs > 0.0 {
        (pieces - 1) as f64 / secs
    } else {
        0.0
    }
}

pub async fn engine_run(
    provider: &LlamaCppProvider,
    prompt: &str,
    max_tokens: u32,
) -> anyhow::Result<(GenerationRun, String, u64)> {
    let request = Request {
        model: "gemma".into(),
        messages: vec![Message::text(Role::User, prompt)],
        max_tokens: Some(max_tokens),
        temperature: Some(0.0),
        stream: true,
        ..Request::default()
    };
    let started = Instant::now();
    let mut stream = provider
        .stream(request, CallContext::default())
        .await
        .map_err(|e| anyhow::anyhow!("engine: {} ({})", e.message, e.kind))?;
    let (mut first, mut last, mut text, mut tokens) = (None, started, String::new(), 0);
    while let Some(event) = stream.next().await {
        match event.map_err(|e| anyhow::anyhow!("engine: {} ({})", e.message, e.kind))? {
            Event::TextDelta { text: t } => {
                let now = Instant::now();
                first.get_or_insert(now);
                last = now;
                text.push_str(&t);
            }
            Event::Usage { usage } => tokens = usage.output_tokens.unwrap_or(0),
            _ => {}
        }
    }
    let first = first.context("engine: no text")?;
    let run = GenerationRun {
        ttft_ms: first.duration_since(started).as_secs_f64() * 1e3,
        pieces: tokens as usize,
        tokens_per_s: rate(tokens as usize, first, last),
        total_ms: started.elapsed().as_secs_f64() * 1e3,
    };
    Ok((run, text, tokens))
}

/// llama-cpp-python's server on a free port, `threads` threads, the gemma chat format;
/// `configure` adjusts its command (the environment) before it starts.
pub fn start_server(
    python: &Path,
    gguf: &Path,
    dir: &Path,
    threads: usize,
    configure: impl FnOnce(&mut std::process::Command),
) -> anyhow::Result<(Spawned, u16, f64)> {
    let port = procs::free_port()?;
    let config = dir.join("llama-server.json");
    let text = json!({
        "host": "127.0.0.1", "port": port, "interrupt_requests": false,
        "models": [{"model": gguf, "model_alias": "gemma", "chat_format": "gemma",
                    "n_ctx": N_CTX, "n_threads": threads, "n_threads_batch": threads,
                    "verbose": false}],
    });
    std::fs::write(&config, serde_json::to_vec(&text)?)?;
    let mut cmd = std::process::Command::new(python);
    cmd.args(["-m", "llama_cpp.server", "--config_file"])
        .arg(&config);
    configure(&mut cmd);
    let started = Instant::now();
    let mut server = Spawned::start(
        "llama-cpp-python",
        cmd,
        false,
        Some(&dir.join("server.log")),
    )?;
    let ready = procs::wait_healthy(
        &mut server,
        port,
        "/v1/models",
        started,
        Duration::from_millis(20),
        Duration::from_secs(120),
    )?;
    Ok((server, port, ready.as_secs_f64() * 1e3))
}

pub async fn server_run(
    client: &reqwest::Client,
    target: &Target,
    prompt: &str,
    max_tokens: u32,
) -> anyhow::Result<(GenerationRun, String)> {
    // Read here rather than with `client::timed_stream`: the text is kept, to compare it
    // with the engine's (same model, greedy: it should be the same).
    let body = json!({
        "model": "gemma", "messages": [{"role": "user", "content": prompt}],
        "max_tokens": max_tokens, "temperature": 0, "stream": true,
    });
    let started = Instant::now();
    let response = client.post(&target.url).json(&body).send().await?;
    if !response.status().is_success() {
        bail!("llama server: HTTP {}", response.status());
    }
    let mut parser = clawgate_wire::sse::SseParser::new();
    let mut bytes = response.bytes_stream();
    let (mut first, mut last, mut pieces, mut text) = (None, started, 0, String::new());
    while let Some(chunk) = bytes.next().await {
        for frame in parser.push(&chunk?) {
            let Ok(v) = serde_json::from_str::<serde_json::Value>(&frame.data) else {
                continue;
            };
            if let Some(t) = v["choices"][0]["delta"]["content"].as_str()
                && !t.is_empty()
            {
                let now = Instant::now();
                first.get_or_insert(now);
                last = now;
                pieces += 1;
                text.push_str(t);
            }
        }
    }
    let first = first.context("llama server: no text")?;
    Ok((
        GenerationRun {
            ttft_ms: first.duration_since(started).as_secs_f64() * 1e3,
            pieces,
            tokens_per_s: rate(pieces, first, last),
            total_ms: started.elapsed().as_secs_f64() * 1e3,
        },
        text,
    ))
}

fn median_rate(runs: &[GenerationRun]) -> f64 {
    let mut r: Vec<f64> = runs.iter().map(|g| g.tokens_per_s).collect();
    r.sort_by(f64::total_cmp);
    r.get(r.len() / 2).copied().unwrap_or(0.0)
}

/// `runs` alternating runs of each (the first of each is the cold one).
pub async fn measure(gguf: &Path, python: &Path, runs: usize) -> anyhow::Result<EngineFigures> {
    if !clawgate_engine::EMBEDDED_ENGINE_AVAILABLE {
        bail!("built without the embedded engine (build clawgate-bench with --features llama)");
    }
    let dir = tempfile::tempdir()?;
    let (_server, port, server_start_ms) = start_server(python, gguf, dir.path(), THREADS, |_| {})?;
    eprintln!("  llama-cpp-python server healthy after {server_start_ms:.0} ms");
    let target = Target::new(
        "llama server",
        &format!("http://127.0.0.1:{port}"),
        Dialect::Chat,
        "gemma",
    );
    let client = keep_alive_client(1)?;
    let spec = EngineModelSpec::new("gemma", gguf)
        .with_context_window(N_CTX)
        .with_threads(THREADS)
        .with_chat_template("gemma");
    let provider = LlamaCppProvider::new("embedded", spec);
    let (mut engine, mut server) = (Vec::new(), Vec::new());
    let (mut engine_text, mut server_text, mut tokens) = (String::new(), String::new(), 0);
    for _ in 0..runs.max(2) {
        let (run, text, t) = engine_run(&provider, PROMPT, MAX_TOKENS).await?;
        eprintln!("  engine: {run:?}");
        (engine_text, tokens) = (text, t);
        engine.push(run);
        let (run, text) = server_run(&client, &target, PROMPT, MAX_TOKENS).await?;
        eprintln!("  server: {run:?}");
        server_text = text;
        server.push(run);
    }
    let (e, s) = (median_rate(&engine), median_rate(&server));
    Ok(EngineFigures {
        model: gguf
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        engine,
        server,
        server_start_ms,
        engine_tokens_per_s: e,
        server_tokens_per_s: s,
        speed_ratio: if s > 0.0 { e / s } else { 0.0 },
        engine_output_tokens: tokens,
        same_text: engine_text.trim() == server_text.trim(),
    })
}
