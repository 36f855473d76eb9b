//! The example configs the README shows (`examples/*.json5`) must stay valid and mean what the
//! README says: each validates, and `models list --json` marks the primary and fallbacks the
//! README names.

use super::harness::Cli;

fn example(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples")
        .join(name);
    path.to_str().unwrap().to_string()
}

fn roles(cli: &Cli, config: &str) -> Vec<(String, String)> {
    let run = cli.run(&["--config", config, "models", "list", "--json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let json = run.json();
    let rows = json["models"]
        .as_array()
        .unwrap_or_else(|| panic!("no models array: {json}"));
    rows.iter()
        .flat_map(|row| {
            let reference = row["ref"].as_str().unwrap_or_default().to_string();
            row["roles"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|role| role.as_str())
                .map(move |role| (reference.clone(), role.to_string()))
                .collect::<Vec<_>>()
        })
        .collect()
}

#[test]
fn every_readme_example_validates() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("json5") {
            continue;
        }
        seen += 1;
        let cli = Cli::new();
        let run = cli.run(&["--config", path.to_str().unwrap(), "config", "validate"]);
        assert_eq!(
            run.code,
            0,
            "{}: {}{}",
            path.display(),
            run.stdout,
            run.stderr
        );
    }
    assert!(
        seen >= 3,
        "expected the README's three example configs, found {seen}"
    );
}

#[test]
fn local_proxy_example_has_local_primary_and_hosted_fallback() {
    let cli = Cli::new();
    let roles = roles(&cli, &example("local-proxy.json5"));
    assert!(
        roles.contains(&("local/my-model".into(), "primary".into())),
        "{roles:?}"
    );
    assert!(
        roles
            .iter()
            .any(|(r, role)| r == "anthropic/claude-sonnet-4-5" && role.starts_with("fallback")),
        "{roles:?}"
    );
}

#[test]
fn hybrid_example_has_hosted_primary_and_local_first_fallback() {
    let cli = Cli::new();
    let roles = roles(&cli, &example("hybrid.json5"));
    assert!(
        roles.contains(&("anthropic/claude-sonnet-4-5".into(), "primary".into())),
        "{roles:?}"
    );
    assert!(
        roles.contains(&("vllm/Qwen/Qwen3-32B".into(), "fallback 1".into())),
        "{roles:?}"
    );
}
