//! Lookup order, defaults, env substitution and `.env` precedence, ignored sections.

use clawgate_config::schema::{GatewayAuthMode, GatewayBind, InputKind};
use clawgate_config::{ConfigError, ConfigSource, EnvOrigin, locate};

use super::harness::{Sandbox, load_errors, load_ok};

#[test]
fn no_file_at_all_gives_defaults() {
    let sb = Sandbox::new();
    let loaded = clawgate_config::load(&sb.opts(&[])).unwrap();
    assert_eq!(loaded.location.source, ConfigSource::Defaults);
    assert_eq!(loaded.location.path, None);
    assert_eq!(
        loaded.location.write_path,
        Some(sb.path("state/clawgate.json"))
    );
    let c = &loaded.config;
    assert_eq!(c.gateway.port, 18789);
    assert_eq!(c.gateway.bind, GatewayBind::Loopback);
    assert_eq!(c.gateway.auth.mode, GatewayAuthMode::Token);
    assert_eq!(c.agents.defaults.min_context_window, 16000);
    assert_eq!(c.agents.defaults.timeout_seconds, 600);
    assert!(c.agents.defaults.compaction.enabled);
    assert_eq!(c.agents.defaults.compaction.reserve_tokens_floor, 20000);
    assert_eq!(c.agents.defaults.compaction.keep_recent_tokens, 20000);
    assert_eq!(c.models.mode(), clawgate_config::schema::ModelsMode::Merge);
    assert!(loaded.registry.provider("anthropic").is_some());
    assert!(loaded.registry.provider("lmstudio").is_some());
}

#[test]
fn lookup_order_flag_env_state_openclaw() {
    let sb = Sandbox::new();
    let flag = sb.write("flag.json5", "{}");
    let via_env = sb.write("env.json5", "{}");
    let env_str = via_env.to_str().unwrap();
    let openclaw = sb.write("home/.openclaw/openclaw.json", "{}");
    let mut opts = sb.opts(&[("CLAWGATE_CONFIG", env_str)]);
    opts.config_path = Some(flag.clone());
    assert_eq!(locate(&opts).path, Some(flag));
    assert_eq!(locate(&opts).source, ConfigSource::Flag);
    opts.config_path = None;
    assert_eq!(locate(&opts).path, Some(via_env));
    assert_eq!(locate(&opts).source, ConfigSource::EnvVar);
    let opts = sb.opts(&[]);
    let loc = locate(&opts);
    assert_eq!(
        (loc.path, loc.source),
        (Some(openclaw.clone()), ConfigSource::OpenClaw)
    );
    assert_eq!(loc.write_path, None, "OpenClaw's file is never written");
    let state = sb.write("state/clawgate.json", "{}");
    let loc = locate(&opts);
    assert_eq!(
        (loc.path, loc.source),
        (Some(state), ConfigSource::StateDir)
    );
}

#[test]
fn state_dir_comes_from_the_env_when_not_given() {
    let sb = Sandbox::new();
    let other = sb.path("other-state");
    let mut opts = sb.opts(&[("CLAWGATE_STATE_DIR", other.to_str().unwrap())]);
    opts.state_dir = None;
    assert_eq!(locate(&opts).state_dir, other);
    let mut opts = sb.opts(&[]);
    opts.state_dir = None;
    assert_eq!(locate(&opts).state_dir, sb.path("home/.clawgate"));
}

#[test]
fn an_explicit_missing_file_is_an_error() {
    let sb = Sandbox::new();
    let err = sb.load_file(&sb.path("nope.json5"), &[]).unwrap_err();
    assert!(matches!(err, ConfigError::NotFound(_)), "{err}");
}

#[test]
fn model_rows_get_openclaw_defaults() {
    let l = load_ok(
        r#"{ models: { providers: { local: { baseUrl: "http://127.0.0.1:8000/v1", models: [{ id: "m" }] } } } }"#,
    );
    let m = l.registry.models_of("local").next().unwrap();
    assert_eq!(m.name, "m");
    assert!(!m.reasoning);
    assert_eq!(m.input, vec![InputKind::Text]);
    assert_eq!(
        (
            m.cost.input,
            m.cost.output,
            m.cost.cache_read,
            m.cost.cache_write
        ),
        (0.0, 0.0, 0.0, 0.0)
    );
    assert_eq!(m.context_window, 200_000);
    assert_eq!(m.max_tokens, 8192);
    assert_eq!(m.context_tokens, None);
    assert_eq!(m.api, clawgate_config::ApiKind::OpenAiCompletions);
}

#[test]
fn env_substitution_inline_escape_and_lowercase() {
    let sb = Sandbox::new();
    let file = sb.write(
        "cfg/c.json5",
        r#"{ models: { providers: { local: {
            baseUrl: "${CGTEST_SUB_HOST}/v1",
            headers: { "X-Literal": "$${CGTEST_SUB_HOST}", "X-Lower": "${lower}" },
            models: [{ id: "m" }] } } } }"#,
    );
    let l = sb
        .load_file(&file, &[("CGTEST_SUB_HOST", "http://127.0.0.1:9")])
        .unwrap();
    let p = l.registry.provider("local").unwrap();
    assert_eq!(p.base_url, "http://127.0.0.1:9/v1");
    assert_eq!(p.headers["X-Literal"], "${CGTEST_SUB_HOST}");
    assert_eq!(p.headers["X-Lower"], "${lower}");
}

