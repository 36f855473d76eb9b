//! Config → the agent's tool guards: the `exec` sandbox (`agents.defaults.sandbox` under the
//! agent's own `sandbox`), the exec approvals (`tools.exec` under the agent's `tools.exec`,
//! combined with `<state>/exec-approvals.json`) and `web_fetch`'s address guard
//! (`tools.web.fetch`, an agent's own replacing the global one). Kept apart from `agent_settings` so the mapping of each OpenClaw key
//! is in one place.
//!
//! Approvals follow OpenClaw: where both the config and the approvals file set a level, the
//! stricter one wins; where only one does, it applies; `askFallback` and the allowlist come
//! from the file only.

use std::path::Path;

use clawgate_agent::{
    AgentSettings, ExecApprovalSettings, ExecAsk, ExecSecurity, SandboxMode, SandboxSettings,
    SsrfPolicy, WebFetchSettings,
};
use clawgate_config::ClawgateConfig;
use clawgate_config::exec_approvals::EXEC_APPROVALS_FILE;
use clawgate_config::schema::{
    ExecAskMode, ExecSecurityLevel, SandboxModeSetting, SandboxNetwork, ToolsConfig, WebFetchConfig,
};

fn security(level: ExecSecurityLevel) -> ExecSecurity {
    match level {
        ExecSecurityLevel::Deny => ExecSecurity::Deny,
        ExecSecurityLevel::Allowlist => ExecSecurity::Allowlist,
        ExecSecurityLevel::Full => ExecSecurity::Full,
    }
}

fn ask(mode: ExecAskMode) -> ExecAsk {
    match mode {
        ExecAskMode::Off => ExecAsk::Off,
        ExecAskMode::OnMiss => ExecAsk::OnMiss,
        ExecAskMode::Always => ExecAsk::Always,
    }
}

/// The stricter of two optional levels (`pick` chooses between two set ones).
fn stricter<T: Copy>(a: Option<T>, b: Option<T>, pick: fn(T, T) -> T) -> Option<T> {
    match (a, b) {
        (Some(a), Some(b)) => Some(pick(a, b)),
        (a, b) => a.or(b),
    }
}

fn exec_approvals(
    config: &ClawgateConfig,
    agent_tools: Option<&ToolsConfig>,
    agent_id: &str,
    state_dir: &Path,
    home: Option<&Path>,
) -> ExecApprovalSettings {
    let own = agent_tools.and_then(|t| t.exec.as_ref());
    let global = config.tools.exec.as_ref();
    let configured_security = own
        .and_then(|e| e.security)
        .or(global.and_then(|e| e.security))
        .map(security);
    let configured_ask = own
        .and_then(|e| e.ask)
        .or(global.and_then(|e| e.ask))
        .map(ask);
    let file = &config.exec_approvals;
    let (levels, allowlist) = file.for_agent(agent_id);
    let defaults = ExecApprovalSettings::default();
    ExecApprovalSettings {
        security: stricter(
            configured_security,
            levels.security.map(security),
            std::cmp::min,
        )
        .unwrap_or(defaults.security),
        ask: stricter(configured_ask, levels.ask.map(ask), std::cmp::max).unwrap_or(defaults.ask),
        ask_fallback: levels
            .ask_fallback
            .map(security)
            .unwrap_or(defaults.ask_fallback),
        allowlist,
        // Where it is, or where the user should create it.
        allowlist_file: Some(
            file.path
                .clone()
                .unwrap_or_else(|| state_dir.join(EXEC_APPROVALS_FILE)),
        ),
        home: home.map(Path::to_path_buf),
    }
}

fn sandbox(config: &ClawgateConfig, agent_id: &str) -> SandboxSettings {
    let defaults = &config.agents.defaults.sandbox;
    let own = config
        .agents
        .list
        .iter()
        .find(|a| a.id == agent_id)
        .and_then(|a| a.sandbox.as_ref());
    let merged = own.map_or_else(|| defaults.clone(), |o| o.over(defaults));
    let base = SandboxSettings::default();
    SandboxSettings {
        mode: match merged.mode {
            Some(SandboxModeSetting::Off) => SandboxMode::Off,
            Some(SandboxModeSetting::NonMain) => SandboxMode::NonMain,
            Some(SandboxModeSetting::All) | None => SandboxMode::All,
        },
        network: matches!(
            merged.network,
            Some(SandboxNetwork::Bridge | SandboxNetwork::Host)
        ),
        pids_limit: match merged.pids_limit {
            Some(0) | None => base.pids_limit,
            Some(n) => u32::try_from(n).unwrap_or(u32::MAX),
        },
        bwrap: None,
    }
}

