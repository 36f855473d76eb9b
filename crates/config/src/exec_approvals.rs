//! OpenClaw's `exec-approvals.json`, read from the state dir (`<state>/exec-approvals.json`):
//! approval `defaults` and per-agent `agents.<id>` levels (`security`, `ask`, `askFallback`) and
//! each agent's `allowlist` of executable-path patterns. Same shape as OpenClaw's file, so one
//! written for OpenClaw can be copied over; keys clawgate does not use (`socket`,
//! `autoAllowSkills`, an entry's `lastUsedAt`…) are accepted. The legacy agent key `default`
//! means `main`, as in OpenClaw. The file is optional; when present it is checked like the
//! config (errors with JSON path and line/column fail the load).
//!
//! [`remember_patterns`] appends to an agent's allowlist (the Control UI's "allow always"),
//! through the config editor, so the file's comments and other keys stay as they were.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::decode::{Decode, Decoder, ObjectReader};
use crate::diagnostic::JsonPath;
use crate::edit::ConfigDocument;
use crate::error::ConfigError;
use crate::schema::{ExecAskMode, ExecSecurityLevel};
use crate::source::{Node, NodeKind, parse_file};

pub const EXEC_APPROVALS_FILE: &str = "exec-approvals.json";

/// Approval levels; `None` = not set at this level.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApprovalLevels {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub security: Option<ExecSecurityLevel>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ask: Option<ExecAskMode>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ask_fallback: Option<ExecSecurityLevel>,
}

impl ApprovalLevels {
    fn read(o: &mut ObjectReader<'_>, cx: &mut Decoder) -> Self {
        ApprovalLevels {
            security: o.field("security", cx),
            ask: o.field("ask", cx),
            ask_fallback: o.field("askFallback", cx),
        }
    }

    /// `self` over `base`, key by key.
    pub fn over(self, base: ApprovalLevels) -> ApprovalLevels {
        ApprovalLevels {
            security: self.security.or(base.security),
            ask: self.ask.or(base.ask),
            ask_fallback: self.ask_fallback.or(base.ask_fallback),
        }
    }
}

impl Decode for ApprovalLevels {
    fn decode(node: &Node, path: &JsonPath, cx: &mut Decoder) -> Option<Self> {
        let mut o = ObjectReader::new(node, path, cx)?;
        let levels = Self::read(&mut o, cx);
        o.ignore(&["autoAllowSkills"], cx);
        o.finish(cx);
        Some(levels)
    }
}

/// One agent's entry.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AgentApprovals {
    #[serde(flatten)]
    pub levels: ApprovalLevels,
    /// The patterns of `allowlist[]`.
    pub allowlist: Vec<String>,
}

fn allowlist_pattern(node: &Node, path: &JsonPath, cx: &mut Decoder) -> Option<String> {
    let mut o = ObjectReader::new(node, path, cx)?;
    let pattern: Option<String> = o.required("pattern", cx);
    o.ignore(
        &["id", "lastUsedAt", "lastUsedCommand", "lastResolvedPath"],
        cx,
    );
    o.finish(cx);
    let pattern = pattern?;
    if !pattern.contains('/') {
        let pos = node.get("pattern").map_or(&node.pos, |n| &n.pos);
        cx.warn(
            &path.key("pattern"),
            pos,
            format!(
                "pattern \"{pattern}\" is not a path and is ignored: patterns match the resolved \
                 executable path (e.g. \"/usr/bin/{pattern}\" or \"~/.local/bin/*\")"
            ),
        );
    }
    Some(pattern)
}

impl Decode for AgentApprovals {
    fn decode(node: &Node, path: &JsonPath, cx: &mut Decoder) -> Option<Self> {
        let mut o = ObjectReader::new(node, path, cx)?;
        let levels = ApprovalLevels::read(&mut o, cx);
        let mut allowlist = Vec::new();
        if let Some((lnode, lpath)) = o.node("allowlist") {
            match &lnode.kind {
                NodeKind::Array(items) => {
                    for (i, item) in items.iter().enumerate() {
                        if let Some(p) = allowlist_pattern(item, &lpath.index(i), cx) {
                            allowlist.push(p);
                        }
                    }
                }
                _ => cx.expected(lnode, &lpath, "an array of {pattern} entries"),
            }
        }
        o.ignore(&["autoAllowSkills"], cx);
        o.finish(cx);
        Some(Self { levels, allowlist })
    }
}

/// The whole file (empty when there is none).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ExecApprovalsFile {
    /// Where it was read from (`None`: no file).
    pub path: Option<PathBuf>,
    pub defaults: ApprovalLevels,
    pub agents: BTreeMap<String, AgentApprovals>,
}

impl ExecApprovalsFile {
    /// The levels for `agent_id` (its own over the defaults) and its allowlist.
    pub fn for_agent(&self, agent_id: &str) -> (ApprovalLevels, Vec<String>) {
        match self.agents.get(agent_id) {
            Some(a) => (a.levels.over(self.defaults), a.allowlist.clone()),
            None => (self.defaults, Vec::new()),
        }
    }

