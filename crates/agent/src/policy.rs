//! Tool policy, after OpenClaw's `tools.profile` / `tools.allow` / `tools.deny`: a profile gives a
//! base allow list, then every layer (profile, global, agent) must let a tool through. Inside a
//! layer deny wins over allow, an empty allow list allows everything, names are case-insensitive,
//! `*` is a wildcard and `group:*` names expand to their members.
//!
//! Profiles (OpenClaw's table; clawgate implements only some of the tools named):
//! - `minimal`: `session_status`
//! - `coding`: `group:fs`, `group:runtime`, `group:web`, `group:sessions`, `group:memory`, `image`
//! - `messaging`: `group:messaging`, `sessions_list`, `sessions_history`, `sessions_send`,
//!   `session_status`
//! - `full`: no filtering
//!
//! When nothing is configured (no profile, no allow list at any level) and the agent's primary
//! model is local, the agent gets the *local default*: `coding` minus `group:runtime` and
//! `group:web` (no `exec`, no `web_fetch`): small local models are the most injection-prone.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ToolProfile {
    Minimal,
    Coding,
    Messaging,
    Full,
}

impl ToolProfile {
    pub fn parse(name: &str) -> Option<Self> {
        match name.trim().to_ascii_lowercase().as_str() {
            "minimal" => Some(ToolProfile::Minimal),
            "coding" => Some(ToolProfile::Coding),
            "messaging" => Some(ToolProfile::Messaging),
            "full" => Some(ToolProfile::Full),
            _ => None,
        }
    }

    /// The profile's base allow list (empty = everything).
    pub fn allow_list(self) -> &'static [&'static str] {
        match self {
            ToolProfile::Minimal => &["session_status"],
            ToolProfile::Coding => &[
                "group:fs",
                "group:runtime",
                "group:web",
                "group:sessions",
                "group:memory",
                "image",
            ],
            ToolProfile::Messaging => &[
                "group:messaging",
                "sessions_list",
                "sessions_history",
                "sessions_send",
                "session_status",
            ],
            ToolProfile::Full => &[],
        }
    }
}

/// Members of a `group:` name (lower-case), or `None` for an unknown group.
pub fn group_members(group: &str) -> Option<&'static [&'static str]> {
    Some(match group {
        "group:fs" => &["read", "ls", "write", "edit", "apply_patch"],
        "group:runtime" => &["exec", "process", "code_execution"],
        "group:web" => &["web_search", "x_search", "web_fetch"],
        "group:sessions" => &[
            "sessions_list",
            "sessions_history",
            "sessions_send",
            "sessions_spawn",
            "subagents",
            "session_status",
        ],
        "group:memory" => &["memory_search", "memory_get"],
        "group:ui" => &["browser", "canvas"],
        "group:messaging" => &["message"],
        "group:automation" => &["cron", "gateway"],
        "group:nodes" => &["nodes"],
        _ => return None,
    })
}

fn canonical_tool_name(name: &str) -> String {
    let lower = name.trim().to_ascii_lowercase();
    match lower.as_str() {
        "bash" => "exec".to_string(),
        "apply-patch" => "apply_patch".to_string(),
        _ => lower,
    }
}

/// One configured layer (`tools`, or `agents.list[i].tools`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ToolLayerConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<ToolProfile>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allow: Vec<String>,
    /// Added to the profile's allow list.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub also_allow: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deny: Vec<String>,
}