fn fetch_of(tools: &ToolsConfig) -> Option<&WebFetchConfig> {
    tools.web.as_ref().and_then(|w| w.fetch.as_ref())
}

/// The agent's own `tools.web.fetch` when it sets one, else the global one.
fn web_fetch(config: &ClawgateConfig, agent_tools: Option<&ToolsConfig>) -> WebFetchSettings {
    let base = WebFetchSettings::default();
    let Some(fetch) = agent_tools
        .and_then(fetch_of)
        .or_else(|| fetch_of(&config.tools))
    else {
        return base;
    };
    let p = &fetch.ssrf_policy;
    WebFetchSettings {
        max_redirects: fetch
            .max_redirects
            .map_or(base.max_redirects, |n| u32::try_from(n).unwrap_or(u32::MAX)),
        ssrf: SsrfPolicy {
            dangerously_allow_private_network: p.dangerously_allow_private_network,
            allow_rfc2544_benchmark_range: p.allow_rfc2544_benchmark_range,
            allow_ipv6_unique_local_range: p.allow_ipv6_unique_local_range,
            allowed_hostnames: p.allowed_hostnames.clone(),
            blocked_hostnames: p.blocked_hostnames.clone(),
        },
    }
}

/// Fill `settings.tools` from the config for `agent_id`.
pub(crate) fn apply(
    settings: &mut AgentSettings,
    config: &ClawgateConfig,
    agent_id: &str,
    state_dir: &Path,
    home: Option<&Path>,
) {
    let agent_tools = config
        .agents
        .list
        .iter()
        .find(|a| a.id == agent_id)
        .and_then(|a| a.tools.as_ref());
    settings.tools.exec_approvals = exec_approvals(config, agent_tools, agent_id, state_dir, home);
    settings.tools.sandbox = sandbox(config, agent_id);
    settings.tools.web_fetch = web_fetch(config, agent_tools);
}

#[cfg(test)]
mod tests {
    use super::*;
    use clawgate_config::{EnvVars, LoadOptions};

    /// Loads `config` (and `approvals` as `<state>/exec-approvals.json`) from a temp dir.
    fn load(config: &str, approvals: Option<&str>) -> (tempfile::TempDir, ClawgateConfig) {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("state");
        std::fs::create_dir_all(&state).unwrap();
        if let Some(a) = approvals {
            std::fs::write(state.join(EXEC_APPROVALS_FILE), a).unwrap();
        }
        let file = dir.path().join("clawgate.json");
        std::fs::write(&file, config).unwrap();
        let opts = LoadOptions {
            config_path: Some(file),
            state_dir: Some(state),
            home: Some(dir.path().join("home")),
            cwd: dir.path().to_path_buf(),
            env: EnvVars::from_pairs(Vec::<(String, String)>::new()),
        };
        let loaded = clawgate_config::load(&opts).unwrap();
        (dir, loaded.config)
    }

    fn settings_for(config: &ClawgateConfig, agent: &str, state: &Path) -> AgentSettings {
        let mut s = AgentSettings::new(agent, state, state.join("ws"), "p/m");
        apply(&mut s, config, agent, state, Some(Path::new("/home/u")));
        s
    }

    #[test]
    fn nothing_configured_gives_the_safe_defaults() {
        let (dir, config) = load("{}", None);
        let s = settings_for(&config, "main", dir.path());
        let a = &s.tools.exec_approvals;
        assert_eq!(
            (a.security, a.ask, a.ask_fallback),
            (ExecSecurity::Allowlist, ExecAsk::OnMiss, ExecSecurity::Deny)
        );
        assert_eq!(
            a.allowlist_file.as_deref(),
            Some(dir.path().join("exec-approvals.json").as_path())
        );
        assert_eq!(s.tools.sandbox, SandboxSettings::default());
        assert_eq!(s.tools.web_fetch, WebFetchSettings::default());
    }

