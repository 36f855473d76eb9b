//! File tools confined to the workspace: `read`, `ls`, `write`, `edit` (exact string replace).

use async_trait::async_trait;
use clawgate_wire::ToolSpec;
use serde_json::{Value, json};

use super::{Tool, ToolContext, ToolOutput, schema, str_arg};
use crate::untrusted::ContentOrigin;

#[derive(Debug, Clone, Copy)]
pub struct ReadTool;

#[async_trait]
impl Tool for ReadTool {
    fn spec(&self) -> ToolSpec {
        ToolSpec {
            name: "read".into(),
            description: Some(
                "Read a text file in the workspace. Optional 1-based `offset` line and `limit` \
                 line count."
                    .into(),
            ),
            parameters: schema(
                json!({
                    "path": {"type": "string", "description": "Path relative to the workspace"},
                    "offset": {"type": "integer", "minimum": 1},
                    "limit": {"type": "integer", "minimum": 1}
                }),
                &["path"],
            ),
        }
    }

    async fn run(&self, args: Value, ctx: &ToolContext) -> ToolOutput {
        let requested = match str_arg(&args, "path") {
            Ok(p) => p,
            Err(e) => return e,
        };
        let path = match ctx.workspace.resolve(requested) {
            Ok(p) => p,
            Err(e) => return ToolOutput::error(e),
        };
        if !path.is_file() {
            return ToolOutput::error(format!("{requested} is not a file"));
        }
        let bytes = match tokio::fs::read(&path).await {
            Ok(b) => b,
            Err(e) => return ToolOutput::error(format!("{requested}: {e}")),
        };
        let total = bytes.len();
        let cap = ctx.settings.read_max_bytes;
        let text = String::from_utf8_lossy(&bytes[..total.min(cap)]).into_owned();
        let offset = args
            .get("offset")
            .and_then(Value::as_u64)
            .unwrap_or(1)
            .max(1) as usize;
        let limit = args
            .get("limit")
            .and_then(Value::as_u64)
            .map(|l| l as usize);
        let mut out = if offset > 1 || limit.is_some() {
            let lines = text.lines().skip(offset - 1);
            let picked: Vec<&str> = match limit {
                Some(l) => lines.take(l).collect(),
                None => lines.collect(),
            };
            picked.join("\n")
        } else {
            text
        };
        if total > cap {
            out.push_str(&format!(
                "\n[file truncated: showed the first {cap} of {total} bytes; use offset/limit]"
            ));
        }
        // A file may hold anything (a downloaded page, a planted instruction): untrusted.
        let shown = ctx.workspace.display(&path);
        ToolOutput::ok(out).from_outside(ContentOrigin::new("File").with("Path", &shown))
    }
}

#[derive(Debug, Clone, Copy)]
pub struct LsTool;

const LS_MAX_ENTRIES: usize = 500;

#[async_trait]
impl Tool for LsTool {
    fn spec(&self) -> ToolSpec {
        ToolSpec {
            name: "ls".into(),
            description: Some("List a folder of the workspace (default: its root).".into()),
            parameters: schema(json!({"path": {"type": "string"}}), &[]),
        }
    }

    async fn run(&self, args: Value, ctx: &ToolContext) -> ToolOutput {
        let requested = args.get("path").and_then(Value::as_str).unwrap_or(".");
        let path = match ctx.workspace.resolve(requested) {
            Ok(p) => p,
            Err(e) => return ToolOutput::error(e),
        };
        let mut dir = match tokio::fs::read_dir(&path).await {
            Ok(d) => d,
            Err(e) => return ToolOutput::error(format!("{requested}: {e}")),
        };
        let mut lines = Vec::new();
        loop {
            let entry = match dir.next_entry().await {
                Ok(Some(e)) => e,
                Ok(None) => break,
                Err(e) => return ToolOutput::error(format!("{requested}: {e}")),
            };
            let name = entry.file_name().to_string_lossy().into_owned();
            let line = match entry.file_type().await {
                Ok(t) if t.is_dir() => format!("{name}/"),
                Ok(t) if t.is_symlink() => format!("{name}@"),
                _ => {
                    let size = entry.metadata().await.map(|m| m.len()).unwrap_or(0);
                    format!("{name} ({size} bytes)")
                }
            };
            lines.push(line);
        }
        lines.sort();
        let total = lines.len();
        lines.truncate(LS_MAX_ENTRIES);
        let mut out = lines.join("\n");
        if total > LS_MAX_ENTRIES {
            out.push_str(&format!(
                "\n[{} more entries not shown]",
                total - LS_MAX_ENTRIES
            ));
        }
        if out.is_empty() {
            out = "(empty folder)".into();
        }
        ToolOutput::ok(out)
    }
}

