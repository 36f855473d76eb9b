//! `tools.exec`, `tools.web.fetch`, `agents.*.sandbox` and the state dir's
//! `exec-approvals.json`: typed with OpenClaw's names, the rest of OpenClaw's keys there
//! accepted as ignored, bad values reported with path and position.

use clawgate_config::schema::{
    ExecAskMode, ExecSecurityLevel, SandboxConfig, SandboxModeSetting, SandboxNetwork,
};

use super::harness::{Sandbox, load_errors, load_ok};

#[test]
fn exec_fetch_and_sandbox_keys_are_typed() {
    let loaded = load_ok(
        r#"{
          tools: {
            exec: { security: "allowlist", ask: "always", safeBins: ["cut"], timeoutSec: 30 },
            web: {
              search: { provider: "brave" },
              fetch: {
                maxRedirects: 2, maxChars: 1000,
                ssrfPolicy: { allowedHostnames: ["intranet.lan"], blockedHostnames: ["x.test"],
                              dangerouslyAllowPrivateNetwork: true,
                              allowRfc2544BenchmarkRange: true, allowIpv6UniqueLocalRange: true },
              },
            },
          },
          agents: {
            defaults: {
              sandbox: { mode: "non-main", backend: "bwrap", workspaceAccess: "rw",
                         docker: { network: "none", pidsLimit: 64, image: "x" } },
            },
            list: [
              { id: "main", tools: { exec: { security: "full", ask: "off" } },
                sandbox: { docker: { network: "bridge" } } },
            ],
          },
        }"#,
    );
    let c = &loaded.config;
    let exec = c.tools.exec.as_ref().unwrap();
    assert_eq!(exec.security, Some(ExecSecurityLevel::Allowlist));
    assert_eq!(exec.ask, Some(ExecAskMode::Always));
    let fetch = c.tools.web.as_ref().unwrap().fetch.as_ref().unwrap();
    assert_eq!(fetch.max_redirects, Some(2));
    let ssrf = &fetch.ssrf_policy;
    assert_eq!(ssrf.allowed_hostnames, vec!["intranet.lan".to_string()]);
    assert_eq!(ssrf.blocked_hostnames, vec!["x.test".to_string()]);
    assert!(ssrf.dangerously_allow_private_network);
    assert!(ssrf.allow_rfc2544_benchmark_range && ssrf.allow_ipv6_unique_local_range);
    let defaults = &c.agents.defaults.sandbox;
    assert_eq!(defaults.mode, Some(SandboxModeSetting::NonMain));
    assert_eq!(defaults.network, Some(SandboxNetwork::None));
    assert_eq!(defaults.pids_limit, Some(64));
    let agent = &c.agents.list[0];
    let merged = agent.sandbox.as_ref().unwrap().over(defaults);
    assert_eq!(
        merged,
        SandboxConfig {
            mode: Some(SandboxModeSetting::NonMain),
            backend: Some("bwrap".into()),
            network: Some(SandboxNetwork::Bridge),
            pids_limit: Some(64),
        }
    );
    let agent_exec = agent.tools.as_ref().unwrap().exec.as_ref().unwrap();
    assert_eq!(agent_exec.security, Some(ExecSecurityLevel::Full));
    for ignored in [
        "tools.exec.safeBins",
        "tools.exec.timeoutSec",
        "tools.web.search",
        "tools.web.fetch.maxChars",
        "agents.defaults.sandbox.workspaceAccess",
        "agents.defaults.sandbox.docker.image",
    ] {
        assert!(
            loaded.ignored.iter().any(|i| i == ignored),
            "{ignored} not listed: {:?}",
            loaded.ignored
        );
    }
}

