//! Secret refs with `source: "file"` and `source: "exec"`, resolved at load as OpenClaw does:
//! the value reaches the provider's keys, errors name the JSON path (with line and column)
//! and never the secret.

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

use clawgate_config::{KeySource, LoadedConfig};

use super::harness::Sandbox;

fn write_mode(sb: &Sandbox, rel: &str, text: &str, mode: u32) -> PathBuf {
    let p = sb.write(rel, text);
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
    p
}

fn first_key(loaded: &LoadedConfig, provider: &str) -> (String, KeySource) {
    let p = loaded.registry.provider(provider).unwrap();
    (p.api_keys[0].clone(), p.key_sources[0].clone())
}

fn errors(sb: &Sandbox, text: &str) -> Vec<String> {
    let err = sb.load_text(text).unwrap_err();
    err.diagnostics()
        .iter()
        .filter(|d| d.is_error())
        .map(|d| {
            let loc = d.location.as_ref().unwrap();
            format!("{} @{}:{} {}", d.path, loc.line, loc.column, d.message)
        })
        .collect()
}

#[test]
fn file_refs_read_json_pointers_and_single_values() {
    let sb = Sandbox::new();
    let json = write_mode(
        &sb,
        "secrets/keys.json",
        r#"{"providers":{"openai":{"apiKey":"sk-file-json-0123456789"}},"a/b":{"~x":"sk-escaped-0123456789"}}"#,
        0o600,
    );
    let single = write_mode(
        &sb,
        "secrets/anthropic.key",
        "sk-ant-file-0123456789\n",
        0o400,
    );
    let text = format!(
        r#"{{
          secrets: {{ providers: {{
            files: {{ source: "file", path: "{}" }},
            one: {{ source: "file", path: "{}", mode: "singleValue" }},
          }}, defaults: {{ file: "files" }} }},
          models: {{ providers: {{
            openai: {{ apiKey: {{ source: "file", provider: "files", id: "/providers/openai/apiKey" }} }},
            openrouter: {{ apiKey: {{ source: "file", id: "/a~1b/~0x" }} }},
            anthropic: {{ apiKey: {{ source: "file", provider: "one", id: "value" }} }},
          }} }},
        }}"#,
        json.display(),
        single.display()
    );
    let loaded = sb.load_text(&text).unwrap();
    assert_eq!(
        first_key(&loaded, "openai"),
        (
            "sk-file-json-0123456789".into(),
            KeySource::Secret("file:files:/providers/openai/apiKey".into())
        )
    );
    // A ref without `provider` uses `secrets.defaults.file`.
    assert_eq!(first_key(&loaded, "openrouter").0, "sk-escaped-0123456789");
    assert_eq!(first_key(&loaded, "anthropic").0, "sk-ant-file-0123456789");
}

#[test]
fn file_ref_errors_name_the_path_and_never_the_secret() {
    let sb = Sandbox::new();
    let open = write_mode(
        &sb,
        "secrets/open.json",
        r#"{"k":"sk-open-0123456789"}"#,
        0o644,
    );
    let ok = write_mode(
        &sb,
        "secrets/ok.json",
        r#"{"k":"sk-ok-0123456789","n":5}"#,
        0o600,
    );
    let text = format!(
        r#"{{
  secrets: {{ providers: {{
    open: {{ source: "file", path: "{}" }},
    ok: {{ source: "file", path: "{}" }},
  }} }},
  models: {{ providers: {{
    openai: {{ apiKey: {{ source: "file", provider: "open", id: "/k" }} }},
    anthropic: {{ apiKey: {{ source: "file", provider: "ok", id: "/missing" }} }},
    openrouter: {{ apiKey: {{ source: "file", provider: "ok", id: "/n" }} }},
  }} }},
}}"#,
        open.display(),
        ok.display()
    );
    let errs = errors(&sb, &text);
    assert_eq!(errs.len(), 3, "{errs:#?}");
    assert!(
        errs[0].starts_with(
            "models.providers.openai.apiKey @7:23 cannot resolve secret file:open:/k:"
        ) && errs[0].ends_with("permissions are too open (mode 644); chmod 600 it"),
        "{}",
        errs[0]
    );
    assert_eq!(
        errs[1],
        "models.providers.anthropic.apiKey @8:26 cannot resolve secret file:ok:/missing: file \
         provider \"ok\" has nothing at \"/missing\""
    );
    assert_eq!(
        errs[2],
        "models.providers.openrouter.apiKey @9:27 secret file:ok:/n resolves to a number, \
         expected a non-empty string"
    );
    assert!(
        errs.iter()
            .all(|e| !e.contains("sk-open") && !e.contains("sk-ok"))
    );
}