    #[test]
    fn the_stricter_of_config_and_approvals_file_wins() {
        let (dir, config) = load(
            r#"{ tools: { exec: { security: "full", ask: "off" } },
                 agents: { list: [ { id: "main" },
                                   { id: "ops", tools: { exec: { security: "deny" } } } ] } }"#,
            Some(
                r#"{ version: 1, defaults: { security: "allowlist" },
                     agents: { main: { ask: "always", askFallback: "full",
                                       allowlist: [{ pattern: "/usr/bin/git" }] } } }"#,
            ),
        );
        let main = settings_for(&config, "main", dir.path())
            .tools
            .exec_approvals;
        assert_eq!(
            main.security,
            ExecSecurity::Allowlist,
            "file stricter than full"
        );
        assert_eq!(main.ask, ExecAsk::Always, "file stricter than off");
        assert_eq!(main.ask_fallback, ExecSecurity::Full);
        assert_eq!(main.allowlist, vec!["/usr/bin/git".to_string()]);
        assert_eq!(main.home.as_deref(), Some(Path::new("/home/u")));
        let ops = settings_for(&config, "ops", dir.path())
            .tools
            .exec_approvals;
        assert_eq!(
            ops.security,
            ExecSecurity::Deny,
            "the agent's own tools.exec"
        );
        assert_eq!(ops.ask, ExecAsk::Off, "config alone: the global value");
        assert!(ops.allowlist.is_empty());
    }

    #[test]
    fn sandbox_and_fetch_keys_reach_the_agent() {
        let (dir, config) = load(
            r#"{ tools: { web: { fetch: { maxRedirects: 1,
                   ssrfPolicy: { allowedHostnames: ["wiki.lan"], allowIpv6UniqueLocalRange: true } } } },
                 agents: {
                   defaults: { sandbox: { mode: "non-main", docker: { network: "bridge", pidsLimit: 0 } } },
                   list: [ { id: "main" },
                           { id: "solo", sandbox: { mode: "off", docker: { network: "none", pidsLimit: 32 } } } ] } }"#,
            None,
        );
        let main = settings_for(&config, "main", dir.path()).tools;
        assert_eq!(main.sandbox.mode, SandboxMode::NonMain);
        assert!(main.sandbox.network);
        assert_eq!(
            main.sandbox.pids_limit,
            SandboxSettings::default().pids_limit
        );
        assert_eq!(main.web_fetch.max_redirects, 1);
        assert_eq!(
            main.web_fetch.ssrf.allowed_hostnames,
            vec!["wiki.lan".to_string()]
        );
        assert!(main.web_fetch.ssrf.allow_ipv6_unique_local_range);
        let solo = settings_for(&config, "solo", dir.path()).tools.sandbox;
        assert_eq!(
            (solo.mode, solo.network, solo.pids_limit),
            (SandboxMode::Off, false, 32)
        );
    }

    #[test]
    fn an_agents_own_web_fetch_replaces_the_global_one() {
        let (dir, config) = load(
            r#"{ tools: { web: { fetch: { maxRedirects: 1,
                   ssrfPolicy: { allowedHostnames: ["wiki.lan"] } } } },
                 agents: { list: [ { id: "main" },
                   { id: "lab", tools: { web: { fetch: { maxRedirects: 7,
                       ssrfPolicy: { dangerouslyAllowPrivateNetwork: true,
                                     allowRfc2544BenchmarkRange: true,
                                     blockedHostnames: ["ads.lan"] } } } } } ] } }"#,
            None,
        );
        let main = settings_for(&config, "main", dir.path()).tools.web_fetch;
        assert_eq!(main.max_redirects, 1);
        assert_eq!(main.ssrf.allowed_hostnames, vec!["wiki.lan".to_string()]);
        assert!(!main.ssrf.dangerously_allow_private_network);
        let lab = settings_for(&config, "lab", dir.path()).tools.web_fetch;
        assert_eq!(lab.max_redirects, 7);
        assert!(lab.ssrf.dangerously_allow_private_network);
        assert!(lab.ssrf.allow_rfc2544_benchmark_range);
        assert_eq!(lab.ssrf.blocked_hostnames, vec!["ads.lan".to_string()]);
        assert!(
            lab.ssrf.allowed_hostnames.is_empty(),
            "replaced, not merged"
        );
    }
}
