//! Exec approvals (`tools.exec.security` / `ask`, `askFallback`, the allowlist): each level's
//! effect on a real `exec`, the approver being asked (and with what), and the refusal a turn
//! without an approver (the gateway) gets.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use clawgate_agent::tools::exec::ExecTool;
use clawgate_agent::{
    ApprovalDecision, ApprovalRequest, ExecApprovalSettings, ExecApprover, ExecAsk, ExecSecurity,
    SandboxSettings, Tool, ToolContext, ToolOutput, ToolProfile, TurnOptions,
};
use clawgate_wire::Role;
use serde_json::json;

use crate::fake::{FakeModel, Scripted, model, runtime};
use crate::sandbox::sandbox_ctx;

/// Answers every question with `answer` and remembers what it was asked.
struct Recorder {
    answer: ApprovalDecision,
    asked: Mutex<Vec<ApprovalRequest>>,
    remembered: Vec<String>,
}

impl Recorder {
    fn new(answer: ApprovalDecision) -> Arc<Self> {
        Self::remembering(answer, Vec::new())
    }

    fn remembering(answer: ApprovalDecision, remembered: Vec<String>) -> Arc<Self> {
        Arc::new(Recorder {
            answer,
            asked: Mutex::new(Vec::new()),
            remembered,
        })
    }

    fn asked(&self) -> Vec<ApprovalRequest> {
        self.asked.lock().unwrap().clone()
    }
}

#[async_trait]
impl ExecApprover for Recorder {
    async fn approve(&self, request: &ApprovalRequest) -> ApprovalDecision {
        self.asked.lock().unwrap().push(request.clone());
        self.answer
    }

    fn remembered_patterns(&self) -> Vec<String> {
        self.remembered.clone()
    }
}

/// The path `name` resolves to on this machine's PATH (what allowlist patterns match).
fn which(name: &str) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap();
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
        .unwrap()
}

fn ctx(
    dir: &Path,
    approvals: ExecApprovalSettings,
    approver: Option<Arc<Recorder>>,
) -> ToolContext {
    let mut c = sandbox_ctx(dir, SandboxSettings::default());
    c.settings.exec_approvals = approvals;
    c.session_key = "agent:main:main".into();
    c.approver = approver.map(|a| a as Arc<dyn ExecApprover>);
    c
}

async fn touch(c: &ToolContext, name: &str) -> (ToolOutput, bool) {
    let out = ExecTool
        .run(json!({"command": format!("touch {name}")}), c)
        .await;
    let ran = c.workspace.root().join(name).exists();
    (out, ran)
}

fn settings(security: ExecSecurity, ask: ExecAsk, fallback: ExecSecurity) -> ExecApprovalSettings {
    ExecApprovalSettings {
        security,
        ask,
        ask_fallback: fallback,
        allowlist_file: Some("/state/exec-approvals.json".into()),
        ..ExecApprovalSettings::default()
    }
}

#[tokio::test]
async fn security_deny_refuses_everything() {
    let dir = tempfile::tempdir().unwrap();
    let yes = Recorder::new(ApprovalDecision::Allow);
    let c = ctx(
        dir.path(),
        settings(ExecSecurity::Deny, ExecAsk::Always, ExecSecurity::Full),
        Some(yes.clone()),
    );
    let (out, ran) = touch(&c, "a").await;
    assert!(out.is_error && !ran);
    assert!(
        out.content.contains("tools.exec.security is \"deny\""),
        "{}",
        out.content
    );
    assert!(yes.asked().is_empty(), "deny does not even ask");
}

