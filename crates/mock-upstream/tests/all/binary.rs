//! The `mock-upstream` binary: `--help`, and a real run that prints its URL and answers.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::support::chat;

const BIN: &str = env!("CARGO_BIN_EXE_mock-upstream");

#[test]
fn help_lists_the_flags_and_fault_names() {
    let out = Command::new(BIN).arg("--help").output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    for flag in [
        "--port",
        "--latency-ms",
        "--ttft-ms",
        "--chunks",
        "--chunk-interval-ms",
        "--fault",
        "--overflow-server",
        "--quirk",
        "--model",
        "--request-log",
    ] {
        assert!(help.contains(flag), "missing {flag}");
    }
    assert!(help.contains("hang_after_first_chunk"));
    assert!(help.contains("lm_studio"));
}

#[test]
fn a_bad_fault_name_is_rejected() {
    let out = Command::new(BIN)
        .args(["--fault", "explode"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown fault"));
}

/// Kills the child when the test ends, even on failure.
struct Child(std::process::Child);
impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn the_binary_prints_its_url_and_serves_with_the_given_knobs() {
    let mut child = Child(
        Command::new(BIN)
            .args([
                "--port",
                "0",
                "--chunks",
                "3",
                "--model",
                "tiny:2048",
                "--fault",
                "status_429",
                "--retry-after-secs",
                "9",
                "--workers",
                "1",
            ])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let stdout = child.0.stdout.take().unwrap();
    let url = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).unwrap();
        line.trim().to_owned()
    })
    .await
    .unwrap();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");

    let client = reqwest::Client::new();
    let models: Value = client
        .get(format!("{url}/v1/models"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(models["data"][0]["id"], "tiny");
    assert_eq!(models["data"][0]["max_model_len"], 2048);
    let r = client
        .post(format!("{url}/v1/chat/completions"))
        .json(&chat(false))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["retry-after"], "9");
}