/// A secret command that logs its request (to show it ran once for every id) and answers.
fn exec_script(sb: &Sandbox, body: &str) -> PathBuf {
    let script = format!("#!/bin/sh\n{body}\n");
    write_mode(sb, "bin/secrets", &script, 0o700)
}

#[test]
fn exec_refs_run_the_command_once_for_all_ids() {
    let sb = Sandbox::new();
    let log = sb.path("exec.log");
    let cmd = exec_script(
        &sb,
        &format!(
            "cat >> {log}; echo >> {log}\n\
             printf '%s' '{{\"protocolVersion\":1,\"values\":{{\"openai/key\":\"sk-exec-openai-0123\",\"anthropic/key\":\"sk-exec-anthropic-0123\"}}}}'",
            log = log.display()
        ),
    );
    let text = format!(
        r#"{{
          secrets: {{ providers: {{
            vault: {{ source: "exec", command: "{}" }},
          }} }},
          models: {{ providers: {{
            openai: {{ apiKey: {{ source: "exec", provider: "vault", id: "openai/key" }} }},
            anthropic: {{ apiKey: {{ source: "exec", provider: "vault", id: "anthropic/key" }} }},
          }} }},
          gateway: {{ auth: {{ mode: "token", token: {{ source: "exec", provider: "vault", id: "openai/key" }} }} }},
        }}"#,
        cmd.display()
    );
    let file = sb.write("cfg/c.json5", &text);
    let loaded = sb.load_file(&file, &[]).unwrap();
    assert_eq!(
        first_key(&loaded, "openai"),
        (
            "sk-exec-openai-0123".into(),
            KeySource::Secret("exec:vault:openai/key".into())
        )
    );
    assert_eq!(first_key(&loaded, "anthropic").0, "sk-exec-anthropic-0123");
    let token = loaded.config.gateway.auth.token.as_ref().unwrap();
    assert_eq!(
        loaded.secrets.resolve(token).unwrap(),
        "sk-exec-openai-0123"
    );
    let log = std::fs::read_to_string(log).unwrap();
    let request: serde_json::Value = serde_json::from_str(log.lines().next().unwrap()).unwrap();
    assert_eq!(
        request,
        serde_json::json!({"protocolVersion": 1, "provider": "vault", "ids": ["anthropic/key", "openai/key"]})
    );
    assert_eq!(log.lines().count(), 1, "the command ran once");
}

#[test]
fn exec_failures_name_the_ref_and_never_print_output() {
    let sb = Sandbox::new();
    let slow = exec_script(&sb, "sleep 5; echo '{}'");
    let bad = write_mode(
        &sb,
        "bin/bad",
        "#!/bin/sh\necho sk-leaked-0123456789\nexit 3\n",
        0o700,
    );
    let text = format!(
        r#"{{
  secrets: {{ providers: {{
    slow: {{ source: "exec", command: "{}", timeoutMs: 200 }},
    bad: {{ source: "exec", command: "{}" }},
  }} }},
  models: {{ providers: {{
    openai: {{ apiKey: {{ source: "exec", provider: "slow", id: "k" }} }},
    anthropic: {{ apiKey: {{ source: "exec", provider: "bad", id: "k" }} }},
  }} }},
}}"#,
        slow.display(),
        bad.display()
    );
    let errs = errors(&sb, &text);
    assert_eq!(
        errs,
        [
            "models.providers.openai.apiKey @7:23 cannot resolve secret exec:slow:k: exec \
             provider \"slow\" timed out after 200ms",
            "models.providers.anthropic.apiKey @8:26 cannot resolve secret exec:bad:k: exec \
             provider \"bad\" exited with code 3",
        ]
    );
}

