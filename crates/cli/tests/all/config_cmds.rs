//! `config validate`, `config show`, help texts and exit codes.

use super::harness::{Cli, GUIDE_CONFIG};

#[test]
fn validate_ok_text_and_json() {
    let cli = Cli::new();
    let cfg = cli.write("cfg/clawgate.json", GUIDE_CONFIG);
    let cfg = cfg.to_str().unwrap();
    let r = cli.run(&["--config", cfg, "config", "validate"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.starts_with("ok: "), "{}", r.stdout);
    assert!(
        r.stdout
            .contains("(1 configured provider, 2 configured models)"),
        "{}",
        r.stdout
    );
    assert!(
        r.stderr
            .contains("note: ignored (OpenClaw settings clawgate does not implement): channels"),
        "{}",
        r.stderr
    );
    let r = cli.run(&["--config", cfg, "config", "validate", "--json"]);
    assert_eq!(r.code, 0);
    let v = r.json();
    assert_eq!(v["valid"], true);
    assert_eq!(v["source"], "flag");
    assert_eq!(v["config"], cfg);
    assert_eq!(v["diagnostics"], serde_json::json!([]));
    assert_eq!(v["ignored"], serde_json::json!(["channels"]));
}

#[test]
fn validate_errors_like_a_compiler_and_exits_1() {
    let cli = Cli::new();
    let cfg = cli.write(
        "cfg/clawgate.json",
        "{\n  models: {\n    providers: {\n      local: {\n        api: \"openai-completions\",\n        models: [],\n        baseURL: \"http://127.0.0.1:8000/v1\",\n      },\n    },\n  },\n  gateway: { port: 0 },\n}\n",
    );
    let cfg = cfg.to_str().unwrap();
    let r = cli.run(&["--config", cfg, "config", "validate"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains(
            "error: unknown key \"baseURL\" at models.providers.local (clawgate.json:7:9)\n  did you mean \"baseUrl\"?"
        ),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("error: expected a whole number from 1 to 65535, found number 0 at gateway.port (clawgate.json:11:20)"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("is invalid (2 errors)"), "{}", r.stderr);
    let r = cli.run(&["--config", cfg, "config", "validate", "--json"]);
    assert_eq!(r.code, 1);
    let v = r.json();
    assert_eq!(v["valid"], false);
    let d = &v["diagnostics"][0];
    assert_eq!(d["severity"], "error");
    assert_eq!(d["message"], "unknown key \"baseURL\"");
    assert_eq!(d["path"], "models.providers.local");
    assert_eq!(
        (
            d["location"]["line"].as_u64(),
            d["location"]["column"].as_u64()
        ),
        (Some(7), Some(9))
    );
    assert_eq!(d["hint"], "did you mean \"baseUrl\"?");
}

#[test]
fn no_config_at_all_is_valid() {
    let cli = Cli::new();
    let r = cli.run(&["config", "validate"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        r.stdout.trim(),
        "ok: no config file found; using built-in defaults"
    );
    let v = cli.run(&["config", "validate", "--json"]).json();
    assert_eq!(
        (v["valid"].as_bool(), v["source"].as_str()),
        (Some(true), Some("defaults"))
    );
}

#[test]
fn missing_explicit_config_exits_1() {
    let cli = Cli::new();
    let r = cli.run(&[
        "--config",
        cli.path("nope.json").to_str().unwrap(),
        "config",
        "validate",
    ]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("does not exist"), "{}", r.stderr);
}

#[test]
fn usage_errors_exit_2() {
    let cli = Cli::new();
    assert_eq!(cli.run(&["config", "frobnicate"]).code, 2);
    assert_eq!(cli.run(&["models", "set"]).code, 2);
    assert_eq!(cli.run(&["--no-such-flag"]).code, 2);
}

#[test]
fn every_command_has_help_with_an_example() {
    let cli = Cli::new();
    let commands: &[&[&str]] = &[
        &[],
        &["config"],
        &["config", "validate"],
        &["config", "show"],
        &["models"],
        &["models", "list"],
        &["models", "set"],
        &["models", "aliases"],
        &["models", "aliases", "list"],
        &["models", "aliases", "add"],
        &["models", "aliases", "remove"],
        &["models", "fallbacks"],
        &["models", "fallbacks", "list"],
        &["models", "fallbacks", "add"],
        &["models", "fallbacks", "remove"],
        &["models", "fallbacks", "clear"],
    ];
    for cmd in commands {
        let mut args = cmd.to_vec();
        args.push("--help");
        let r = cli.run(&args);
        assert_eq!(r.code, 0, "{cmd:?}");
        assert!(
            r.stdout.contains("Example:\n  clawgate"),
            "{cmd:?}: {}",
            r.stdout
        );
    }
}

#[test]
fn show_redacts_secrets_in_every_form() {
    let cli = Cli::new();
    let cfg = cli.write(
        "cfg/clawgate.json",
        r#"{ env: { CGTEST_SHOW_TOKEN: "tok-env-block-secret-000" },
             models: { providers: { local: { baseUrl: "http://127.0.0.1:8000/v1", apiKey: "${CGTEST_SHOW_KEY}",
               headers: { Authorization: "Bearer hdr-secret-value-111" }, models: [{ id: "m" }] } } },
             gateway: { auth: { token: "${CGTEST_SHOW_TOKEN}" } } }"#,
    );
    let cfg = cfg.to_str().unwrap();
    let env = [("CGTEST_SHOW_KEY", "sk-process-secret-222222")];
    for args in [
        vec!["--config", cfg, "config", "show"],
        vec!["--config", cfg, "config", "show", "--json"],
        vec!["--config", cfg, "config", "show", "--resolved"],
        vec!["--config", cfg, "config", "show", "--resolved", "--json"],
        vec!["--config", cfg, "models", "list", "--json"],
    ] {
        let r = cli.run_env(&args, &env);
        assert_eq!(r.code, 0, "{args:?}: {}", r.stderr);
        for secret in [
            "sk-process-secret-222222",
            "hdr-secret-value-111",
            "tok-env-block-secret-000",
            "process-secret",
            "secret-value",
        ] {
            assert!(
                !r.stdout.contains(secret),
                "{args:?} leaked {secret}:\n{}",
                r.stdout
            );
        }
    }
    let v = cli
        .run_env(&["--config", cfg, "config", "show", "--json"], &env)
        .json();
    assert_eq!(
        v["models"]["providers"]["local"]["apiKey"],
        "sk-p…(redacted)"
    );
    assert_eq!(
        v["models"]["providers"]["local"]["baseUrl"],
        "http://127.0.0.1:8000/v1"
    );
    let v = cli
        .run_env(
            &["--config", cfg, "config", "show", "--resolved", "--json"],
            &env,
        )
        .json();
    assert_eq!(v["providers"][0]["id"], "local");
    assert_eq!(
        v["providers"][0]["apiKeys"],
        serde_json::json!(["sk-p…(redacted)"])
    );
    assert_eq!(v["config"]["gateway"]["port"], 18789);
    assert_eq!(v["selection"]["primary"], "local/m");
}

#[test]
fn show_and_status_mask_credentials_in_a_base_url() {
    let cli = Cli::new();
    let cfg = cli.write(
        "cfg/clawgate.json",
        r#"{ models: { providers: { box: {
               baseUrl: "https://admin:hunter2-pass@box.example/v1?key=AIzaQuerySecret&api-version=1",
               api: "openai-completions", models: [{ id: "m" }] } } },
             agents: { defaults: { model: "box/m" } } }"#,
    );
    let cfg = cfg.to_str().unwrap();
    for args in [
        vec!["--config", cfg, "config", "show"],
        vec!["--config", cfg, "config", "show", "--json"],
        vec!["--config", cfg, "config", "show", "--resolved", "--json"],
        vec!["--config", cfg, "models", "list", "--json"],
        vec!["--config", cfg, "models", "status"],
        vec!["--config", cfg, "models", "status", "--json"],
    ] {
        let r = cli.run(&args);
        assert_eq!(r.code, 0, "{args:?}: {}", r.stderr);
        for secret in ["hunter2-pass", "AIzaQuerySecret"] {
            assert!(
                !r.stdout.contains(secret),
                "{args:?} leaked {secret}:\n{}",
                r.stdout
            );
        }
    }
    let v = cli
        .run(&["--config", cfg, "config", "show", "--json"])
        .json();
    assert_eq!(
        v["models"]["providers"]["box"]["baseUrl"],
        "https://admin:***@box.example/v1?key=***&api-version=1"
    );
}

#[test]
fn an_empty_config_file_is_invalid_and_named() {
    let cli = Cli::new();
    for text in ["", "   \n", "// nothing left\n"] {
        let cfg = cli.write("cfg/clawgate.json", text);
        let cfg = cfg.to_str().unwrap();
        let r = cli.run(&["--config", cfg, "config", "validate"]);
        assert_eq!(r.code, 1, "{text:?}: {}", r.stdout);
        assert!(r.stderr.contains("clawgate.json is empty"), "{}", r.stderr);
        let r = cli.run(&["--config", cfg, "models", "list"]);
        assert_eq!(r.code, 1, "every command refuses it: {}", r.stdout);
    }
}
