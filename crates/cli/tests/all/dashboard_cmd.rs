//! `clawgate dashboard`: the Control UI's URL with the token in the fragment, and opening it
//! with `xdg-open` on a desktop (a stand-in `xdg-open` on PATH records what it was given).

use super::harness::Cli;

const CONFIG: &str =
    r#"{ gateway: { port: 18999, auth: { mode: "token", token: "s3cret token/1" } } }"#;

#[test]
fn prints_the_url_with_the_token_in_the_fragment() {
    let cli = Cli::new();
    let config = cli.write("cwd/clawgate.json", CONFIG);
    let run = cli.run(&[
        "--config",
        config.to_str().unwrap(),
        "dashboard",
        "--no-open",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.stdout.trim(),
        "http://127.0.0.1:18999/#token=s3cret%20token%2F1"
    );
    assert!(
        run.stderr.contains("carries the gateway token"),
        "{}",
        run.stderr
    );

    // --port / --bind as given to `clawgate gateway`; a lan bind is reached on loopback.
    let run = cli.run(&[
        "--config",
        config.to_str().unwrap(),
        "dashboard",
        "--no-open",
        "--port",
        "4242",
        "--bind",
        "lan",
    ]);
    assert_eq!(
        run.stdout.trim(),
        "http://127.0.0.1:4242/#token=s3cret%20token%2F1"
    );
}

#[test]
fn without_a_configured_token_the_url_carries_the_gateways_own() {
    let cli = Cli::new();
    let config = cli.write("cwd/clawgate.json", r#"{ gateway: { port: 18998 } }"#);
    let args = [
        "--config",
        config.to_str().unwrap(),
        "dashboard",
        "--no-open",
    ];
    let run = cli.run(&args);
    assert_eq!(run.code, 0, "{}", run.stderr);
    // Made now (the gateway has not started), in the state dir, owner-only; the gateway
    // reads the same file when it starts.
    let file = cli.path("state/gateway-token");
    let token = std::fs::read_to_string(&file).unwrap().trim().to_string();
    assert_eq!(token.len(), 64, "{token}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    assert_eq!(
        run.stdout.trim(),
        format!("http://127.0.0.1:18998/#token={token}")
    );
    // Every later call prints the same token.
    let again = cli.run(&args);
    assert_eq!(again.stdout, run.stdout);
}

#[test]
fn with_auth_mode_none_the_url_has_no_fragment() {
    let cli = Cli::new();
    let config = cli.write(
        "cwd/clawgate.json",
        r#"{ gateway: { port: 18997, auth: { mode: "none" } } }"#,
    );
    let run = cli.run(&[
        "--config",
        config.to_str().unwrap(),
        "dashboard",
        "--no-open",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout.trim(), "http://127.0.0.1:18997/");
    assert!(!cli.path("state/gateway-token").exists());
}

#[cfg(unix)]
#[test]
fn on_a_desktop_it_opens_the_url_unless_told_not_to() {
    use std::os::unix::fs::PermissionsExt;
    let cli = Cli::new();
    let config = cli.write("cwd/clawgate.json", CONFIG);
    let opened = cli.path("opened.txt");
    let script = cli.write(
        "bin/xdg-open",
        &format!("#!/bin/sh\nprintf '%s' \"$1\" > '{}'\n", opened.display()),
    );
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!("{}:/usr/bin:/bin", cli.path("bin").display());
    let args = ["--config", config.to_str().unwrap(), "dashboard"];

    // No display: nothing is opened.
    let run = cli.run_env(&args, &[("PATH", &path)]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!opened.exists());

    let mut no_open = args.to_vec();
    no_open.push("--no-open");
    let run = cli.run_env(&no_open, &[("PATH", &path), ("DISPLAY", ":0")]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!opened.exists());

    let run = cli.run_env(&args, &[("PATH", &path), ("WAYLAND_DISPLAY", "wayland-0")]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        std::fs::read_to_string(&opened).unwrap(),
        "http://127.0.0.1:18999/#token=s3cret%20token%2F1"
    );
}
