//! `agents.defaults` (budget, compaction switch and model, workspace) and `agents.list[]`
//! (`default`, `model`, `workspace`) mapped from a config file onto `AgentSettings`; what the
//! agent does with each is tested in the agent crate.

use std::path::Path;

use crate::agent_settings::{agent_settings, default_agent};
use crate::config_fixture::load_config_text;

/// Loads `config` and maps it for each of `agents`, with `<dir>/home` as the home folder.
fn settings_for(
    config: &str,
    agents: &[&str],
) -> (tempfile::TempDir, Vec<clawgate_agent::AgentSettings>) {
    let (dir, loaded) = load_config_text(config);
    assert_eq!(
        default_agent(&loaded.config),
        "ops",
        "the agent marked default"
    );
    let home = dir.path().join("home");
    let state = dir.path().join("state");
    let settings = agents
        .iter()
        .map(|a| agent_settings(&loaded.config, &loaded.registry, &state, Some(&home), a))
        .collect();
    (dir, settings)
}

const PROVIDERS: &str = r#"models: { mode: "replace", providers: { local: {
    baseUrl: "http://127.0.0.1:9/v1", apiKey: "x",
    models: [{ id: "small" }, { id: "big" }] } } },"#;

#[test]
fn budget_compaction_and_workspace_keys_reach_the_agent() {
    let config = format!(
        r#"{{ {PROVIDERS}
          agents: {{
            defaults: {{
              model: "local/small", contextTokens: 30000, minContextWindow: 8000,
              workspace: "~/ws",
              compaction: {{ enabled: false, model: "local/big", reserveTokens: 3000,
                            reserveTokensFloor: 2500, keepRecentTokens: 7000 }},
            }},
            list: [ {{ id: "main" }},
                    {{ id: "ops", default: true, model: "local/big", workspace: "/srv/ops" }} ],
          }} }}"#
    );
    let (dir, s) = settings_for(&config, &["main", "ops"]);
    let (main, ops) = (&s[0], &s[1]);
    assert_eq!(main.budget.context_tokens_cap, Some(30_000));
    assert_eq!(main.budget.min_context_window, 8_000);
    assert_eq!(main.budget.reserve_tokens, 3_000);
    assert_eq!(main.budget.reserve_tokens_floor, 2_500);
    assert_eq!(main.budget.keep_recent_tokens, 7_000);
    assert!(!main.compaction.enabled);
    assert_eq!(main.compaction.model.as_deref(), Some("local/big"));
    assert_eq!(main.workspace, dir.path().join("home/ws"));
    assert_eq!(main.primary_model, "local/small");
    assert_eq!(ops.primary_model, "local/big", "the agent's own model");
    assert_eq!(ops.workspace, Path::new("/srv/ops"));
}

#[test]
fn without_workspaces_the_default_agent_gets_the_plain_folder() {
    let config = format!(
        r#"{{ {PROVIDERS} agents: {{ defaults: {{ model: "local/small" }},
               list: [ {{ id: "main" }}, {{ id: "ops", default: true }} ] }} }}"#
    );
    let (dir, s) = settings_for(&config, &["main", "ops"]);
    let state = dir.path().join("state");
    assert_eq!(s[1].workspace, state.join("workspace"), "default: true");
    assert_eq!(s[0].workspace, state.join("workspace-main"));
    assert!(s[0].compaction.enabled, "compaction is on by default");
}

#[test]
fn tool_policy_keys_reach_the_agent_per_layer() {
    let config = format!(
        r#"{{ {PROVIDERS}
          tools: {{ profile: "coding", allow: ["web_fetch"], deny: ["exec"] }},
          agents: {{ defaults: {{ model: "local/small" }},
            list: [ {{ id: "main" }},
                    {{ id: "ops", default: true, tools: {{ profile: "minimal", allow: ["read"], deny: ["ls"] }} }} ] }} }}"#
    );
    let (_dir, s) = settings_for(&config, &["main", "ops"]);
    let (main, ops) = (&s[0].tool_policy, &s[1].tool_policy);
    assert_eq!(
        main.global.profile,
        Some(clawgate_agent::ToolProfile::Coding)
    );
    assert_eq!(main.global.allow, ["web_fetch"]);
    assert_eq!(main.global.deny, ["exec"]);
    assert_eq!(main.agent, clawgate_agent::ToolLayerConfig::default());
    assert_eq!(
        ops.agent.profile,
        Some(clawgate_agent::ToolProfile::Minimal)
    );
    assert_eq!(ops.agent.allow, ["read"]);
    assert_eq!(ops.agent.deny, ["ls"]);
}