#[test]
fn exec_plain_text_answers_need_json_only_false() {
    let sb = Sandbox::new();
    let cmd = exec_script(&sb, "echo sk-plain-0123456789");
    let provider = |json_only: bool| {
        format!(
            r#"{{ secrets: {{ providers: {{ p: {{ source: "exec", command: "{}", jsonOnly: {json_only} }} }} }},
               models: {{ providers: {{ openai: {{ apiKey: {{ source: "exec", provider: "p", id: "k" }} }} }} }} }}"#,
            cmd.display()
        )
    };
    let loaded = sb.load_text(&provider(false)).unwrap();
    assert_eq!(first_key(&loaded, "openai").0, "sk-plain-0123456789");
    let errs = errors(&sb, &provider(true));
    assert!(
        errs[0].ends_with("exec provider \"p\" returned invalid JSON"),
        "{errs:?}"
    );
}

#[test]
fn insecure_commands_are_refused() {
    let sb = Sandbox::new();
    let cmd = write_mode(&sb, "bin/open", "#!/bin/sh\necho '{}'\n", 0o777);
    let text = format!(
        r#"{{ secrets: {{ providers: {{ p: {{ source: "exec", command: "{}" }} }} }},
           models: {{ providers: {{ openai: {{ apiKey: {{ source: "exec", provider: "p", id: "k" }} }} }} }} }}"#,
        cmd.display()
    );
    let errs = errors(&sb, &text);
    assert!(
        errs[0].ends_with("permissions are too open (writable by group or others)"),
        "{errs:?}"
    );
    let trusted = format!(
        r#"{{ secrets: {{ providers: {{ p: {{ source: "exec", command: "{}", trustedDirs: ["/usr/lib/vault"] }} }} }},
           models: {{ providers: {{ openai: {{ apiKey: {{ source: "exec", provider: "p", id: "k" }} }} }} }} }}"#,
        cmd.display()
    );
    let errs = errors(&sb, &trusted);
    assert!(errs[0].ends_with("is outside trustedDirs"), "{errs:?}");
}

#[test]
fn exec_args_env_and_pass_env_reach_the_command_and_nothing_else_does() {
    let sb = Sandbox::new();
    let cmd = exec_script(
        &sb,
        r#"cat > /dev/null
printf '{"protocolVersion":1,"values":{"k":"%s-%s-%s-%s"}}' "$1" "$MODE" "$VAULT_TOKEN" "${UNRELATED:-unset}""#,
    );
    let text = format!(
        r#"{{ secrets: {{ providers: {{ p: {{ source: "exec", command: "{}", args: ["first"],
               env: {{ MODE: "test" }}, passEnv: ["VAULT_TOKEN"] }} }} }},
           models: {{ providers: {{ openai: {{ apiKey: {{ source: "exec", provider: "p", id: "k" }} }} }} }} }}"#,
        cmd.display()
    );
    let file = sb.write("cfg/c.json5", &text);
    let loaded = sb
        .load_file(&file, &[("VAULT_TOKEN", "tok"), ("UNRELATED", "x")])
        .unwrap();
    assert_eq!(first_key(&loaded, "openai").0, "first-test-tok-unset");
}