#[tokio::test]
async fn the_allowlist_matches_resolved_executable_paths() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = settings(ExecSecurity::Allowlist, ExecAsk::Off, ExecSecurity::Deny);
    s.allowlist = vec![which("touch").display().to_string()];
    let c = ctx(dir.path(), s, None);
    let (out, ran) = touch(&c, "listed").await;
    assert!(!out.is_error && ran, "{}", out.content);
    // Not listed, and `ask: off`: refused, naming the executable and where to allow it.
    let out = ExecTool.run(json!({"command": "touch x && id"}), &c).await;
    assert!(out.is_error);
    assert!(
        out.content.contains("/id is not on the allowlist"),
        "{}",
        out.content
    );
    assert!(out.content.contains("/state/exec-approvals.json"));
    assert!(
        !c.workspace.root().join("x").exists(),
        "no part of the chain ran"
    );
    // Syntax the analysis does not model is never allowlisted.
    let out = ExecTool.run(json!({"command": "touch y > z"}), &c).await;
    assert!(
        out.is_error && out.content.contains("redirection"),
        "{}",
        out.content
    );
}

#[tokio::test]
async fn on_miss_asks_the_approver_and_obeys_the_answer() {
    let dir = tempfile::tempdir().unwrap();
    let yes = Recorder::new(ApprovalDecision::Allow);
    let c = ctx(
        dir.path(),
        settings(ExecSecurity::Allowlist, ExecAsk::OnMiss, ExecSecurity::Deny),
        Some(yes.clone()),
    );
    let (out, ran) = touch(&c, "approved").await;
    assert!(!out.is_error && ran, "{}", out.content);
    let asked = yes.asked();
    assert_eq!(asked.len(), 1);
    assert_eq!(asked[0].command, "touch approved");
    assert_eq!(asked[0].session_key, "agent:main:main");
    assert!(asked[0].sandboxed);
    assert!(
        asked[0].reason.contains("not on the allowlist"),
        "{}",
        asked[0].reason
    );

    let no = Recorder::new(ApprovalDecision::Deny);
    let c = ctx(
        dir.path(),
        settings(ExecSecurity::Allowlist, ExecAsk::OnMiss, ExecSecurity::Full),
        Some(no.clone()),
    );
    let (out, ran) = touch(&c, "declined").await;
    assert!(out.is_error && !ran);
    assert!(out.content.contains("the user declined"), "{}", out.content);

    // A listed command is not asked about under on-miss…
    let mut listed = settings(ExecSecurity::Allowlist, ExecAsk::OnMiss, ExecSecurity::Deny);
    listed.allowlist = vec![which("touch").display().to_string()];
    let quiet = Recorder::new(ApprovalDecision::Deny);
    let c = ctx(dir.path(), listed.clone(), Some(quiet.clone()));
    assert!(touch(&c, "listed").await.1);
    assert!(quiet.asked().is_empty());
    // …but is under always.
    listed.ask = ExecAsk::Always;
    let c = ctx(dir.path(), listed, Some(quiet.clone()));
    assert!(!touch(&c, "always").await.1);
    assert!(quiet.asked()[0].reason.contains("\"always\""));
}

#[tokio::test]
async fn without_an_approver_the_fallback_decides() {
    let dir = tempfile::tempdir().unwrap();
    let c = ctx(
        dir.path(),
        settings(ExecSecurity::Allowlist, ExecAsk::OnMiss, ExecSecurity::Deny),
        None,
    );
    let (out, ran) = touch(&c, "gateway").await;
    assert!(out.is_error && !ran);
    assert!(
        out.content.contains("nobody can approve it here"),
        "{}",
        out.content
    );
    assert!(out.content.contains("askFallback is \"deny\""));
    assert!(out.content.contains("clawgate agent"));

    let mut s = settings(
        ExecSecurity::Allowlist,
        ExecAsk::Always,
        ExecSecurity::Allowlist,
    );
    s.allowlist = vec![which("touch").display().to_string()];
    let c = ctx(dir.path(), s, None);
    assert!(touch(&c, "fallback-listed").await.1);
    let out = ExecTool.run(json!({"command": "id"}), &c).await;
    assert!(out.is_error, "allowlist fallback refuses unlisted commands");

    let c = ctx(
        dir.path(),
        settings(ExecSecurity::Allowlist, ExecAsk::Always, ExecSecurity::Full),
        None,
    );
    assert!(touch(&c, "fallback-full").await.1);
}