#[test]
fn a_backend_other_than_bubblewrap_is_a_warning() {
    let loaded = load_ok(r#"{ agents: { defaults: { sandbox: { backend: "docker" } } } }"#);
    let w = loaded
        .warnings
        .iter()
        .find(|d| d.path == "agents.defaults.sandbox.backend")
        .expect("a warning");
    assert!(w.message.contains("bubblewrap"), "{}", w.message);
}

#[test]
fn bad_values_are_reported_where_they_are() {
    let errors = load_errors(
        r#"{ tools: { exec: { ask: "sometimes" } },
             agents: { defaults: { sandbox: { docker: { network: "my-net" } } } } }"#,
    );
    assert_eq!(errors.len(), 2, "{errors:#?}");
    assert!(
        errors[0].starts_with("agents.defaults.sandbox.docker.network @2:66"),
        "{errors:#?}"
    );
    assert!(errors[0].contains("found string \"my-net\""));
    assert!(errors[1].starts_with("tools.exec.ask @1:25"), "{errors:#?}");
    assert!(errors[1].contains("\"off\", \"on-miss\", \"always\""));
}

const APPROVALS: &str = r#"{
  // OpenClaw's shape, JSON5 accepted.
  version: 1,
  socket: { path: "~/.openclaw/exec-approvals.sock", token: "t" },
  defaults: { security: "allowlist", ask: "on-miss", askFallback: "deny", autoAllowSkills: false },
  agents: {
    default: {
      security: "full",
      askFallback: "allowlist",
      allowlist: [
        { id: "B0C8", pattern: "~/Projects/**/bin/rg", lastUsedAt: 1737150000000 },
        { pattern: "/usr/bin/git" },
        { pattern: "python3" },
      ],
    },
  },
}"#;

#[test]
fn the_approvals_file_is_read_from_the_state_dir() {
    let sb = Sandbox::new();
    sb.write("state/exec-approvals.json", APPROVALS);
    let loaded = sb.load_text("{}").unwrap();
    let file = &loaded.config.exec_approvals;
    assert_eq!(
        file.path.as_deref(),
        Some(sb.path("state/exec-approvals.json").as_path())
    );
    // The legacy `default` agent is `main`; its levels go over the defaults.
    let (levels, allowlist) = file.for_agent("main");
    assert_eq!(levels.security, Some(ExecSecurityLevel::Full));
    assert_eq!(levels.ask, Some(ExecAskMode::OnMiss));
    assert_eq!(levels.ask_fallback, Some(ExecSecurityLevel::Allowlist));
    assert_eq!(
        allowlist,
        vec!["~/Projects/**/bin/rg", "/usr/bin/git", "python3"]
    );
    let (other, none) = file.for_agent("other");
    assert_eq!(other.security, Some(ExecSecurityLevel::Allowlist));
    assert!(none.is_empty());
    // A bare name is accepted with a warning: it can never match a resolved path.
    let w = loaded
        .warnings
        .iter()
        .find(|d| d.path == "agents.default.allowlist[2].pattern")
        .expect("a warning for the bare name");
    assert!(w.message.contains("is not a path"), "{}", w.message);
    // Its keys are not the config's ignored keys.
    assert!(!loaded.ignored.iter().any(|i| i.contains("socket")));
}

#[test]
fn a_bad_approvals_file_fails_the_load_with_its_position() {
    let sb = Sandbox::new();
    sb.write(
        "state/exec-approvals.json",
        "{\n  version: 1,\n  agents: { main: { security: \"yes\", allowlist: [{ patern: \"/bin/ls\" }] } },\n}",
    );
    let err = sb.load_text("{}").unwrap_err();
    let diags: Vec<String> = err
        .diagnostics()
        .iter()
        .filter(|d| d.is_error())
        .map(|d| {
            let l = d.location.as_ref().unwrap();
            format!(
                "{}:{}:{} {} {}",
                l.file.file_name().unwrap().to_string_lossy(),
                l.line,
                l.column,
                d.path,
                d.message
            )
        })
        .collect();
    assert_eq!(diags.len(), 3, "{diags:#?}");
    assert!(
        diags[0].starts_with("exec-approvals.json:3:31 agents.main.security expected one of"),
        "{diags:#?}"
    );
    assert!(
        diags
            .iter()
            .any(|d| d.contains("missing required key \"pattern\"")),
        "{diags:#?}"
    );
    assert!(
        diags.iter().any(|d| d.contains("unknown key \"patern\"")),
        "{diags:#?}"
    );
}
