//! `clawgate state migrate-from-files`: a session written by the file backend is copied into
//! PostgreSQL (a re-run copies nothing), a gateway on the database continues it, and so does
//! `clawgate agent` on the database (a command that builds its services before its runtime).

use std::process::Command;

use mock_upstream::{MockConfig, MockServer, Script};

use super::replicas::{Replica, config, db};

fn clawgate(home: &std::path::Path, args: &[&str], url: &str) -> (i32, String, String) {
    let out = tokio::task::block_in_place(|| {
        Command::new(env!("CARGO_BIN_EXE_clawgate"))
            .args(args)
            .env_clear()
            .env("HOME", home.join("home"))
            .env("CLAWGATE_STATE_DIR", home.join("state"))
            .env("CLAWGATE_TEST_PG_URL", url)
            .current_dir(home)
            .output()
            .unwrap()
    });
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_state_dir_is_copied_once_and_continued_on_the_database() {
    let db = db();
    let gpu = MockServer::start(MockConfig::default().script(Script::text("noted"))).await;
    let fallback = MockServer::start(MockConfig::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    let pg_config = config(&gpu.openai_base_url(), &fallback.openai_base_url(), 30);
    let files_config = pg_config.replace("backend: \"postgres\"", "backend: \"files\"");
    std::fs::write(home.join("files.json5"), &files_config).unwrap();
    std::fs::write(home.join("pg.json5"), &pg_config).unwrap();
    let files = home.join("files.json5");
    let files = files.to_str().unwrap();
    let (code, out, err) = clawgate(
        home,
        &[
            "--config",
            files,
            "agent",
            "--session",
            "moved",
            "-m",
            "remember the files",
        ],
        &db.url,
    );
    assert_eq!(code, 0, "{out}\n{err}");

    let pg = home.join("pg.json5");
    let pg = pg.to_str().unwrap();
    let (code, out, err) = clawgate(
        home,
        &["--config", pg, "state", "migrate-from-files"],
        &db.url,
    );
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("agent main"), "progress lines: {out}");
    let (code, out, err) = clawgate(
        home,
        &["--config", pg, "state", "migrate-from-files", "--json"],
        &db.url,
    );
    assert_eq!(code, 0, "{out}\n{err}");
    let summary: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(summary["sessionsCopied"], 0, "{summary}");
    assert_eq!(summary["transcriptLinesCopied"], 0, "{summary}");
    assert!(
        summary["sessionsPresent"].as_u64().unwrap() >= 1,
        "{summary}"
    );
    assert!(
        summary["transcriptLinesPresent"].as_u64().unwrap() >= 3,
        "{summary}"
    );

    let replica = Replica::start("a", &pg_config, &db.url).await;
    let (status, body) = replica
        .chat("clawgate/main", Some("agent:main:moved"), "and now?")
        .await;
    assert_eq!(status, 200, "{body}");
    let last = gpu.requests().last().unwrap().body.to_string();
    assert!(
        last.contains("remember the files"),
        "continued from the copy: {last}"
    );
    drop(replica);

    let (code, out, err) = clawgate(
        home,
        &[
            "--config",
            pg,
            "agent",
            "--session",
            "moved",
            "-m",
            "and from the cli",
        ],
        &db.url,
    );
    assert_eq!(code, 0, "{out}\n{err}");
    let last = gpu.requests().last().unwrap().body.to_string();
    assert!(
        last.contains("and now?"),
        "the CLI sees the gateway's turn: {last}"
    );
    let (code, _, err) = clawgate(home, &["--config", pg, "sessions", "list"], &db.url);
    assert_eq!(code, 1);
    assert!(err.contains("PostgreSQL"), "{err}");
}