#[test]
fn empty_variable_is_an_error_naming_variable_and_path() {
    let sb = Sandbox::new();
    let file = sb.write(
        "cfg/c.json5",
        "{\n  gateway: { auth: { token: \"${CGTEST_EMPTY}\" } },\n}\n",
    );
    let err = sb.load_file(&file, &[("CGTEST_EMPTY", "")]).unwrap_err();
    let d = &err.diagnostics()[0];
    assert_eq!(
        d.message,
        "environment variable CGTEST_EMPTY is missing or empty"
    );
    assert_eq!(d.path, "gateway.auth.token");
    let loc = d.location.as_ref().unwrap();
    assert_eq!((loc.line, loc.column), (2, 29));
}

#[test]
fn env_sources_never_override_a_set_variable() {
    let sb = Sandbox::new();
    sb.write(
        "cwd/.env",
        "CGTEST_PREC_A=cwd\nCGTEST_PREC_B=cwd\nCGTEST_PREC_C=cwd\n",
    );
    sb.write(
        "state/.env",
        "CGTEST_PREC_B=state\nCGTEST_PREC_D=state\nCGTEST_PREC_E=state\n",
    );
    let file = sb.write(
        "cfg/c.json5",
        r#"{ env: { CGTEST_PREC_E: "config", CGTEST_PREC_F: "config", vars: { CGTEST_PREC_G: "vars" } },
             gateway: { auth: { token: "${CGTEST_PREC_A}-${CGTEST_PREC_B}-${CGTEST_PREC_C}-${CGTEST_PREC_D}-${CGTEST_PREC_E}-${CGTEST_PREC_F}-${CGTEST_PREC_G}" } } }"#,
    );
    let l = sb
        .load_file(&file, &[("CGTEST_PREC_A", "process")])
        .unwrap();
    let token = match l.config.gateway.auth.token.as_ref().unwrap() {
        clawgate_config::schema::SecretInput::Literal(s) => s.clone(),
        other => panic!("{other:?}"),
    };
    assert_eq!(token, "process-cwd-cwd-state-state-config-vars");
    assert_eq!(l.env.origin("CGTEST_PREC_A"), Some(EnvOrigin::Process));
    assert_eq!(l.env.origin("CGTEST_PREC_B"), Some(EnvOrigin::DotEnvCwd));
    assert_eq!(
        l.env.origin("CGTEST_PREC_D"),
        Some(EnvOrigin::DotEnvStateDir)
    );
    assert_eq!(l.env.origin("CGTEST_PREC_F"), Some(EnvOrigin::ConfigEnv));
    assert_eq!(l.env.get("CGTEST_PREC_G"), Some("vars"));
}

#[test]
fn openclaw_sections_are_ignored_and_listed_once() {
    let l = load_ok(
        r#"{ channels: { whatsapp: {} }, plugins: {}, hooks: {},
             agents: { defaults: { heartbeat: { every: "30m" }, sandbox: { scope: "agent" } } },
             gateway: { controlUi: { basePath: "/ui", allowedOrigins: ["https://App.example.com/"] },
                        allowedHosts: ["Proxy.Example:8443"] } }"#,
    );
    assert_eq!(
        l.config.gateway.control_ui.allowed_origins,
        ["https://app.example.com"]
    );
    assert_eq!(l.config.gateway.allowed_hosts, ["proxy.example:8443"]);
    assert_eq!(
        l.ignored,
        [
            "agents.defaults.sandbox.scope",
            "agents.defaults.heartbeat",
            "gateway.controlUi.basePath",
            "channels",
            "plugins",
            "hooks"
        ]
    );
}

#[test]
fn auth_cooldowns_profiles_and_order_are_read() {
    let l = load_ok(
        r#"{ auth: {
               profiles: { "anthropic:default": { provider: "anthropic", mode: "api_key" } },
               order: { anthropic: ["anthropic:default"] },
               cooldowns: {
                 backoffMinutes: [0.5, 1, 5, 5],
                 billingBackoffHours: 3,
                 billingBackoffHoursByProvider: { OpenAI: 8, "z.ai": 1.5 },
                 billingMaxHours: 12,
                 authPermanentBackoffMinutes: 15,
                 authPermanentMaxMinutes: 90,
                 failureWindowHours: 6,
                 overloadedBackoffMs: 0,
               } } }"#,
    );
    let c = &l.config.auth.cooldowns;
    assert_eq!(c.backoff_minutes, Some(vec![0.5, 1.0, 5.0, 5.0]));
    assert_eq!(c.billing_backoff_hours, Some(3.0));
    // provider ids are normalised like `models.providers` keys
    assert_eq!(
        c.billing_backoff_hours_by_provider,
        [("openai".to_string(), 8.0), ("zai".to_string(), 1.5)].into()
    );
    assert_eq!(c.billing_max_hours, Some(12.0));
    assert_eq!(c.auth_permanent_backoff_minutes, Some(15.0));
    assert_eq!(c.auth_permanent_max_minutes, Some(90.0));
    assert_eq!(c.failure_window_hours, Some(6.0));
    assert_eq!(l.ignored, ["auth.cooldowns.overloadedBackoffMs"]);
    let profiles = &l.config.auth.profiles;
    assert_eq!(profiles.len(), 1);
    assert_eq!(profiles[0].0, "anthropic:default");
    assert_eq!(profiles[0].1.provider, "anthropic");
    assert_eq!(profiles[0].1.mode.as_str(), "api_key");
    assert_eq!(
        l.config.auth.order.get("anthropic"),
        Some(&vec!["anthropic:default".to_string()])
    );
}

