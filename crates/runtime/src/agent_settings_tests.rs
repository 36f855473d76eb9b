//! The config keys the agent reads, mapped from a config file onto `AgentSettings` (their
//! effects are tested in the agent crate and, end to end, in the gateway's tests).

use std::time::Duration;

use clawgate_agent::{CompactionMode, IdentifierPolicy, ImageModelSettings, ToolProfile};
use clawgate_config::{EnvVars, LoadOptions};

use super::agent_settings;

fn settings_for(config: &str, agent: &str) -> clawgate_agent::AgentSettings {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("clawgate.json5");
    std::fs::write(&path, config).unwrap();
    let opts = LoadOptions {
        config_path: Some(path),
        state_dir: Some(dir.path().join("state")),
        home: Some(dir.path().to_path_buf()),
        cwd: dir.path().to_path_buf(),
        env: EnvVars::from_pairs(Vec::<(String, String)>::new()),
    };
    let loaded = clawgate_config::load(&opts).unwrap();
    agent_settings(&loaded.config, &loaded.registry, dir.path(), None, agent)
}

const CONFIG: &str = r#"{
  models: { mode: "replace", providers: { local: {
    baseUrl: "http://127.0.0.1:9/v1", apiKey: "x",
    models: [{ id: "text" }, { id: "vision", input: ["text", "image"] }, { id: "vision2" }],
  } } },
  agents: {
    defaults: {
      model: "local/text",
      imageModel: { primary: "local/vision", fallbacks: ["local/vision2"] },
      timeoutSeconds: 42,
      compaction: {
        mode: "safeguard", timeoutSeconds: 9, identifierPolicy: "custom",
        identifierInstructions: "Keep ticket ids.", qualityGuard: { maxRetries: 3 },
        memoryFlush: { enabled: false, softThresholdTokens: 1234, prompt: "P", systemPrompt: "S" },
      },
    },
    list: [
      { id: "main", default: true },
      { id: "reader", tools: { profile: "minimal", alsoAllow: ["read", "ls"], maxRounds: 2 } },
    ],
  },
  tools: { maxRounds: 5, deny: ["exec"] },
}"#;

#[test]
fn agent_defaults_reach_the_agent() {
    let s = settings_for(CONFIG, "main");
    assert_eq!(s.run_timeout, Some(Duration::from_secs(42)));
    assert_eq!(
        s.image_model,
        Some(ImageModelSettings {
            primary: "local/vision".into(),
            fallbacks: vec!["local/vision2".into()],
        })
    );
    let c = &s.compaction;
    assert_eq!(c.mode, CompactionMode::Safeguard);
    assert_eq!(c.timeout, Duration::from_secs(9));
    assert_eq!(
        c.identifiers,
        IdentifierPolicy::Custom("Keep ticket ids.".into())
    );
    assert!(c.quality_guard.enabled);
    assert_eq!(c.quality_guard.max_retries, 3);
    assert!(!c.memory_flush.enabled);
    assert_eq!(c.memory_flush.soft_threshold_tokens, 1234);
    assert_eq!(c.memory_flush.prompt.as_deref(), Some("P"));
    assert_eq!(c.memory_flush.system_prompt.as_deref(), Some("S"));
    // Global tool settings.
    assert_eq!(s.tools.max_rounds, 5);
}

#[test]
fn an_agents_own_tool_settings_win() {
    let s = settings_for(CONFIG, "reader");
    assert_eq!(s.tool_policy.agent.profile, Some(ToolProfile::Minimal));
    assert_eq!(s.tool_policy.agent.also_allow, ["read", "ls"]);
    assert_eq!(s.tool_policy.global.deny, ["exec"]);
    assert_eq!(s.tools.max_rounds, 2);
}

#[test]
fn defaults_are_openclaws() {
    let s = settings_for(
        r#"{ models: { providers: { local: { baseUrl: "http://127.0.0.1:9/v1",
                                       models: [{ id: "m" }] } } } }"#,
        "main",
    );
    assert_eq!(s.run_timeout, Some(Duration::from_secs(600)));
    assert_eq!(s.image_model, None);
    assert_eq!(s.compaction.mode, CompactionMode::Default);
    assert_eq!(s.compaction.timeout, Duration::from_secs(180));
    assert_eq!(s.compaction.identifiers, IdentifierPolicy::Strict);
    assert!(s.compaction.memory_flush.enabled);
    assert_eq!(s.compaction.memory_flush.soft_threshold_tokens, 4000);
    assert_eq!(s.tools.max_rounds, 8);
}
