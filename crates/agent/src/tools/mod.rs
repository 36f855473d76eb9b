//! The tool loop's tools: a small trait, the built-in set (`read`, `ls`, `write`, `edit`,
//! `exec`, `web_fetch`) working inside a [`Workspace`], and the registry that offers only what
//! the agent's [`ToolPolicy`](crate::policy::ToolPolicy) allows.
//!
//! Every result reaches the model through [`ToolOutput::for_model`]: content from outside
//! (files, pages, command output) is wrapped as untrusted, everything else is sanitised, so no
//! tool result can carry chat-template tokens or fake boundary markers into a prompt.

pub mod command_allowlist;
pub mod exec;
pub mod exec_approval;
pub mod fetch_guard;
pub mod fs;
pub mod process_group;
pub mod sandbox;
pub mod web_fetch;
pub mod workspace;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use clawgate_wire::ToolSpec;
use serde_json::Value;

use crate::policy::ToolPolicy;
use crate::untrusted::{ContentOrigin, sanitize_untrusted, wrap_origin};
pub use exec_approval::{ExecApprovalSettings, ExecApprover};
pub use fetch_guard::WebFetchSettings;
pub use sandbox::SandboxSettings;
pub use workspace::Workspace;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolOutput {
    pub content: String,
    pub is_error: bool,
    /// Set when the content comes from outside (a file, a page, a command's output): it is
    /// wrapped in boundary markers with this source.
    pub origin: Option<ContentOrigin>,
}

impl ToolOutput {
    pub fn ok(content: impl Into<String>) -> Self {
        ToolOutput {
            content: content.into(),
            is_error: false,
            origin: None,
        }
    }

    pub fn error(content: impl Into<String>) -> Self {
        ToolOutput {
            content: content.into(),
            is_error: true,
            origin: None,
        }
    }

    /// Mark the content as coming from outside.
    pub fn from_outside(mut self, origin: ContentOrigin) -> Self {
        self.origin = Some(origin);
        self
    }

    /// The text the model sees: wrapped (outside content) or sanitised (everything else).
    pub fn for_model(&self) -> String {
        match &self.origin {
            Some(origin) => wrap_origin(&self.content, origin),
            None => sanitize_untrusted(&self.content),
        }
    }
}

/// Limits of the built-in tools and the loop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolSettings {
    /// Model calls per turn that may ask for tools before the loop stops.
    pub max_rounds: u32,
    pub exec_timeout: Duration,
    /// Bytes of stdout + stderr kept from `exec`.
    pub exec_output_cap: usize,
    /// Bytes `read` returns at most.
    pub read_max_bytes: usize,
    pub web_fetch_max_bytes: usize,
    pub web_fetch_timeout: Duration,
    /// `web_fetch`'s redirect limit and address guard (`tools.web.fetch`).
    pub web_fetch: WebFetchSettings,
    /// Whether `exec` may run a command (`tools.exec`, `exec-approvals.json`).
    pub exec_approvals: ExecApprovalSettings,
    /// What a running command can touch (`sandbox`).
    pub sandbox: SandboxSettings,
}

impl Default for ToolSettings {
    fn default() -> Self {
        ToolSettings {
            max_rounds: 8,
            exec_timeout: Duration::from_secs(60),
            exec_output_cap: 32 * 1024,
            read_max_bytes: 256 * 1024,
            web_fetch_max_bytes: 512 * 1024,
            web_fetch_timeout: Duration::from_secs(30),
            web_fetch: WebFetchSettings::default(),
            exec_approvals: ExecApprovalSettings::default(),
            sandbox: SandboxSettings::default(),
        }
    }
}

/// What a tool call runs with: the workspace and settings, and the turn's session and approver.
#[derive(Clone)]
pub struct ToolContext {
    pub workspace: Workspace,
    pub settings: ToolSettings,
    /// The session the call belongs to.
    pub session_key: String,
    /// Whether that is the agent's main session (`sandbox.mode: "non-main"`).
    pub main_session: bool,
    /// Who answers exec approval questions this turn (`None`: nobody, `askFallback` applies).
    pub approver: Option<Arc<dyn ExecApprover>>,
}

impl ToolContext {
    pub fn new(workspace: Workspace, settings: ToolSettings) -> Self {
        ToolContext {
            workspace,
            settings,
            session_key: String::new(),
            main_session: false,
            approver: None,
        }
    }
}

impl std::fmt::Debug for ToolContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ToolContext")
            .field("workspace", &self.workspace)
            .field("session_key", &self.session_key)
            .field("main_session", &self.main_session)
            .field("approver", &self.approver.is_some())
            .finish_non_exhaustive()
    }
}

#[async_trait]
pub trait Tool: Send + Sync {
    fn spec(&self) -> ToolSpec;
    async fn run(&self, args: Value, ctx: &ToolContext) -> ToolOutput;
}

/// The tools an agent can offer (before policy).
#[derive(Clone, Default)]
pub struct ToolRegistry {
    tools: Vec<Arc<dyn Tool>>,
}

impl std::fmt::Debug for ToolRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<String> = self.tools.iter().map(|t| t.spec().name).collect();
        f.debug_struct("ToolRegistry")
            .field("tools", &names)
            .finish()
    }
}

impl ToolRegistry {
    pub fn empty() -> Self {
        ToolRegistry::default()
    }

    /// `read`, `ls`, `write`, `edit`, `exec`, `web_fetch` (whose one HTTP client is built from
    /// `settings`).
    pub fn builtin(settings: &ToolSettings) -> Self {
        let mut r = ToolRegistry::default();
        r.register(Arc::new(fs::ReadTool));
        r.register(Arc::new(fs::LsTool));
        r.register(Arc::new(fs::WriteTool));
        r.register(Arc::new(fs::EditTool));
        r.register(Arc::new(exec::ExecTool));
        r.register(Arc::new(web_fetch::WebFetchTool::new(settings)));
        r
    }

    /// Add a tool (a later tool with the same name replaces the earlier one).
    pub fn register(&mut self, tool: Arc<dyn Tool>) {
        let name = tool.spec().name;
        self.tools.retain(|t| t.spec().name != name);
        self.tools.push(tool);
    }

    /// The tools `policy` lets through, in registration order.
    pub fn allowed(&self, policy: &ToolPolicy) -> Vec<Arc<dyn Tool>> {
        self.tools
            .iter()
            .filter(|t| policy.allows(&t.spec().name))
            .cloned()
            .collect()
    }
}

/// A required string argument.
pub(crate) fn str_arg<'a>(args: &'a Value, key: &str) -> Result<&'a str, ToolOutput> {
    args.get(key)
        .and_then(Value::as_str)
        .ok_or_else(|| ToolOutput::error(format!("missing string argument `{key}`")))
}

pub(crate) fn schema(properties: Value, required: &[&str]) -> Value {
    serde_json::json!({
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": false,
    })
}