#[test]
fn auth_cooldowns_left_out_stay_unset() {
    let l = load_ok("{ auth: { profiles: {} } }");
    assert_eq!(
        l.config.auth.cooldowns,
        clawgate_config::schema::CooldownsConfig::default()
    );
    assert_eq!(l.config.auth.cooldowns.backoff_minutes, None);
}

#[test]
fn all_errors_are_collected_in_one_pass() {
    let errs =
        load_errors(r#"{ gateway: { port: 0, bind: "x" }, tools: { profile: "root" }, bogus: 1 }"#);
    assert_eq!(errs.len(), 4, "{errs:#?}");
}

#[test]
fn unsupported_api_loads_with_a_warning() {
    let l = load_ok(
        r#"{ models: { providers: { g: { baseUrl: "https://example.invalid/v1beta", api: "google-generative-ai", models: [{ id: "gemini" }] } } } }"#,
    );
    assert_eq!(l.warnings.len(), 1);
    assert!(
        l.warnings[0].message.contains("not supported"),
        "{}",
        l.warnings[0].message
    );
    let m = l.registry.models_of("g").next().unwrap();
    assert!(!m.api.is_supported());
}

#[test]
fn session_reset_and_maintenance_are_read_and_the_rest_of_session_is_ignored() {
    use clawgate_config::schema::{MaintenanceMode, ResetMode};
    let l = load_ok(
        r#"{ session: {
               dmScope: "per-channel-peer",
               idleMinutes: 45,
               reset: { mode: "idle", atHour: 6, idleMinutes: 120 },
               resetByChannel: { discord: { mode: "idle", idleMinutes: 10080 } },
               maintenance: { mode: "warn", pruneAfter: "12h", maxEntries: 200, rotateBytes: "10mb" },
             } }"#,
    );
    let s = &l.config.session;
    let reset = s.reset.as_ref().unwrap();
    assert_eq!(reset.mode, Some(ResetMode::Idle));
    assert_eq!(reset.at_hour, Some(6));
    assert_eq!(reset.idle_minutes, Some(120));
    assert_eq!(s.idle_minutes, Some(45));
    assert_eq!(s.maintenance.mode, Some(MaintenanceMode::Warn));
    assert_eq!(s.maintenance.prune_after_ms, Some(12 * 3_600_000));
    assert_eq!(s.maintenance.max_entries, Some(200));
    assert_eq!(
        l.ignored,
        [
            "session.maintenance.rotateBytes",
            "session.dmScope",
            "session.resetByChannel"
        ]
    );
    // pruneAfter: a bare number (or numeric string) is days, OpenClaw's default unit.
    let days = load_ok(r#"{ session: { maintenance: { pruneAfter: 7 } } }"#);
    assert_eq!(
        days.config.session.maintenance.prune_after_ms,
        Some(7 * 86_400_000)
    );
    let days = load_ok(r#"{ session: { maintenance: { pruneAfter: "30" } } }"#);
    assert_eq!(
        days.config.session.maintenance.prune_after_ms,
        Some(30 * 86_400_000)
    );
    // Left out, everything stays unset (the agent crate holds the defaults).
    let none = load_ok("{}");
    assert_eq!(
        none.config.session,
        clawgate_config::schema::SessionConfig::default()
    );
}

#[test]
fn bad_session_values_are_errors_at_their_path() {
    let errs = load_errors(
        r#"{ session: { reset: { mode: "weekly", atHour: 24, idleMinutes: 0 },
                        maintenance: { mode: "strict", pruneAfter: "soon", maxEntries: 0 },
                        resetTimes: 1 } }"#,
    );
    assert_eq!(errs.len(), 7, "{errs:#?}");
    let find = |path: &str| {
        errs.iter()
            .find(|e| e.starts_with(&format!("{path} @")))
            .unwrap_or_else(|| panic!("no error at {path}: {errs:#?}"))
    };
    assert!(find("session.reset.mode").contains("\"daily\", \"idle\""));
    assert!(find("session.reset.atHour").contains("from 0 to 23"));
    assert!(find("session.reset.idleMinutes").contains("whole number"));
    assert!(find("session.maintenance.mode").contains("\"warn\", \"enforce\""));
    assert!(find("session.maintenance.pruneAfter").contains("\"soon\""));
    assert!(find("session.maintenance.maxEntries").contains("positive"));
    assert!(find("session").contains("unknown key \"resetTimes\""));
}
