//! `clawgate sessions list|show|export` after real turns through `clawgate agent` against
//! mock-upstream.

use mock_upstream::MockConfig;

use super::agent_cmds::{ANSWER, healthy, two_mocks};
use super::failover_support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_show_export_after_a_few_turns() {
    let (cli, cfg, _primary, _fallback) = two_mocks(healthy(ANSWER), MockConfig::default()).await;
    let agent = |args: &[&str]| {
        let mut all = vec!["--config", cfg.as_str(), "agent"];
        all.extend_from_slice(args);
        let r = run(&cli, &all, ENV);
        assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    };
    agent(&["-m", "first question"]);
    agent(&["-m", "second question"]);
    agent(&["-m", "on the side", "--session", "work"]);

    let sessions = |args: &[&str]| {
        let mut all = vec!["--config", cfg.as_str(), "sessions"];
        all.extend_from_slice(args);
        run(&cli, &all, ENV)
    };

    // list --json: both sessions, newest first, with their token counts.
    let r = sessions(&["list", "--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = r.json();
    assert_eq!(v["agent"], "main");
    let rows = v["sessions"].as_array().unwrap();
    let keys: Vec<&str> = rows.iter().map(|s| s["key"].as_str().unwrap()).collect();
    assert_eq!(keys, ["agent:main:work", "agent:main:main"], "{v:#}");
    let main = &rows[1];
    assert!(main["totalTokens"].as_u64().unwrap() > 0, "{main}");
    assert!(main["contextTokens"].as_u64().unwrap() > 0, "{main}");
    assert_eq!(main["compactionCount"], 0);
    assert_eq!(main["lastModel"], "local/mock-model");
    assert!(main["modelOverride"].is_null());
    let main_id = main["sessionId"].as_str().unwrap().to_string();

    // list: a table with the same rows.
    let r = sessions(&["list"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let header = r.stdout.lines().next().unwrap();
    for column in [
        "KEY",
        "SESSION ID",
        "MODEL",
        "CONTEXT",
        "TOTAL TOKENS",
        "COMPACTIONS",
        "UPDATED",
    ] {
        assert!(header.contains(column), "{header}");
    }
    assert!(r.stdout.contains("agent:main:work") && r.stdout.contains(&main_id));
    assert!(r.stdout.contains("local/mock-model"));

    // show by bare name, --json: the conversation as transcript entries.
    let r = sessions(&["show", "main", "--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = r.json();
    assert_eq!(v["key"], "agent:main:main");
    assert_eq!(v["sessionId"], main_id.as_str());
    let entries = v["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 4, "two questions, two answers: {v:#}");
    let text = serde_json::to_string(entries).unwrap();
    assert!(text.contains("first question") && text.contains("second question"));
    assert!(text.contains(ANSWER));
    assert_eq!(v["header"]["type"], "session");

    // show by session id, human: metadata and the conversation.
    let r = sessions(&["show", &main_id]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("Session     agent:main:main"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("messages    4"), "{}", r.stdout);
    assert!(r.stdout.contains("## User") && r.stdout.contains("first question"));

    // export: JSONL as stored (header first), and Markdown.
    let r = sessions(&["export", "agent:main:main"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let lines: Vec<serde_json::Value> = r
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines[0]["type"], "session");
    assert_eq!(lines[0]["id"], main_id.as_str());
    assert_eq!(lines.len(), 5);
    let r = sessions(&["export", "work", "--format", "markdown"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.starts_with("# Session agent:main:work"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("on the side") && r.stdout.contains("## Assistant"));

    // Unknown sessions are an error.
    let r = sessions(&["show", "nope"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("no session named"), "{}", r.stderr);
}

#[test]
fn list_with_no_sessions() {
    let cli = super::harness::Cli::new();
    let r = cli.run(&["sessions", "list"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains("no sessions for agent main"),
        "{}",
        r.stderr
    );
    let r = cli.run(&["sessions", "list", "--json"]);
    assert_eq!(r.json()["sessions"], serde_json::json!([]));
}

/// Issue 17 item 3: a truncated `sessions.json` is refused by `agent` (naming the file relative
/// to the state dir, starting no new session), and `sessions repair` brings every session back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_index_is_refused_and_repair_brings_the_sessions_back() {
    let (cli, cfg, _primary, _fallback) = two_mocks(healthy(ANSWER), MockConfig::default()).await;
    let clawgate = |args: &[&str]| {
        let mut all = vec!["--config", cfg.as_str()];
        all.extend_from_slice(args);
        run(&cli, &all, ENV)
    };
    for args in [
        &["agent", "-m", "first question"][..],
        &["agent", "-m", "on the side", "--session", "work"][..],
    ] {
        let r = clawgate(args);
        assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    }
    let before = clawgate(&["sessions", "list", "--json"]).json();
    let ids: Vec<String> = before["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["sessionId"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids.len(), 2);

    let index = "state/agents/main/sessions/sessions.json";
    cli.write(index, "");
    let _ = std::fs::remove_file(cli.path("state/agents/main/sessions/sessions.journal.jsonl"));
    let r = clawgate(&["agent", "-m", "are you there?"]);
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("agents/main/sessions/sessions.json")
            && r.stderr.contains("clawgate sessions repair"),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains(&cli.path("state").display().to_string()));
    assert_eq!(cli.read(index), "", "nothing was rewritten");
    let r = clawgate(&["sessions", "list"]);
    assert_eq!(r.code, 1, "{}", r.stderr);

    let r = clawgate(&["sessions", "repair", "--json"]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let report = r.json();
    assert_eq!(report["repair"]["indexState"], "empty");
    let mut recovered: Vec<String> = report["repair"]["recovered"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["sessionId"].as_str().unwrap().to_string())
        .collect();
    recovered.sort();
    let mut expected = ids.clone();
    expected.sort();
    assert_eq!(recovered, expected);
    let keys: Vec<&str> = report["repair"]["recovered"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["key"].as_str().unwrap())
        .collect();
    assert!(
        keys.contains(&"agent:main:main") && keys.contains(&"agent:main:work"),
        "{keys:?}"
    );

    let after = clawgate(&["sessions", "list", "--json"]).json();
    assert_eq!(after["sessions"].as_array().unwrap().len(), 2);
    // The human form says what it did; a second run finds nothing to recover.
    let r = clawgate(&["sessions", "repair"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("kept        2 row(s)"), "{}", r.stdout);
    assert!(
        r.stdout.contains("recovered   0 session(s)"),
        "{}",
        r.stdout
    );
    // Unusable state is exit code 1 with a message.
    cli.write(index, "");
    let lock = cli.path("state/agents/main/sessions/sessions.json.lock");
    std::fs::remove_file(&lock).unwrap();
    std::fs::create_dir_all(&lock).unwrap();
    let r = clawgate(&["sessions", "repair"]);
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    assert!(r.stderr.starts_with("error:"), "{}", r.stderr);
}