impl ToolLayerConfig {
    fn is_unset(&self) -> bool {
        self.profile.is_none() && self.allow.is_empty() && self.also_allow.is_empty()
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolPolicyConfig {
    /// Global `tools`.
    #[serde(default)]
    pub global: ToolLayerConfig,
    /// The agent's own `tools` (its profile replaces the global one).
    #[serde(default)]
    pub agent: ToolLayerConfig,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Pattern {
    Exact(String),
    Glob(String),
}

impl Pattern {
    fn matches(&self, tool: &str) -> bool {
        match self {
            Pattern::Exact(name) => name == tool,
            Pattern::Glob(glob) => glob_match(glob, tool),
        }
    }
}

fn compile(entries: &[String]) -> Vec<Pattern> {
    let mut out = Vec::new();
    for raw in entries {
        let name = canonical_tool_name(raw);
        if name.is_empty() {
            continue;
        }
        if let Some(members) = group_members(&name) {
            out.extend(members.iter().map(|m| Pattern::Exact((*m).to_string())));
        } else if name.contains('*') {
            out.push(Pattern::Glob(name));
        } else {
            out.push(Pattern::Exact(name));
        }
    }
    out
}

/// `*` matches any run of characters (including none); everything else is literal.
fn glob_match(glob: &str, text: &str) -> bool {
    let parts: Vec<&str> = glob.split('*').collect();
    let (first, rest) = match parts.split_first() {
        Some(p) => p,
        None => return text.is_empty(),
    };
    let Some(mut remaining) = text.strip_prefix(first) else {
        return false;
    };
    let Some((last, middle)) = rest.split_last() else {
        return remaining.is_empty();
    };
    for part in middle {
        match remaining.find(part) {
            Some(i) => remaining = &remaining[i + part.len()..],
            None => return false,
        }
    }
    remaining.len() >= last.len() && remaining.ends_with(last)
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Layer {
    allow: Vec<Pattern>,
    deny: Vec<Pattern>,
}

impl Layer {
    fn allows(&self, tool: &str) -> bool {
        if self.deny.iter().any(|p| p.matches(tool)) {
            return false;
        }
        self.allow.is_empty() || self.allow.iter().any(|p| p.matches(tool))
    }
}

/// The effective, compiled tool policy of one agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolPolicy {
    layers: Vec<Layer>,
    /// True when the narrow local default was applied (the agent reports it once).
    pub local_default: bool,
}

impl ToolPolicy {
    pub fn resolve(config: &ToolPolicyConfig, primary_is_local: bool) -> Self {
        let profile = config.agent.profile.or(config.global.profile);
        let unset = config.global.is_unset() && config.agent.is_unset();
        let mut layers = Vec::new();
        let local_default = unset && primary_is_local;
        if local_default {
            layers.push(Layer {
                allow: compile(&owned(ToolProfile::Coding.allow_list())),
                deny: compile(&owned(&["group:runtime", "group:web"])),
            });
        } else if let Some(profile) = profile.filter(|p| *p != ToolProfile::Full) {
            let mut allow = owned(profile.allow_list());
            allow.extend(config.global.also_allow.iter().cloned());
            allow.extend(config.agent.also_allow.iter().cloned());
            layers.push(Layer {
                allow: compile(&allow),
                deny: Vec::new(),
            });
        }
        for layer in [&config.global, &config.agent] {
            layers.push(Layer {
                allow: compile(&layer.allow),
                deny: compile(&layer.deny),
            });
        }
        ToolPolicy {
            layers,
            local_default,
        }
    }

    /// Everything allowed (no configuration).
    pub fn allow_all() -> Self {
        ToolPolicy {
            layers: Vec::new(),
            local_default: false,
        }
    }

    pub fn allows(&self, tool: &str) -> bool {
        let tool = canonical_tool_name(tool);
        self.layers.iter().all(|l| l.allows(&tool))
    }

    pub fn local_default_notice() -> &'static str {
        "tools: the primary model is local, so this agent runs with the narrow tool set \
         (no exec, no web_fetch); set tools.profile or tools.allow to change it"
    }
}

fn owned(names: &[&str]) -> Vec<String> {
    names.iter().map(|s| (*s).to_string()).collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_match("web_*", "web_fetch"));
        assert!(glob_match("*", "anything"));
        assert!(glob_match("*_fetch", "web_fetch"));
        assert!(glob_match("w*b*h", "web_fetch"));
        assert!(!glob_match("web_*", "exec"));
        assert!(!glob_match("a*a", "a"));
    }
}
