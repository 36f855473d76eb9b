//! What a request's `model` field asks for: an agent run (`clawgate/<agentId>`,
//! `openclaw/<agentId>`, `openclaw:<agentId>`, `agent:<agentId>`, bare `clawgate` / `openclaw`
//! for the default agent) or a plain model call (a ref or alias, resolved by `clawgate_runtime::routes`).
//! Plain string matching: no regex on the hot path.

/// The id `clawgate/default`, `openclaw/default` and the bare names stand for.
pub const DEFAULT_AGENT_ALIAS: &str = "default";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target<'a> {
    /// Run this agent; `None` = the default agent.
    Agent(Option<&'a str>),
    /// A model ref or alias for the router.
    Model(&'a str),
}

/// Classifies a `model` field. Prefixes are matched case-insensitively; the agent id keeps its
/// case. An empty agent id (`clawgate/`) means the default agent.
pub fn parse_target(model: &str) -> Target<'_> {
    let model = model.trim();
    for bare in ["clawgate", "openclaw"] {
        if model.eq_ignore_ascii_case(bare) {
            return Target::Agent(None);
        }
    }
    for prefix in ["clawgate/", "openclaw/", "openclaw:", "clawgate:", "agent:"] {
        if let Some(head) = model.get(..prefix.len())
            && head.eq_ignore_ascii_case(prefix)
        {
            let id = model[prefix.len()..].trim();
            if id.is_empty() || id.eq_ignore_ascii_case(DEFAULT_AGENT_ALIAS) {
                return Target::Agent(None);
            }
            return Target::Agent(Some(id));
        }
    }
    Target::Model(model)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agent_targets() {
        assert_eq!(parse_target("clawgate"), Target::Agent(None));
        assert_eq!(parse_target("OpenClaw"), Target::Agent(None));
        assert_eq!(parse_target("clawgate/default"), Target::Agent(None));
        assert_eq!(parse_target("clawgate/main"), Target::Agent(Some("main")));
        assert_eq!(parse_target("openclaw/Work"), Target::Agent(Some("Work")));
        assert_eq!(parse_target("openclaw:ops"), Target::Agent(Some("ops")));
        assert_eq!(parse_target("agent:helper"), Target::Agent(Some("helper")));
        assert_eq!(parse_target("clawgate/"), Target::Agent(None));
    }

    #[test]
    fn model_targets() {
        assert_eq!(
            parse_target("lmstudio/qwen3"),
            Target::Model("lmstudio/qwen3")
        );
        assert_eq!(parse_target(" sonnet "), Target::Model("sonnet"));
        assert_eq!(parse_target("clawgatex/y"), Target::Model("clawgatex/y"));
        assert_eq!(parse_target("agents/x"), Target::Model("agents/x"));
    }
}