#[test]
fn exec_silence_and_output_limits_stop_the_command() {
    let sb = Sandbox::new();
    let silent = exec_script(&sb, "sleep 5");
    let chatty = write_mode(&sb, "bin/chatty", "#!/bin/sh\nprintf '%0100d' 0\n", 0o700);
    let text = format!(
        r#"{{
  secrets: {{ providers: {{
    silent: {{ source: "exec", command: "{}", timeoutMs: 60000, noOutputTimeoutMs: 200 }},
    chatty: {{ source: "exec", command: "{}", maxOutputBytes: 10 }},
  }} }},
  models: {{ providers: {{
    openai: {{ apiKey: {{ source: "exec", provider: "silent", id: "k" }} }},
    anthropic: {{ apiKey: {{ source: "exec", provider: "chatty", id: "k" }} }},
  }} }},
}}"#,
        silent.display(),
        chatty.display()
    );
    let errs = errors(&sb, &text);
    assert_eq!(
        errs,
        [
            "models.providers.openai.apiKey @7:23 cannot resolve secret exec:silent:k: exec \
             provider \"silent\" produced no output for 200ms",
            "models.providers.anthropic.apiKey @8:26 cannot resolve secret exec:chatty:k: exec \
             provider \"chatty\" printed more than maxOutputBytes (10)",
        ]
    );
}

#[test]
fn file_max_bytes_is_enforced_and_timeout_ms_is_listed_as_ignored() {
    let sb = Sandbox::new();
    let big = write_mode(&sb, "secrets/big.json", r#"{"k":"sk-0123456789"}"#, 0o600);
    let text = format!(
        r#"{{ secrets: {{ providers: {{ f: {{ source: "file", path: "{}", maxBytes: 5, timeoutMs: 100 }} }} }},
           models: {{ providers: {{ openai: {{ apiKey: {{ source: "file", provider: "f", id: "/k" }} }} }} }} }}"#,
        big.display()
    );
    let errs = errors(&sb, &text);
    assert!(errs[0].ends_with("is larger than maxBytes (5)"), "{errs:?}");
    let small = text.replace("maxBytes: 5", "maxBytes: 100");
    let loaded = sb.load_text(&small).unwrap();
    assert_eq!(first_key(&loaded, "openai").0, "sk-0123456789");
    assert_eq!(loaded.ignored, ["secrets.providers.f.timeoutMs"]);
}

#[test]
fn defaults_name_the_provider_of_refs_without_one() {
    let sb = Sandbox::new();
    let cmd = exec_script(
        &sb,
        "cat > /dev/null\nprintf '%s' '{\"protocolVersion\":1,\"values\":{\"openai/key\":\"sk-default-exec-0123\"}}'",
    );
    // `defaults.exec` picks the exec provider; `defaults.env` holds env refs to its allowlist.
    let text = |env_ref: &str| {
        format!(
            r#"{{
              secrets: {{
                providers: {{
                  vault: {{ source: "exec", command: "{}" }},
                  listed: {{ source: "env", allowlist: ["CGTEST_DEFAULTS_OK"] }},
                }},
                defaults: {{ exec: "vault", env: "listed" }},
              }},
              models: {{ providers: {{
                openai: {{ apiKey: {{ source: "exec", id: "openai/key" }} }},
                anthropic: {{ apiKey: {{ source: "env", id: "{env_ref}" }} }},
              }} }},
            }}"#,
            cmd.display()
        )
    };
    let env = [
        ("CGTEST_DEFAULTS_OK", "sk-default-env-0123"),
        ("CGTEST_DEFAULTS_OTHER", "sk-other-env-0123"),
    ];
    let file = sb.write("cfg/ok.json5", &text("CGTEST_DEFAULTS_OK"));
    let loaded = sb.load_file(&file, &env).unwrap();
    assert_eq!(
        first_key(&loaded, "openai"),
        (
            "sk-default-exec-0123".into(),
            KeySource::Secret("exec:vault:openai/key".into())
        )
    );
    assert_eq!(first_key(&loaded, "anthropic").0, "sk-default-env-0123");
    let file = sb.write("cfg/other.json5", &text("CGTEST_DEFAULTS_OTHER"));
    let err = sb.load_file(&file, &env).unwrap_err();
    let message: String = err.diagnostics().iter().map(|d| d.render(None)).collect();
    assert!(
        message.contains("not allowlisted in secrets.providers.listed.allowlist"),
        "{message}"
    );
    assert!(!message.contains("sk-other-env-0123"));
}