#[derive(Debug, Clone, Copy)]
pub struct WriteTool;

#[async_trait]
impl Tool for WriteTool {
    fn spec(&self) -> ToolSpec {
        ToolSpec {
            name: "write".into(),
            description: Some("Create or overwrite a file in the workspace with `content`.".into()),
            parameters: schema(
                json!({"path": {"type": "string"}, "content": {"type": "string"}}),
                &["path", "content"],
            ),
        }
    }

    async fn run(&self, args: Value, ctx: &ToolContext) -> ToolOutput {
        let (requested, content) = match (str_arg(&args, "path"), str_arg(&args, "content")) {
            (Ok(p), Ok(c)) => (p, c),
            (Err(e), _) | (_, Err(e)) => return e,
        };
        let path = match ctx.workspace.resolve(requested) {
            Ok(p) => p,
            Err(e) => return ToolOutput::error(e),
        };
        if path.is_dir() {
            return ToolOutput::error(format!("{requested} is a folder"));
        }
        if let Some(parent) = path.parent()
            && let Err(e) = tokio::fs::create_dir_all(parent).await
        {
            return ToolOutput::error(format!("{requested}: {e}"));
        }
        match tokio::fs::write(&path, content.as_bytes()).await {
            Ok(()) => ToolOutput::ok(format!(
                "wrote {} bytes to {}",
                content.len(),
                ctx.workspace.display(&path)
            )),
            Err(e) => ToolOutput::error(format!("{requested}: {e}")),
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct EditTool;

#[async_trait]
impl Tool for EditTool {
    fn spec(&self) -> ToolSpec {
        ToolSpec {
            name: "edit".into(),
            description: Some(
                "Replace the exact text `old_string` with `new_string` in a workspace file. \
                 `old_string` must occur once unless `replace_all` is true."
                    .into(),
            ),
            parameters: schema(
                json!({
                    "path": {"type": "string"},
                    "old_string": {"type": "string"},
                    "new_string": {"type": "string"},
                    "replace_all": {"type": "boolean"}
                }),
                &["path", "old_string", "new_string"],
            ),
        }
    }

    async fn run(&self, args: Value, ctx: &ToolContext) -> ToolOutput {
        let parsed = (
            str_arg(&args, "path"),
            str_arg(&args, "old_string"),
            str_arg(&args, "new_string"),
        );
        let (requested, old, new) = match parsed {
            (Ok(p), Ok(o), Ok(n)) => (p, o, n),
            (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => return e,
        };
        if old.is_empty() {
            return ToolOutput::error("old_string is empty");
        }
        let replace_all = args
            .get("replace_all")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let path = match ctx.workspace.resolve(requested) {
            Ok(p) => p,
            Err(e) => return ToolOutput::error(e),
        };
        let text = match tokio::fs::read_to_string(&path).await {
            Ok(t) => t,
            Err(e) => return ToolOutput::error(format!("{requested}: {e}")),
        };
        let count = text.matches(old).count();
        if count == 0 {
            return ToolOutput::error(format!("old_string not found in {requested}"));
        }
        if count > 1 && !replace_all {
            return ToolOutput::error(format!(
                "old_string occurs {count} times in {requested}; give more context or set \
                 replace_all"
            ));
        }
        let updated = if replace_all {
            text.replace(old, new)
        } else {
            text.replacen(old, new, 1)
        };
        match tokio::fs::write(&path, updated.as_bytes()).await {
            Ok(()) => ToolOutput::ok(format!(
                "replaced {count} occurrence(s) in {}",
                ctx.workspace.display(&path)
            )),
            Err(e) => ToolOutput::error(format!("{requested}: {e}")),
        }
    }
}
