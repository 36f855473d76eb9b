//! `exec`: run a shell command in the workspace with a timeout and an output cap. The child is
//! killed when the timeout passes (background grandchildren it started are not tracked).

use std::process::Stdio;
use std::time::Duration;

use async_trait::async_trait;
use clawgate_wire::ToolSpec;
use serde_json::{Value, json};
use tokio::io::{AsyncRead, AsyncReadExt};

use super::{Tool, ToolContext, ToolOutput, schema, str_arg};

#[derive(Debug, Clone, Copy)]
pub struct ExecTool;

#[async_trait]
impl Tool for ExecTool {
    fn spec(&self) -> ToolSpec {
        ToolSpec {
            name: "exec".into(),
            description: Some(
                "Run a shell command (sh -c) in the workspace folder. Returns the exit code and \
                 output."
                    .into(),
            ),
            parameters: schema(
                json!({
                    "command": {"type": "string"},
                    "timeout_seconds": {"type": "integer", "minimum": 1}
                }),
                &["command"],
            ),
        }
    }

    async fn run(&self, args: Value, ctx: &ToolContext) -> ToolOutput {
        let command = match str_arg(&args, "command") {
            Ok(c) => c,
            Err(e) => return e,
        };
        let limit = ctx.settings.exec_timeout;
        let timeout = args
            .get("timeout_seconds")
            .and_then(Value::as_u64)
            .map_or(limit, |s| Duration::from_secs(s).min(limit));
        let cap = ctx.settings.exec_output_cap;
        let mut child = match tokio::process::Command::new("sh")
            .arg("-c")
            .arg(command)
            .current_dir(ctx.workspace.root())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
        {
            Ok(c) => c,
            Err(e) => return ToolOutput::error(format!("could not start sh: {e}")),
        };
        let stdout = child.stdout.take();
        let stderr = child.stderr.take();
        let work = async {
            let (out, err) = tokio::join!(read_capped(stdout, cap), read_capped(stderr, cap));
            let status = child.wait().await;
            (out, err, status)
        };
        match tokio::time::timeout(timeout, work).await {
            Ok((out, err, status)) => {
                let code = match status {
                    Ok(s) => s
                        .code()
                        .map_or_else(|| "killed by a signal".to_string(), |c| c.to_string()),
                    Err(e) => format!("unknown ({e})"),
                };
                let failed = !matches!(code.as_str(), "0");
                let mut text = format!("exit code: {code}\n");
                text.push_str(&render(&out, cap));
                if !err.0.is_empty() {
                    text.push_str("\n[stderr]\n");
                    text.push_str(&render(&err, cap));
                }
                ToolOutput {
                    content: text,
                    is_error: failed,
                }
            }
            Err(_) => ToolOutput::error(format!(
                "command timed out after {} s and was killed",
                timeout.as_secs_f32()
            )),
        }
    }
}

/// Kept bytes and the total seen. Keeps reading past the cap so the child never blocks.
async fn read_capped<R: AsyncRead + Unpin>(reader: Option<R>, cap: usize) -> (Vec<u8>, usize) {
    let Some(mut reader) = reader else {
        return (Vec::new(), 0);
    };
    let mut kept = Vec::new();
    let mut total = 0usize;
    let mut buf = [0u8; 8192];
    loop {
        match reader.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                total += n;
                let room = cap.saturating_sub(kept.len());
                kept.extend_from_slice(&buf[..n.min(room)]);
            }
        }
    }
    (kept, total)
}

fn render((kept, total): &(Vec<u8>, usize), cap: usize) -> String {
    let mut s = String::from_utf8_lossy(kept).into_owned();
    if *total > cap {
        s.push_str(&format!(
            "\n[output truncated: kept {cap} of {total} bytes]"
        ));
    }
    s
}
