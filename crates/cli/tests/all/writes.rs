//! Writing commands: comments kept, exact file set written, validation and rollback,
//! OpenClaw's file never written, first write creates the state dir config.

use super::harness::{Cli, GUIDE_CONFIG};

fn value(text: &str) -> serde_json::Value {
    // The CLI writes JSON5; parse it the way the loader does, via `config show --json`.
    let cli = Cli::new();
    let f = cli.write("x/c.json5", text);
    cli.run(&["--config", f.to_str().unwrap(), "config", "show", "--json"])
        .json()
}

#[test]
fn set_keeps_comments_and_writes_only_the_config() {
    let cli = Cli::new();
    let cfg = cli.write("cfg/clawgate.json", GUIDE_CONFIG);
    let cfg_s = cfg.to_str().unwrap();
    let before = cli.snapshot();
    let r = cli.run(&["--config", cfg_s, "models", "set", "opus"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout.trim(), "primary model: anthropic/claude-opus-4-6");
    assert_eq!(cli.changed_since(&before), ["cfg/clawgate.json"]);
    let text = cli.read("cfg/clawgate.json");
    for comment in [
        "// LM Studio first, hosted fallback",
        "/* primary + one fallback */",
        "// ignored by clawgate",
    ] {
        assert!(text.contains(comment), "lost {comment}:\n{text}");
    }
    let v = value(&text);
    assert_eq!(
        v["agents"]["defaults"]["model"]["primary"],
        "anthropic/claude-opus-4-6"
    );
    assert_eq!(
        v["agents"]["defaults"]["model"]["fallbacks"],
        serde_json::json!(["anthropic/claude-opus-4-6"])
    );
    let listed = cli
        .run(&["--config", cfg_s, "models", "list", "--json"])
        .json();
    assert_eq!(listed["primary"], "anthropic/claude-opus-4-6");
}

#[test]
fn unknown_model_is_refused_and_nothing_is_written() {
    let cli = Cli::new();
    let cfg = cli.write("cfg/clawgate.json", GUIDE_CONFIG);
    let before = cli.snapshot();
    let r = cli.run(&["--config", cfg.to_str().unwrap(), "models", "set", "minimx"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("unknown model \"minimx\""),
        "{}",
        r.stderr
    );
    assert!(cli.changed_since(&before).is_empty());
}

#[test]
fn aliases_add_remove_round_trip() {
    let cli = Cli::new();
    let cfg = cli.write("cfg/clawgate.json", GUIDE_CONFIG);
    let cfg = cfg.to_str().unwrap();
    let r = cli.run(&[
        "--config",
        cfg,
        "models",
        "aliases",
        "add",
        "local",
        "lmstudio/minimax-m2.1-gs32",
    ]);
    assert_eq!(
        (r.code, r.stdout.trim()),
        (0, "alias local -> lmstudio/minimax-m2.1-gs32"),
        "{}",
        r.stderr
    );
    // Moving an alias takes it off its old target.
    let r = cli.run(&[
        "--config",
        cfg,
        "models",
        "aliases",
        "add",
        "OPUS",
        "anthropic/claude-sonnet-4-6",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = cli
        .run(&["--config", cfg, "models", "aliases", "list", "--json"])
        .json();
    assert_eq!(
        v["aliases"],
        serde_json::json!({"OPUS": "anthropic/claude-sonnet-4-6", "local": "lmstudio/minimax-m2.1-gs32"})
    );
    assert_eq!(
        cli.run(&["--config", cfg, "models", "aliases", "remove", "local"])
            .code,
        0
    );
    assert_eq!(
        cli.run(&["--config", cfg, "models", "aliases", "remove", "local"])
            .code,
        1
    );
    let v = cli
        .run(&["--config", cfg, "models", "aliases", "list", "--json"])
        .json();
    assert_eq!(
        v["aliases"],
        serde_json::json!({"OPUS": "anthropic/claude-sonnet-4-6"})
    );
    assert!(
        cli.read("cfg/clawgate.json")
            .contains("// LM Studio first, hosted fallback")
    );
}

#[test]
fn fallbacks_add_remove_clear() {
    let cli = Cli::new();
    let cfg = cli.write("cfg/clawgate.json", GUIDE_CONFIG);
    let cfg = cfg.to_str().unwrap();
    let list = || {
        cli.run(&["--config", cfg, "models", "fallbacks", "list", "--json"])
            .json()["fallbacks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["ref"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        cli.run(&[
            "--config",
            cfg,
            "models",
            "fallbacks",
            "add",
            "openai/gpt-5.4"
        ])
        .code,
        0
    );
    let r = cli.run(&["--config", cfg, "models", "fallbacks", "add", "opus"]);
    assert_eq!(
        (r.code, r.stdout.trim()),
        (0, "anthropic/claude-opus-4-6 is already a fallback")
    );
    assert_eq!(list(), ["anthropic/claude-opus-4-6", "openai/gpt-5.4"]);
    assert_eq!(
        cli.run(&["--config", cfg, "models", "fallbacks", "remove", "Opus"])
            .code,
        0
    );
    assert_eq!(list(), ["openai/gpt-5.4"]);
    assert_eq!(
        cli.run(&[
            "--config",
            cfg,
            "models",
            "fallbacks",
            "remove",
            "openai/gpt-5.5"
        ])
        .code,
        1
    );
    assert_eq!(
        cli.run(&["--config", cfg, "models", "fallbacks", "clear"])
            .code,
        0
    );
    assert!(list().is_empty());
    assert!(
        cli.read("cfg/clawgate.json")
            .contains("/* primary + one fallback */")
    );
}

#[test]
fn string_form_model_becomes_the_object_form() {
    let cli = Cli::new();
    let cfg = cli.write(
        "cfg/c.json5",
        "{ agents: { defaults: { model: 'openai/gpt-5.4' } } } // keep\n",
    );
    let cfg = cfg.to_str().unwrap();
    assert_eq!(
        cli.run(&[
            "--config",
            cfg,
            "models",
            "fallbacks",
            "add",
            "anthropic/claude-haiku-4-5"
        ])
        .code,
        0
    );
    let text = cli.read("cfg/c.json5");
    assert!(text.contains("// keep"), "{text}");
    let v = value(&text);
    assert_eq!(
        v["agents"]["defaults"]["model"],
        serde_json::json!({"primary": "openai/gpt-5.4", "fallbacks": ["anthropic/claude-haiku-4-5"]})
    );
}

#[test]
fn first_write_creates_the_state_dir_config() {
    let cli = Cli::new();
    let before = cli.snapshot();
    let r = cli.run(&["models", "set", "openai/gpt-5.4"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("created"), "{}", r.stderr);
    assert_eq!(cli.changed_since(&before), ["state/clawgate.json"]);
    let v = cli.run(&["config", "validate", "--json"]).json();
    assert_eq!(v["source"], "state-dir");
    assert_eq!(
        cli.run(&["models", "list", "--json"]).json()["primary"],
        "openai/gpt-5.4"
    );
}

#[test]
fn openclaw_config_is_never_written() {
    let cli = Cli::new();
    cli.write("home/.openclaw/openclaw.json", GUIDE_CONFIG);
    let before = cli.snapshot();
    let r = cli.run(&["models", "set", "openai/gpt-5.4"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("reads as-is and never writes"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("--write-to"), "{}", r.stderr);
    assert!(cli.changed_since(&before).is_empty());
    // With --write-to, a clawgate config is created that includes OpenClaw's.
    let target = cli.path("state/clawgate.json");
    let r = cli.run(&[
        "models",
        "set",
        "openai/gpt-5.4",
        "--write-to",
        target.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(cli.changed_since(&before), ["state/clawgate.json"]);
    assert_eq!(cli.read("home/.openclaw/openclaw.json"), GUIDE_CONFIG);
    let v = cli.run(&["models", "list", "--json"]).json();
    assert_eq!(v["primary"], "openai/gpt-5.4");
    assert_eq!(
        v["fallbacks"],
        serde_json::json!(["anthropic/claude-opus-4-6"]),
        "the rest still comes from OpenClaw's file"
    );
}

#[test]
fn a_write_that_breaks_the_config_is_rolled_back() {
    let cli = Cli::new();
    cli.write(
        "cfg/aliases.json5",
        "{ agents: { defaults: { models: { 'openai/gpt-5.4-mini': { alias: 'fast' } } } } }",
    );
    let cfg = cli.write(
        "cfg/clawgate.json",
        "{\n  $include: 'aliases.json5', // shared aliases\n}\n",
    );
    let before = cli.snapshot();
    let r = cli.run(&[
        "--config",
        cfg.to_str().unwrap(),
        "models",
        "aliases",
        "add",
        "fast",
        "openai/gpt-5.4",
    ]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("alias \"fast\" is already used"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("left unchanged"), "{}", r.stderr);
    assert!(
        cli.changed_since(&before).is_empty(),
        "{:?}",
        cli.changed_since(&before)
    );
}

#[test]
fn when_formatting_cannot_be_kept_the_original_is_backed_up() {
    let cli = Cli::new();
    // Duplicate keys: JSON5 keeps the last one, a CST edit would touch the first.
    let original = "{\n  agents: { defaults: { model: 'openai/gpt-5' } },\n  // the one that counts\n  agents: { defaults: { model: 'openai/gpt-5.4' } },\n}\n";
    let cfg = cli.write("cfg/clawgate.json", original);
    let before = cli.snapshot();
    let r = cli.run(&[
        "--config",
        cfg.to_str().unwrap(),
        "models",
        "set",
        "openai/gpt-5.5",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains("the original is saved as"),
        "{}",
        r.stderr
    );
    let mut changed = cli.changed_since(&before);
    changed.sort();
    assert_eq!(changed, ["cfg/clawgate.json", "cfg/clawgate.json.bak"]);
    assert_eq!(cli.read("cfg/clawgate.json.bak"), original);
    let v = cli
        .run(&[
            "--config",
            cfg.to_str().unwrap(),
            "models",
            "list",
            "--json",
        ])
        .json();
    assert_eq!(v["primary"], "openai/gpt-5.5");
}
