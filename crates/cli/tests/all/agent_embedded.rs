//! `clawgate agent -m` on the in-process engine with the demo model and no config at all: the
//! implicit `embedded` provider is the default primary. Needs the `embedded` feature and the
//! demo model: `$CLAWGATE_DEMO_GGUF` (what `scripts/test` sets, from the live tier's cache),
//! else the state dir of the user running the tests (`scripts/fetch-demo-model`); a missing
//! model fails the test (it is never skipped).

use std::path::PathBuf;

use super::harness::Cli;

const DEMO_FILE: &str = "gemma-3-270m-q4_k_m.gguf";

/// `$CLAWGATE_DEMO_GGUF`, else `$CLAWGATE_STATE_DIR/models/…`, else `~/.clawgate/models/…`.
pub fn demo_model() -> PathBuf {
    if let Some(path) = std::env::var_os("CLAWGATE_DEMO_GGUF").filter(|p| !p.is_empty()) {
        let path = PathBuf::from(path);
        assert!(
            path.is_file(),
            "CLAWGATE_DEMO_GGUF names {}, which is missing",
            path.display()
        );
        return path;
    }
    let state = std::env::var_os("CLAWGATE_STATE_DIR")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".clawgate")))
        .expect("HOME or CLAWGATE_STATE_DIR");
    let path = state.join("models").join(DEMO_FILE);
    assert!(
        path.is_file(),
        "the demo model is missing at {}: run scripts/fetch-demo-model, or set CLAWGATE_DEMO_GGUF",
        path.display()
    );
    path
}

#[test]
fn one_turn_on_the_demo_model_with_no_config() {
    let model = demo_model();
    let cli = Cli::new();
    let linked = cli.path("state/models").join(DEMO_FILE);
    std::fs::create_dir_all(linked.parent().unwrap()).unwrap();
    std::os::unix::fs::symlink(&model, &linked).unwrap();

    let r = cli.run(&["agent", "-m", "Say hi in one word.", "--json"]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let v = r.json();
    assert_eq!(v["ok"], true);
    assert_eq!(v["modelRef"], "embedded/gemma-3-270m");
    assert_eq!(v["fallback"], false);
    let output = v["usage"]["output_tokens"].as_u64().unwrap();
    assert!(
        (1..=128).contains(&output),
        "the demo row caps output at 128 tokens: {v:#}"
    );
    assert!(v["usage"]["input_tokens"].as_u64().unwrap() > 0);

    // The turn is in the session like any other.
    let r = cli.run(&["sessions", "list", "--json"]);
    let row = &r.json()["sessions"][0];
    assert_eq!(row["key"], "agent:main:main");
    assert_eq!(row["lastModel"], "embedded/gemma-3-270m");
}

/// `models test` on the embedded ref without `--chain` builds its provider through the same
/// services as every other command, so a build with the engine runs it in-process.
#[test]
fn models_test_on_the_embedded_ref() {
    let model = demo_model();
    let cli = Cli::new();
    let linked = cli.path("state/models").join(DEMO_FILE);
    std::fs::create_dir_all(linked.parent().unwrap()).unwrap();
    std::os::unix::fs::symlink(&model, &linked).unwrap();

    let r = cli.run(&[
        "models",
        "test",
        "embedded/gemma-3-270m",
        "-m",
        "Hello",
        "--max-tokens",
        "8",
        "--json",
    ]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let v = r.json();
    assert_eq!(v["ok"], true, "{v:#}");
    assert_eq!(v["api"], "llama-cpp");
    let output = v["usage"]["output_tokens"].as_u64().unwrap();
    assert!((1..=8).contains(&output), "{v:#}");
}

/// The row's engine `params` reach the engine (the loading line reports the context and
/// threads llama.cpp was given), and a base model is called one when it loads.
#[test]
fn row_params_reach_the_engine_and_a_base_model_says_so() {
    let cli = Cli::new();
    let config = serde_json::json!({
        "models": {"providers": {"local": {
            "api": "llama-cpp",
            "params": {"threads": 1},
            "models": [{"id": "demo", "path": demo_model(), "maxTokens": 16,
                        "params": {"contextSize": 16384, "temperature": 0}}]
        }}},
        "agents": {"defaults": {"model": {"primary": "local/demo"}}}
    });
    let config_path = cli.write("clawgate.json", &config.to_string());
    let r = cli.run(&[
        "--config",
        config_path.to_str().unwrap(),
        "agent",
        "-m",
        "Say hi in one word.",
    ]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("context 16384 tokens, 1 threads"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("demo is a base model"), "{}", r.stderr);
}
