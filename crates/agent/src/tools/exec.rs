//! `exec`: run a shell command in the workspace. In order: the exec approvals decide whether
//! it may run ([`exec_approval`](super::exec_approval)), the sandbox decides what it can touch
//! ([`sandbox`](super::sandbox)), and [`process_group`](super::process_group) runs it with a
//! timeout and output caps and kills everything it started when the timeout passes or the turn
//! is aborted. Its output is untrusted (a command can print any file or page): the loop wraps
//! it before the model sees it.

use std::time::Duration;

use async_trait::async_trait;
use clawgate_wire::ToolSpec;
use serde_json::{Value, json};

use super::exec_approval::{ApprovalRequest, Verdict, decide};
use super::process_group::{Captured, RunEnd, run_in_group};
use super::{Tool, ToolContext, ToolOutput, sandbox, schema, str_arg};
use crate::untrusted::ContentOrigin;

#[derive(Debug, Clone, Copy, Default)]
pub struct ExecTool;

#[async_trait]
impl Tool for ExecTool {
    fn spec(&self) -> ToolSpec {
        ToolSpec {
            name: "exec".into(),
            description: Some(
                "Run a shell command (sh -c) in the workspace folder. Returns the exit code and \
                 output. Commands run in a sandbox (unless the agent's config turns it off): only \
                 the workspace is writable, there is no network by default."
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
            Ok(c) => c.to_string(),
            Err(e) => return e,
        };
        let limit = ctx.settings.exec_timeout;
        let timeout = args
            .get("timeout_seconds")
            .and_then(Value::as_u64)
            .map_or(limit, |s| Duration::from_secs(s).min(limit));
        let workspace = ctx.workspace.root();
        let sandboxed = ctx.settings.sandbox.mode.applies(ctx.main_session);
        let host_path = std::env::var_os("PATH");
        let request = ApprovalRequest {
            command: command.clone(),
            session_key: ctx.session_key.clone(),
            workspace: workspace.to_path_buf(),
            reason: String::new(),
            sandboxed,
            programs: Vec::new(),
        };
        if let Verdict::Refuse(why) = decide(
            &ctx.settings.exec_approvals,
            request,
            host_path.as_deref(),
            ctx.approver.as_ref(),
        )
        .await
        {
            return ToolOutput::error(why);
        }
        let cmd = if sandboxed {
            let bwrap = match sandbox::ready(&ctx.settings.sandbox, workspace).await {
                Ok(b) => b,
                Err(why) => return ToolOutput::error(why),
            };
            sandbox::sandboxed_command(&ctx.settings.sandbox, workspace, &command, &bwrap).await
        } else {
            let mut cmd = tokio::process::Command::new("sh");
            cmd.arg("-c").arg(&command).current_dir(workspace);
            cmd
        };
        let cap = ctx.settings.exec_output_cap;
        let origin = ContentOrigin::new("Exec").with("Command", &command);
        match run_in_group(cmd, timeout, cap).await {
            RunEnd::Exited {
                status,
                stdout,
                stderr,
            } => {
                let code = status
                    .code()
                    .map_or_else(|| "killed by a signal".to_string(), |c| c.to_string());
                let mut text = format!("exit code: {code}\n");
                text.push_str(&render(&stdout, cap));
                if stderr.total > 0 {
                    text.push_str("\n[stderr]\n");
                    text.push_str(&render(&stderr, cap));
                }
                ToolOutput {
                    content: text,
                    is_error: !status.success(),
                    origin: Some(origin),
                }
            }
            RunEnd::TimedOut => ToolOutput::error(format!(
                "command timed out after {} s and was killed (with every process it started)",
                timeout.as_secs_f32()
            )),
            RunEnd::SpawnFailed(e) => {
                let what = if sandboxed { "bwrap" } else { "sh" };
                ToolOutput::error(format!("could not start {what}: {e}"))
            }
        }
    }
}

fn render(captured: &Captured, cap: usize) -> String {
    let mut s = String::from_utf8_lossy(&captured.kept).into_owned();
    if captured.total > cap {
        s.push_str(&format!(
            "\n[output truncated: kept {cap} of {} bytes]",
            captured.total
        ));
    }
    s
}
