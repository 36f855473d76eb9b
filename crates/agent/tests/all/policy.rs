//! The tool policy table: profiles, groups, wildcards, case, deny-wins, layers, local default.

use clawgate_agent::{ToolLayerConfig, ToolPolicy, ToolPolicyConfig, ToolProfile};

const TOOLS: &[&str] = &[
    "read",
    "ls",
    "write",
    "edit",
    "exec",
    "web_fetch",
    "session_status",
    "message",
];

fn allowed(config: &ToolPolicyConfig, local: bool) -> Vec<&'static str> {
    let p = ToolPolicy::resolve(config, local);
    TOOLS.iter().copied().filter(|t| p.allows(t)).collect()
}

fn global(profile: Option<ToolProfile>, allow: &[&str], deny: &[&str]) -> ToolPolicyConfig {
    ToolPolicyConfig {
        global: ToolLayerConfig {
            profile,
            allow: allow.iter().map(|s| s.to_string()).collect(),
            deny: deny.iter().map(|s| s.to_string()).collect(),
            ..ToolLayerConfig::default()
        },
        agent: ToolLayerConfig::default(),
    }
}

#[test]
fn policy_table() {
    use ToolProfile::*;
    let all = TOOLS.to_vec();
    let cases: Vec<(ToolPolicyConfig, bool, Vec<&str>)> = vec![
        (global(None, &[], &[]), false, all.clone()),
        (global(Some(Full), &[], &[]), false, all.clone()),
        (
            global(Some(Minimal), &[], &[]),
            false,
            vec!["session_status"],
        ),
        (
            global(Some(Coding), &[], &[]),
            false,
            vec![
                "read",
                "ls",
                "write",
                "edit",
                "exec",
                "web_fetch",
                "session_status",
            ],
        ),
        (
            global(Some(Messaging), &[], &[]),
            false,
            vec!["session_status", "message"],
        ),
        (
            global(Some(Coding), &[], &["group:runtime"]),
            false,
            vec!["read", "ls", "write", "edit", "web_fetch", "session_status"],
        ),
        // Deny wins over allow, case-insensitive, wildcards.
        (
            global(None, &["READ", "web_*"], &["WEB_FETCH"]),
            false,
            vec!["read"],
        ),
        (
            global(None, &["*"], &["e*"]),
            false,
            vec![
                "read",
                "ls",
                "write",
                "web_fetch",
                "session_status",
                "message",
            ],
        ),
        // `bash` is an alias of exec.
        (
            global(None, &[], &["bash"]),
            false,
            vec![
                "read",
                "ls",
                "write",
                "edit",
                "web_fetch",
                "session_status",
                "message",
            ],
        ),
        (
            global(None, &["group:fs"], &[]),
            false,
            vec!["read", "ls", "write", "edit"],
        ),
        // Local primary, nothing configured: the narrow default.
        (
            global(None, &[], &[]),
            true,
            vec!["read", "ls", "write", "edit", "session_status"],
        ),
        // Local primary but configured: the configuration decides.
        (global(Some(Full), &[], &[]), true, all.clone()),
        (global(None, &["exec"], &[]), true, vec!["exec"]),
        // A deny alone does not count as configuring: still the narrow default.
        (
            global(None, &[], &["write"]),
            true,
            vec!["read", "ls", "edit", "session_status"],
        ),
    ];
    for (i, (config, local, want)) in cases.iter().enumerate() {
        assert_eq!(&allowed(config, *local), want, "case {i}");
    }
}

#[test]
fn agent_layer_narrows_and_overrides_profile() {
    let mut config = global(Some(ToolProfile::Coding), &[], &[]);
    config.agent.profile = Some(ToolProfile::Minimal);
    assert_eq!(allowed(&config, false), vec!["session_status"]);
    let mut config = global(Some(ToolProfile::Coding), &[], &[]);
    config.agent.deny = vec!["group:web".into(), "write".into()];
    assert_eq!(
        allowed(&config, false),
        vec!["read", "ls", "edit", "exec", "session_status"]
    );
    // alsoAllow extends the profile.
    let mut config = global(Some(ToolProfile::Minimal), &[], &[]);
    config.global.also_allow = vec!["read".into()];
    assert_eq!(allowed(&config, false), vec!["read", "session_status"]);
    assert!(ToolPolicy::resolve(&global(None, &[], &[]), true).local_default);
    assert!(!ToolPolicy::resolve(&global(None, &[], &[]), false).local_default);
}
