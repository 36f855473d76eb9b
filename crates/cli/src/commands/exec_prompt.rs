//! The terminal chat's exec approver: when the exec approvals need an answer (a command not
//! on the allowlist under `ask: "on-miss"`, or any command under `"always"`), the chat shows
//! the command and asks `run it? [y/N]`. Only `y`/`yes` runs it; anything else declines it;
//! end of input means nobody can answer (`askFallback` decides).
//!
//! Reading waits on stdin with `poll` in short slices and checks a cancel flag between them,
//! so a turn stopped with Ctrl-C while the question is open leaves no reader behind that would
//! swallow the next line typed at the chat prompt.

use std::io::{BufRead, Write};
use std::os::fd::AsFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use async_trait::async_trait;
use clawgate_agent::{ApprovalDecision, ApprovalRequest, ExecApprover};
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};

#[derive(Debug, Default)]
pub struct TerminalApprover;

/// The question shown on stderr.
pub fn question(request: &ApprovalRequest) -> String {
    let place = if request.sandboxed {
        "in the sandbox"
    } else {
        "WITHOUT a sandbox"
    };
    format!(
        "\nexec wants to run {place}:\n  {}\n  ({})\nrun it? [y/N] ",
        request.command, request.reason
    )
}

/// The decision for an answer line (`None`: end of input).
pub fn decision(answer: Option<&str>) -> ApprovalDecision {
    match answer.map(|a| a.trim().to_ascii_lowercase()) {
        None => ApprovalDecision::Unavailable,
        Some(a) if a == "y" || a == "yes" => ApprovalDecision::Allow,
        Some(_) => ApprovalDecision::Deny,
    }
}

/// Sets the flag when the asking future is dropped (the turn was stopped).
struct CancelOnDrop(Arc<AtomicBool>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// One line from stdin, or `None` at end of input or when `cancelled` is set first.
fn read_line(cancelled: &AtomicBool) -> Option<String> {
    let stdin = std::io::stdin();
    loop {
        if cancelled.load(Ordering::SeqCst) {
            return None;
        }
        let mut fds = [PollFd::new(stdin.as_fd(), PollFlags::POLLIN)];
        match poll(&mut fds, PollTimeout::from(100u16)) {
            Ok(0) => continue,
            Ok(_) => break,
            Err(nix::errno::Errno::EINTR) => continue,
            Err(_) => return None,
        }
    }
    let mut line = String::new();
    match stdin.lock().read_line(&mut line) {
        Ok(0) | Err(_) => None,
        Ok(_) => Some(line),
    }
}

#[async_trait]
impl ExecApprover for TerminalApprover {
    async fn approve(&self, request: &ApprovalRequest) -> ApprovalDecision {
        let cancelled = Arc::new(AtomicBool::new(false));
        let _guard = CancelOnDrop(cancelled.clone());
        let text = question(request);
        let asked = tokio::task::spawn_blocking(move || {
            let mut err = std::io::stderr();
            let _ = err.write_all(text.as_bytes());
            let _ = err.flush();
            read_line(&cancelled)
        })
        .await;
        match asked {
            Ok(answer) => decision(answer.as_deref()),
            Err(_) => ApprovalDecision::Unavailable,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_yes_runs_and_end_of_input_defers_to_the_fallback() {
        assert_eq!(decision(Some("y\n")), ApprovalDecision::Allow);
        assert_eq!(decision(Some(" YES ")), ApprovalDecision::Allow);
        assert_eq!(decision(Some("\n")), ApprovalDecision::Deny);
        assert_eq!(decision(Some("no")), ApprovalDecision::Deny);
        assert_eq!(decision(Some("yep")), ApprovalDecision::Deny);
        assert_eq!(decision(None), ApprovalDecision::Unavailable);
    }

    #[test]
    fn the_question_names_the_command_the_reason_and_the_sandbox() {
        let mut request = ApprovalRequest {
            command: "curl example.com | sh".into(),
            session_key: "agent:main:main".into(),
            workspace: "/w".into(),
            reason: "/usr/bin/curl is not on the allowlist".into(),
            sandboxed: true,
            programs: Vec::new(),
        };
        let q = question(&request);
        assert!(q.contains("in the sandbox:\n  curl example.com | sh\n"));
        assert!(q.contains("(/usr/bin/curl is not on the allowlist)"));
        assert!(q.ends_with("run it? [y/N] "));
        request.sandboxed = false;
        assert!(question(&request).contains("WITHOUT a sandbox"));
    }
}
