//! Exec approvals, after OpenClaw's `tools.exec.security` / `tools.exec.ask` and the
//! `askFallback` and per-agent `allowlist` of its `exec-approvals.json`: whether a command may
//! run at all (the sandbox then decides what it can touch).
//!
//! - `security`: `deny` refuses every command, `allowlist` runs only allowlisted ones, `full`
//!   runs anything.
//! - `ask`: `off` never asks, `on-miss` asks when an `allowlist` agent's command is not on the
//!   list, `always` asks for every command.
//! - `askFallback` (`deny` / `allowlist` / `full`): what happens when an answer is needed but
//!   nobody can give one (a turn through the gateway, a piped chat).
//!
//! Asking goes through the [`ExecApprover`] the caller passes with the turn: the terminal chat
//! asks y/n; the gateway asks the Control UI (a stream frame and a decision posted back) when
//! the client asked for clawgate's stream frames, and passes none otherwise (so the fallback
//! applies). An approver that was told to always allow a command contributes its patterns to
//! the allowlist at once ([`ExecApprover::remembered_patterns`]), before any reload. Unlike OpenClaw, which applies approvals only to commands run on
//! the host, clawgate applies them to sandboxed commands too: the sandbox limits the damage, the
//! approval limits what is tried.

use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;

use super::command_allowlist::{Allowlist, programs};

/// `tools.exec.security` (and `askFallback`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ExecSecurity {
    Deny,
    Allowlist,
    Full,
}

impl ExecSecurity {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "deny" => Some(ExecSecurity::Deny),
            "allowlist" => Some(ExecSecurity::Allowlist),
            "full" => Some(ExecSecurity::Full),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ExecSecurity::Deny => "deny",
            ExecSecurity::Allowlist => "allowlist",
            ExecSecurity::Full => "full",
        }
    }
}

/// `tools.exec.ask`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ExecAsk {
    Off,
    OnMiss,
    Always,
}

impl ExecAsk {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "off" => Some(ExecAsk::Off),
            "on-miss" => Some(ExecAsk::OnMiss),
            "always" => Some(ExecAsk::Always),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ExecAsk::Off => "off",
            ExecAsk::OnMiss => "on-miss",
            ExecAsk::Always => "always",
        }
    }
}

/// The effective approval settings of one agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecApprovalSettings {
    pub security: ExecSecurity,
    pub ask: ExecAsk,
    pub ask_fallback: ExecSecurity,
    /// Executable path globs (`allowlist[].pattern`).
    pub allowlist: Vec<String>,
    /// Where the allowlist lives (named in refusals so the user knows what to edit).
    pub allowlist_file: Option<PathBuf>,
    /// For `~/` in patterns.
    pub home: Option<PathBuf>,
}

impl Default for ExecApprovalSettings {
    /// Ask for anything not allowlisted; refuse when nobody can answer.
    fn default() -> Self {
        ExecApprovalSettings {
            security: ExecSecurity::Allowlist,
            ask: ExecAsk::OnMiss,
            ask_fallback: ExecSecurity::Deny,
            allowlist: Vec::new(),
            allowlist_file: None,
            home: None,
        }
    }
}

/// What the approver is asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovalRequest {
    pub command: String,
    /// The session the command comes from.
    pub session_key: String,
    pub workspace: PathBuf,
    /// Why an answer is needed (`ask` is `always`, or what the allowlist check found).
    pub reason: String,
    /// Whether the command will run in the sandbox.
    pub sandboxed: bool,
    /// The resolved executable of each command of the chain (what "allow always" adds to the
    /// allowlist); empty when the command cannot be analysed or a program is not found.
    pub programs: Vec<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApprovalDecision {
    /// Run it this once.
    Allow,
    Deny,
    /// The question was asked but no answer came within `waited_secs`: refused.
    Expired {
        waited_secs: u64,
    },
    /// Nobody can answer here: `askFallback` decides.
    Unavailable,
}

/// Asks someone whether a command may run (the terminal chat, the gateway's Control UI).
#[async_trait]
pub trait ExecApprover: Send + Sync {
    async fn approve(&self, request: &ApprovalRequest) -> ApprovalDecision;