#[tokio::test]
async fn the_defaults_ask_and_refuse_when_nobody_can_answer() {
    let defaults = ExecApprovalSettings::default();
    assert_eq!(
        (defaults.security, defaults.ask, defaults.ask_fallback),
        (ExecSecurity::Allowlist, ExecAsk::OnMiss, ExecSecurity::Deny)
    );
}

#[tokio::test]
async fn a_turn_passes_its_approver_and_session_to_exec() {
    let dir = tempfile::tempdir().unwrap();
    let fake = FakeModel::new("p/m", None, |r| match r.messages.last().unwrap().role {
        Role::User => Scripted::ToolCall {
            id: "c1".into(),
            name: "exec".into(),
            arguments: r#"{"command":"touch from-turn"}"#.into(),
        },
        _ => Scripted::Text("done".into()),
    });
    let rt = runtime(dir.path(), fake.clone(), model("p/m", 32_000), |s| {
        s.tool_policy.global.profile = Some(ToolProfile::Coding);
    });
    let ws = dir.path().join("workspace");
    // Through the gateway (no approver): refused, and the model is told why.
    let out = rt
        .run_turn("agent:main:web", "go", TurnOptions::default())
        .await
        .unwrap();
    assert!(out.tool_calls[0].is_error);
    assert!(!ws.join("from-turn").exists());
    let result = crate::fake::message_text(fake.main_requests()[1].messages.last().unwrap());
    assert!(result.contains("nobody can approve it here"), "{result}");
    // In the terminal chat (an approver): asked, and run.
    let yes = Recorder::new(ApprovalDecision::Allow);
    let options = TurnOptions {
        approver: Some(yes.clone()),
        ..TurnOptions::default()
    };
    let out = rt.run_turn("agent:main:main", "go", options).await.unwrap();
    assert!(!out.tool_calls[0].is_error);
    assert!(ws.join("from-turn").exists());
    assert_eq!(yes.asked()[0].session_key, "agent:main:main");
}

#[tokio::test]
async fn the_question_names_the_resolved_programs_and_an_unanswered_one_expires() {
    let dir = tempfile::tempdir().unwrap();
    let late = Recorder::new(ApprovalDecision::Expired { waited_secs: 120 });
    let c = ctx(
        dir.path(),
        settings(ExecSecurity::Allowlist, ExecAsk::OnMiss, ExecSecurity::Full),
        Some(late.clone()),
    );
    let out = ExecTool
        .run(json!({"command": "touch late && id"}), &c)
        .await;
    assert!(
        out.is_error,
        "an expired question refuses even with askFallback full"
    );
    assert!(
        out.content.contains("nobody answered within 120 s"),
        "{}",
        out.content
    );
    assert!(!c.workspace.root().join("late").exists());
    assert_eq!(late.asked()[0].programs, vec![which("touch"), which("id")]);
    // A command the analysis cannot model has nothing to allowlist.
    let _ = ExecTool.run(json!({"command": "touch a > b"}), &c).await;
    assert!(late.asked()[1].programs.is_empty());
}

#[tokio::test]
async fn patterns_the_approver_remembers_count_as_allowlisted() {
    let dir = tempfile::tempdir().unwrap();
    let remembered = vec![which("touch").display().to_string()];
    let quiet = Recorder::remembering(ApprovalDecision::Deny, remembered);
    let c = ctx(
        dir.path(),
        settings(ExecSecurity::Allowlist, ExecAsk::OnMiss, ExecSecurity::Deny),
        Some(quiet.clone()),
    );
    assert!(touch(&c, "remembered").await.1);
    assert!(
        quiet.asked().is_empty(),
        "a remembered program is not asked about"
    );
    let out = ExecTool.run(json!({"command": "id"}), &c).await;
    assert!(out.content.contains("the user declined"), "{}", out.content);
}
