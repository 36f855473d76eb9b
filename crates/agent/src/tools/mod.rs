//! The tool loop's tools: a small trait, the built-in set (`read`, `ls`, `write`, `edit`,
//! `exec`, `web_fetch`) working inside a [`Workspace`], and the registry that offers only what
//! the agent's [`ToolPolicy`](crate::policy::ToolPolicy) allows.

pub mod exec;
pub mod fs;
pub mod web_fetch;
pub mod workspace;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use clawgate_wire::ToolSpec;
use serde_json::Value;

use crate::policy::ToolPolicy;
pub use workspace::Workspace;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolOutput {
    pub content: String,
    pub is_error: bool,
}

impl ToolOutput {
    pub fn ok(content: impl Into<String>) -> Self {
        ToolOutput {
            content: content.into(),
            is_error: false,
        }
    }

    pub fn error(content: impl Into<String>) -> Self {
        ToolOutput {
            content: content.into(),
            is_error: true,
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
    /// Wrap `read` results as untrusted content (for workspaces holding outside material).
    pub untrusted_files: bool,
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
            untrusted_files: false,
        }
    }
}

#[derive(Debug, Clone)]
pub struct ToolContext {
    pub workspace: Workspace,
    pub settings: ToolSettings,
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

    /// `read`, `ls`, `write`, `edit`, `exec`, `web_fetch`.
    pub fn builtin() -> Self {
        let mut r = ToolRegistry::default();
        r.register(Arc::new(fs::ReadTool));
        r.register(Arc::new(fs::LsTool));
        r.register(Arc::new(fs::WriteTool));
        r.register(Arc::new(fs::EditTool));
        r.register(Arc::new(exec::ExecTool));
        r.register(Arc::new(web_fetch::WebFetchTool));
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