    /// Allowlist patterns this approver was told to always allow since the agent's settings
    /// were loaded (they are also in the approvals file, which the next load reads).
    fn remembered_patterns(&self) -> Vec<String> {
        Vec::new()
    }
}

/// The outcome: run, or the tool error to return.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Run,
    Refuse(String),
}

/// Decide whether `request.command` may run.
pub async fn decide(
    settings: &ExecApprovalSettings,
    request: ApprovalRequest,
    path_env: Option<&std::ffi::OsStr>,
    approver: Option<&Arc<dyn ExecApprover>>,
) -> Verdict {
    if settings.security == ExecSecurity::Deny {
        return Verdict::Refuse(
            "exec refused: tools.exec.security is \"deny\" for this agent".to_string(),
        );
    }
    let mut patterns = settings.allowlist.clone();
    if let Some(approver) = approver {
        patterns.extend(approver.remembered_patterns());
    }
    let allowlist = Allowlist::new(&patterns, settings.home.as_deref());
    // Resolving executables looks at the file system: on the blocking pool.
    let (command, workspace) = (request.command.clone(), request.workspace.clone());
    let path_env = path_env.map(std::ffi::OsStr::to_os_string);
    let (matched, programs) = tokio::task::spawn_blocking(move || {
        let matched = allowlist.check(&command, &workspace, path_env.as_deref());
        let programs = programs(&command, &workspace, path_env.as_deref()).unwrap_or_default();
        (matched, programs)
    })
    .await
    .unwrap_or_else(|e| (Err(format!("the allowlist check failed: {e}")), Vec::new()));
    let needs_answer = settings.ask == ExecAsk::Always
        || (settings.ask == ExecAsk::OnMiss
            && settings.security == ExecSecurity::Allowlist
            && matched.is_err());
    if !needs_answer {
        return match (&matched, settings.security) {
            (_, ExecSecurity::Full) | (Ok(()), _) => Verdict::Run,
            (Err(why), _) => Verdict::Refuse(format!(
                "exec refused: {why} (tools.exec.security \"allowlist\", ask \"off\"). {}",
                allow_hint(settings)
            )),
        };
    }
    let reason = match &matched {
        _ if settings.ask == ExecAsk::Always => "tools.exec.ask is \"always\"".to_string(),
        Err(why) => why.clone(),
        Ok(()) => "approval required".to_string(),
    };
    let command = request.command.clone();
    let request = ApprovalRequest {
        reason,
        programs,
        ..request
    };
    let decision = match approver {
        Some(a) => a.approve(&request).await,
        None => ApprovalDecision::Unavailable,
    };
    match decision {
        ApprovalDecision::Allow => Verdict::Run,
        ApprovalDecision::Deny => Verdict::Refuse(format!(
            "exec refused: the user declined to run `{command}`"
        )),
        ApprovalDecision::Expired { waited_secs } => Verdict::Refuse(format!(
            "exec refused: `{command}` needs approval ({}) and nobody answered within \
             {waited_secs} s, so it counts as declined",
            request.reason
        )),
        ApprovalDecision::Unavailable => match (settings.ask_fallback, &matched) {
            (ExecSecurity::Full, _) | (ExecSecurity::Allowlist, Ok(())) => Verdict::Run,
            _ => Verdict::Refuse(format!(
                "exec refused: `{command}` needs approval ({}), and nobody can approve it here \
                 (no interactive terminal, e.g. a turn through the gateway; askFallback is \"{}\"). \
                 {} Or approve it in the terminal chat (`clawgate agent`).",
                request.reason,
                settings.ask_fallback.as_str(),
                allow_hint(settings)
            )),
        },
    }
}

fn allow_hint(settings: &ExecApprovalSettings) -> String {
    let file = settings.allowlist_file.as_ref().map_or_else(
        || "exec-approvals.json in the state dir".to_string(),
        |p| p.display().to_string(),
    );
    format!(
        "To allow it, add its executable path as a pattern to this agent's allowlist in {file} \
         (agents.<id>.allowlist[].pattern), or set tools.exec.security to \"full\" and \
         tools.exec.ask to \"off\"."
    )
}
