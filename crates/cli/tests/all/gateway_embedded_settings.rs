//! Engine settings that generation does not show, shown by llama.cpp itself: with
//! `CLAWGATE_LLAMA_LOG=1` the gateway's log carries llama.cpp's own context report, which
//! names the flash-attention policy and batch size it was given from the row's `params`; and
//! with `OMP_DISPLAY_ENV=verbose` libgomp prints the wait policy it runs with.

use serde_json::json;

use super::gateway_embedded_tools::start_gateway;
use super::harness::Cli;

/// `text` without terminal colour codes (`ESC [ … m`).
fn plain(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            chars.by_ref().find(|c| *c == 'm');
        } else {
            out.push(c);
        }
    }
    out
}

/// The value in llama.cpp's context report line `<key> = <value>`, from the gateway's log
/// (llama-cpp-2 forwards it to `tracing` with `module="llama.cpp::llama_context"`).
fn reported(log: &str, key: &str) -> Option<String> {
    plain(log)
        .lines()
        .filter(|l| l.contains("llama.cpp::llama_context"))
        .find_map(|line| {
            let (_, after) = line.split_once(&format!(" {key} "))?;
            let value = after
                .trim_start()
                .strip_prefix('=')?
                .split_whitespace()
                .next()?;
            Some(value.to_owned())
        })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flash_attention_and_batch_size_reach_llama_cpp() {
    let client = reqwest::Client::new();
    for (flash, policy, batch) in [(true, "enabled", 128), (false, "disabled", 64)] {
        let cli = Cli::new();
        let log = cli.path("gateway.log");
        let params = json!({"contextSize": 1024, "threads": 1, "flashAttention": flash,
                            "batchSize": batch});
        let gateway = start_gateway(
            &cli,
            params,
            &[("CLAWGATE_LLAMA_LOG", "1"), ("RUST_LOG", "info")],
            Some(&log),
        );
        // The model loads on the first request.
        let reply = client
            .post(format!("{}/v1/chat/completions", gateway.base))
            .json(&json!({"model": "local/demo", "max_tokens": 1,
                          "messages": [{"role": "user", "content": "Hi"}]}))
            .send()
            .await
            .unwrap();
        assert!(
            reply.status().is_success(),
            "{}",
            reply.text().await.unwrap()
        );
        drop(gateway);
        let text = std::fs::read_to_string(&log).unwrap();
        assert_eq!(
            reported(&text, "flash_attn").as_deref(),
            Some(policy),
            "{text}"
        );
        assert_eq!(
            reported(&text, "n_batch").as_deref(),
            Some(batch.to_string().as_str()),
            "{text}"
        );
    }
}

/// The `GOMP_SPINCOUNT` libgomp printed last (`OMP_DISPLAY_ENV=verbose`): each process start
/// prints its settings, so after the binary re-executes itself the last block is the one the
/// engine runs with. Passive waiting is a spin count of 0.
fn last_spin_count(log: &str) -> Option<u64> {
    log.lines()
        .filter_map(|l| l.trim().strip_prefix("GOMP_SPINCOUNT = "))
        .next_back()
        .and_then(|v| v.trim_matches('\'').parse().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openmp_waits_passively_unless_the_user_sets_a_policy() {
    for (policy, expected) in [(None, 0), (Some("active"), 30_000_000_000)] {
        let cli = Cli::new();
        let log = cli.path("gateway.log");
        let mut env = vec![("OMP_DISPLAY_ENV", "verbose")];
        env.extend(policy.map(|p| ("OMP_WAIT_POLICY", p)));
        let params = json!({"contextSize": 1024, "threads": 2});
        drop(start_gateway(&cli, params, &env, Some(&log)));
        let text = std::fs::read_to_string(&log).unwrap();
        assert_eq!(last_spin_count(&text), Some(expected), "{policy:?}: {text}");
    }
}
