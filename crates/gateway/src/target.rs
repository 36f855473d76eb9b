//! What a request's `model` field asks for: an agent run (`clawgate/<agentId>`,
//! `openclaw/<agentId>`, `openclaw:<agentId>`, `agent:<agentId>`, bare `clawgate` / `openclaw`
//! for the default agent) or a plain model call (a ref or alias, resolved by `clawgate_runtime::routes`).
//! Plain string matching: no regex on the hot path.

use axum::http::HeaderMap;

/// The id `clawgate/default`, `openclaw/default` and the bare names stand for.
pub const DEFAULT_AGENT_ALIAS: &str = "default";
/// OpenClaw's request headers naming the agent (the first wins).
pub const AGENT_ID_HEADERS: [&str; 2] = ["x-openclaw-agent-id", "x-openclaw-agent"];
/// OpenClaw's request header naming the backend model (a ref or alias).
pub const MODEL_OVERRIDE_HEADER: &str = "x-openclaw-model";

fn header<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get(name)?
        .to_str()
        .ok()
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

/// `x-openclaw-model`, when given.
pub fn model_override(headers: &HeaderMap) -> Option<&str> {
    header(headers, MODEL_OVERRIDE_HEADER)
}

/// What a request asks for, OpenClaw's headers included: `x-openclaw-agent-id` (or
/// `x-openclaw-agent`) makes it a run of that agent, winning over the agent the `model` field
/// names (as OpenClaw's gateway decides); `x-openclaw-model` names the backend model, which for
/// a routed call wins over the `model` field (for an agent run it is the turn's model, see
/// `agent_turn`).
pub fn request_target<'a>(headers: &'a HeaderMap, model: &'a str) -> Target<'a> {
    if let Some(agent) = AGENT_ID_HEADERS.iter().find_map(|h| header(headers, h)) {
        return Target::Agent(Some(agent).filter(|a| !a.eq_ignore_ascii_case(DEFAULT_AGENT_ALIAS)));
    }
    match parse_target(model) {
        Target::Model(body) => Target::Model(model_override(headers).unwrap_or(body)),
        agent => agent,
    }
}

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

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn openclaw_headers_pick_the_agent_and_the_model() {
        let agent = headers(&[("x-openclaw-agent-id", "ops")]);
        assert_eq!(
            request_target(&agent, "openclaw/main"),
            Target::Agent(Some("ops"))
        );
        assert_eq!(
            request_target(&agent, "lmstudio/qwen3"),
            Target::Agent(Some("ops"))
        );
        let legacy = headers(&[("x-openclaw-agent", "ops")]);
        assert_eq!(
            request_target(&legacy, "openclaw"),
            Target::Agent(Some("ops"))
        );
        let model = headers(&[("x-openclaw-model", "anthropic/claude-opus-4-6")]);
        assert_eq!(
            request_target(&model, "lmstudio/qwen3"),
            Target::Model("anthropic/claude-opus-4-6")
        );
        assert_eq!(
            request_target(&model, "openclaw/ops"),
            Target::Agent(Some("ops"))
        );
        assert_eq!(
            request_target(&HeaderMap::new(), "sonnet"),
            Target::Model("sonnet")
        );
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
