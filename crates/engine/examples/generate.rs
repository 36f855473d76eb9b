//! Smoke run and measurement tool for the embedded engine: streams one prompt through
//! `LlamaCppProvider` (the same path the gateway uses) and prints the text, then timings.
//!
//! ```text
//! cargo run --release -p clawgate-engine --features llama --example generate -- \
//!     <model.gguf> "Say hi" [--max-tokens N] [--threads N] [--ctx N] [--temperature T]
//!     [--seed S] [--runs K] [--vary] [--chat-template NAME|JINJA] [--flash-attention on|off|auto]
//! ```
//! Run 1 is cold (it loads the model: time to first token includes the load); runs 2..K are
//! warm. With the same prompt a warm run finds it in the KV cache and evaluates only its last
//! token again; `--vary` starts each run's prompt with "Run N:" so only the template's first
//! tokens are shared and the prompt is really evaluated. Generation speed is output tokens after the first, over the time from
//! the first to the last token.

use std::path::PathBuf;
use std::time::Instant;

use clawgate_engine::{EngineModelSpec, FlashAttention, LlamaCppProvider};
use clawgate_providers::{CallContext, Provider};
use clawgate_wire::{Event, Message, Request, Role};
use futures::StreamExt;

struct Args {
    model: PathBuf,
    prompt: String,
    max_tokens: u32,
    threads: Option<usize>,
    ctx: u32,
    temperature: f32,
    seed: i64,
    runs: usize,
    vary: bool,
    chat_template: Option<String>,
    flash_attention: FlashAttention,
}

fn parse_args() -> Result<Args, String> {
    let mut positional = Vec::new();
    let mut args = Args {
        model: PathBuf::new(),
        prompt: String::new(),
        max_tokens: 64,
        threads: None,
        ctx: 2048,
        temperature: 0.0,
        seed: 42,
        runs: 1,
        vary: false,
        chat_template: None,
        flash_attention: FlashAttention::Auto,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = |name: &str| it.next().ok_or(format!("{name} needs a value"));
        let bad = |name: &str| format!("{name}: not a number");
        match arg.as_str() {
            "--max-tokens" => args.max_tokens = value(&arg)?.parse().map_err(|_| bad(&arg))?,
            "--threads" => args.threads = Some(value(&arg)?.parse().map_err(|_| bad(&arg))?),
            "--ctx" => args.ctx = value(&arg)?.parse().map_err(|_| bad(&arg))?,
            "--temperature" => args.temperature = value(&arg)?.parse().map_err(|_| bad(&arg))?,
            "--seed" => args.seed = value(&arg)?.parse().map_err(|_| bad(&arg))?,
            "--runs" => args.runs = value(&arg)?.parse().map_err(|_| bad(&arg))?,
            "--vary" => args.vary = true,
            "--chat-template" => args.chat_template = Some(value(&arg)?),
            "--flash-attention" => {
                args.flash_attention = match value(&arg)?.as_str() {
                    "on" => FlashAttention::Enabled,
                    "off" => FlashAttention::Disabled,
                    "auto" => FlashAttention::Auto,
                    other => {
                        return Err(format!("--flash-attention: on, off or auto, not {other}"));
                    }
                }
            }
            _ => positional.push(arg),
        }
    }
    let [model, prompt] = <[String; 2]>::try_from(positional)
        .map_err(|_| "usage: generate <model.gguf> <prompt> [options]".to_owned())?;
    args.model = PathBuf::from(model);
    args.prompt = prompt;
    Ok(args)
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args = match parse_args() {
        Ok(args) => args,
        Err(err) => {
            eprintln!("{err}");
            std::process::exit(2);
        }
    };
    let mut spec = EngineModelSpec::new("demo", &args.model).with_context_window(args.ctx);
    spec.threads = args.threads;
    spec.flash_attention = args.flash_attention;
    if let Some(template) = &args.chat_template {
        spec = spec.with_chat_template(template.clone());
    }
    let provider = LlamaCppProvider::new("embedded", spec);
    for run in 1..=args.runs.max(1) {
        if let Err(err) = generate(&provider, &args, run).await {
            eprintln!("error: {err}");
            std::process::exit(1);
        }
    }
}

async fn generate(provider: &LlamaCppProvider, args: &Args, run: usize) -> Result<(), String> {
    let prompt = if args.vary {
        format!("Run {run}: {}", args.prompt)
    } else {
        args.prompt.clone()
    };
    let request = Request {
        model: "demo".into(),
        messages: vec![Message::text(Role::User, prompt)],
        max_tokens: Some(args.max_tokens),
        temperature: Some(args.temperature),
        seed: Some(args.seed),
        stream: true,
        ..Request::default()
    };
    let started = Instant::now();
    let mut stream = provider
        .stream(request, CallContext::default())
        .await
        .map_err(|e| format!("{} ({})", e.message, e.kind))?;
    let mut first_token = None;
    let mut last_token = started;
    let mut usage = None;
    let mut finish = None;
    while let Some(event) = stream.next().await {
        match event.map_err(|e| format!("{} ({})", e.message, e.kind))? {
            Event::TextDelta { text } => {
                let now = Instant::now();
                first_token.get_or_insert(now);
                last_token = now;
                print!("{text}");
            }
            Event::Usage { usage: u } => usage = Some(u),
            Event::Finished { stop_reason } => finish = Some(stop_reason),
            _ => {}
        }
    }
    println!();
    let output = usage.and_then(|u| u.output_tokens).unwrap_or(0);
    let input = usage.and_then(|u| u.input_tokens).unwrap_or(0);
    let ttft = first_token.map(|t| t.duration_since(started).as_secs_f64());
    let decode_secs = first_token.map_or(0.0, |t| last_token.duration_since(t).as_secs_f64());
    let tok_s = if output > 1 && decode_secs > 0.0 {
        (output - 1) as f64 / decode_secs
    } else {
        0.0
    };
    let info = provider.model_info();
    eprintln!(
        "run {run} ({}): prompt {input} tok, output {output} tok, finish {finish:?}, \
         time to first token {}, generation {tok_s:.1} tok/s, total {:.2} s, threads {}",
        if run == 1 { "cold" } else { "warm" },
        ttft.map_or("-".to_owned(), |s| format!("{s:.3} s")),
        started.elapsed().as_secs_f64(),
        info.map_or(0, |i| i.threads),
    );
    Ok(())
}