    fn decode_root(node: &Node, cx: &mut Decoder) -> Self {
        let root = JsonPath::root();
        let Some(mut o) = ObjectReader::new(node, &root, cx) else {
            return Self::default();
        };
        if let Some((vnode, vpath)) = o.node("version")
            && !matches!(&vnode.kind, NodeKind::Number { value, .. } if *value == 1.0)
        {
            cx.expected(vnode, &vpath, "version 1");
        }
        let defaults = o.field("defaults", cx).unwrap_or_default();
        let mut agents: BTreeMap<String, AgentApprovals> =
            o.field("agents", cx).unwrap_or_default();
        if !agents.contains_key("main")
            && let Some(legacy) = agents.remove("default")
        {
            agents.insert("main".to_string(), legacy);
        }
        o.ignore(&["socket"], cx);
        o.finish(cx);
        Self {
            path: None,
            defaults,
            agents,
        }
    }
}

/// Appends `patterns` to `agent_id`'s allowlist in the approvals file at `path` (created with
/// `version: 1` when missing; for `main`, a legacy `default` entry is the one extended when
/// there is no `main`). Returns the patterns that were not there yet.
pub fn remember_patterns(
    path: &Path,
    agent_id: &str,
    patterns: &[String],
) -> Result<Vec<String>, ConfigError> {
    let mut doc = ConfigDocument::open(path)?;
    let key = if agent_id == "main"
        && doc.get(&["agents", "main"]).is_none()
        && doc.get(&["agents", "default"]).is_some()
    {
        "default"
    } else {
        agent_id
    };
    let mut list = match doc.get(&["agents", key, "allowlist"]) {
        Some(serde_json::Value::Array(items)) => items.clone(),
        Some(_) => {
            return Err(ConfigError::Edit {
                path: path.to_path_buf(),
                message: format!("agents.{key}.allowlist is not an array"),
            });
        }
        None => Vec::new(),
    };
    let present = |p: &str, list: &[serde_json::Value]| {
        list.iter()
            .any(|e| e.get("pattern").and_then(|v| v.as_str()) == Some(p))
    };
    let mut added = Vec::new();
    for pattern in patterns {
        if !present(pattern, &list) && !added.contains(pattern) {
            list.push(serde_json::json!({ "pattern": pattern }));
            added.push(pattern.clone());
        }
    }
    if added.is_empty() {
        return Ok(added);
    }
    if !doc.exists() {
        doc.set(&["version"], serde_json::json!(1));
    }
    doc.set(
        &["agents", key, "allowlist"],
        serde_json::Value::Array(list),
    );
    doc.save()?;
    Ok(added)
}

/// Reads `<state_dir>/exec-approvals.json` when it exists; diagnostics go to `cx`.
pub fn load_exec_approvals(state_dir: &Path, cx: &mut Decoder) -> ExecApprovalsFile {
    let path = state_dir.join(EXEC_APPROVALS_FILE);
    if !path.is_file() {
        return ExecApprovalsFile::default();
    }
    match parse_file(&path) {
        Ok(node) => ExecApprovalsFile {
            path: Some(path),
            ..ExecApprovalsFile::decode_root(&node, cx)
        },
        Err(d) => {
            cx.diags.push(*d);
            ExecApprovalsFile {
                path: Some(path),
                ..ExecApprovalsFile::default()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(dir: &Path) -> ExecApprovalsFile {
        let mut cx = Decoder::default();
        let file = load_exec_approvals(dir, &mut cx);
        assert!(cx.diags.is_empty(), "{:?}", cx.diags);
        file
    }

    #[test]
    fn remembered_patterns_are_appended_once_and_the_rest_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(EXEC_APPROVALS_FILE);
        let created = remember_patterns(&path, "ops", &["/usr/bin/git".into()]).unwrap();
        assert_eq!(created, vec!["/usr/bin/git".to_string()]);
        assert_eq!(load(dir.path()).for_agent("ops").1, vec!["/usr/bin/git"]);

        std::fs::write(
            &path,
            "{\n  // mine\n  version: 1,\n  socket: { path: \"s\" },\n  agents: { default: { ask: \"always\", allowlist: [{ pattern: \"/bin/ls\", lastUsedAt: 1 }] } },\n}\n",
        )
        .unwrap();
        let added =
            remember_patterns(&path, "main", &["/bin/ls".into(), "/usr/bin/id".into()]).unwrap();
        assert_eq!(added, vec!["/usr/bin/id".to_string()]);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.contains("// mine") && text.contains("lastUsedAt"),
            "{text}"
        );
        let file = load(dir.path());
        let (levels, list) = file.for_agent("main");
        assert_eq!(list, vec!["/bin/ls", "/usr/bin/id"]);
        assert_eq!(levels.ask, Some(ExecAskMode::Always));
        assert!(
            remember_patterns(&path, "main", &["/usr/bin/id".into()])
                .unwrap()
                .is_empty()
        );
    }
}
