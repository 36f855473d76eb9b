//! Exec approvals answered in the Control UI: a streamed agent turn with clawgate's frames on
//! asks with an `approval_request` frame and waits for `POST /clawgate/v1/approvals/{id}`.
//! Allow once runs the command, allow always also writes the allowlist (and stops asking),
//! deny refuses, no answer in time refuses, a client that leaves cancels the turn (nothing
//! runs), turns without the frames keep `askFallback`, and the endpoint needs the token.

use std::time::{Duration, Instant};

use clawgate_gateway::RequestLimits;
use mock_upstream::Script;
use serde_json::{Value, json};

use crate::support::{Harness, Inbound, Setup, parse_sse};

const TOKEN: &str = "gw-approvals-token-5678";
const EVENTS: (&str, &str) = ("x-clawgate-events", "on");
const SESSION: (&str, &str) = ("x-clawgate-session-key", "agent:main:ui-approvals");

async fn harness(limits: RequestLimits) -> Harness {
    Harness::with(Setup {
        token: Some(TOKEN.into()),
        extra_root: r#"tools: { profile: "coding" },"#.into(),
        limits,
        ..Setup::default()
    })
    .await
}

fn limits() -> RequestLimits {
    Setup::default().limits
}

/// The model asks to run `command` (then answers plainly after the tool result).
fn script_exec(h: &Harness, command: &str) {
    h.mock
        .push_script(Script::default().with_tool_call("exec", json!({ "command": command })));
}

/// Starts a streamed agent turn with the given headers.
async fn turn(h: &Harness, headers: &[(&str, &str)]) -> reqwest::Response {
    let r = h
        .post_with(
            "/v1/chat/completions",
            &Inbound::Chat.body("clawgate/main", "run it", true),
            headers,
        )
        .await;
    assert_eq!(r.status(), 200);
    r
}

fn frames(raw: &str) -> Vec<Value> {
    parse_sse(raw)
        .iter()
        .filter(|e| e.event.as_deref() == Some("clawgate"))
        .map(|e| e.json())
        .collect()
}

fn frame<'a>(frames: &'a [Value], kind: &str) -> Option<&'a Value> {
    frames.iter().find(|f| f["type"] == kind)
}

/// Reads the stream until the approval question arrives; returns it and what was read.
async fn read_question(r: &mut reqwest::Response) -> (Value, String) {
    let mut seen = String::new();
    loop {
        if let Some(q) = frame(&frames(&seen), "approval_request") {
            return (q.clone(), seen);
        }
        let chunk = r.chunk().await.unwrap();
        let chunk = chunk.unwrap_or_else(|| panic!("the stream ended without a question: {seen}"));
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
}

/// Reads the rest of the stream.
async fn read_rest(mut r: reqwest::Response, mut seen: String) -> String {
    while let Some(chunk) = r.chunk().await.unwrap() {
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    seen
}

async fn answer(h: &Harness, id: &str, decision: &str) -> reqwest::Response {
    h.http
        .post(h.url(&format!("/clawgate/v1/approvals/{id}")))
        .bearer_auth(TOKEN)
        .json(&json!({ "decision": decision }))
        .send()
        .await
        .unwrap()
}

fn ran(h: &Harness, name: &str) -> bool {
    h.dir.path().join("workspace").join(name).exists()
}

fn approvals_file(h: &Harness) -> std::path::PathBuf {
    h.dir.path().join("state/exec-approvals.json")
}

/// The path `name` resolves to on PATH (what the question names and allow-always stores).
fn which(name: &str) -> String {
    let path = std::env::var_os("PATH").unwrap();
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
        .unwrap()
        .display()
        .to_string()
}

#[tokio::test]
async fn allow_once_runs_the_command_and_the_turn_goes_on() {
    let h = harness(limits()).await;
    script_exec(&h, "touch once-ran");
    let mut r = turn(&h, &[EVENTS, SESSION]).await;
    let (q, seen) = read_question(&mut r).await;
    assert_eq!(q["command"], "touch once-ran");
    assert_eq!(q["agent"], "main");
    assert_eq!(q["session"], "agent:main:ui-approvals");
    assert!(q["cwd"].as_str().unwrap().ends_with("workspace"), "{q}");
    assert_eq!(q["patterns"], json!([which("touch")]));
    assert!(
        q["reason"]
            .as_str()
            .unwrap()
            .contains("not on the allowlist"),
        "{q}"
    );
    assert!(!ran(&h, "once-ran"), "nothing runs before the answer");

    let a = answer(&h, q["id"].as_str().unwrap(), "allow-once").await;
    assert_eq!(a.status(), 200);
    let a: Value = a.json().await.unwrap();
    assert_eq!(a["decision"], "allow-once");
    assert_eq!(a["remembered"], json!([]));

    let raw = read_rest(r, seen).await;
    let all = frames(&raw);
    let result = frame(&all, "tool_result").expect("a tool result");
    assert_eq!(result["isError"], false, "{result}");
    assert!(ran(&h, "once-ran"));
    assert!(frame(&all, "done").is_some(), "the turn finished: {raw}");
    assert!(!approvals_file(&h).exists(), "allow-once writes nothing");
    // The id answered once is gone.
    assert_eq!(
        answer(&h, q["id"].as_str().unwrap(), "deny").await.status(),
        404
    );
}

#[tokio::test]
async fn allow_always_writes_the_allowlist_and_stops_asking() {
    let h = harness(limits()).await;
    script_exec(&h, "touch always-1");
    let mut r = turn(&h, &[EVENTS, SESSION]).await;
    let (q, seen) = read_question(&mut r).await;
    let a: Value = answer(&h, q["id"].as_str().unwrap(), "allow-always")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(a["remembered"], json!([which("touch")]), "{a}");
    read_rest(r, seen).await;
    assert!(ran(&h, "always-1"));
    let file = std::fs::read_to_string(approvals_file(&h)).unwrap();
    assert!(file.contains(&which("touch")), "{file}");

    // The same program again: no question, it runs.
    script_exec(&h, "touch always-2");
    let r = turn(&h, &[EVENTS, SESSION]).await;
    let raw = read_rest(r, String::new()).await;
    let all = frames(&raw);
    assert!(frame(&all, "approval_request").is_none(), "{raw}");
    assert_eq!(frame(&all, "tool_result").unwrap()["isError"], false);
    assert!(ran(&h, "always-2"));
}

#[tokio::test]
async fn deny_refuses_with_a_tool_error() {
    let h = harness(limits()).await;
    script_exec(&h, "touch denied");
    let mut r = turn(&h, &[EVENTS, SESSION]).await;
    let (q, seen) = read_question(&mut r).await;
    assert_eq!(
        answer(&h, q["id"].as_str().unwrap(), "deny").await.status(),
        200
    );
    let raw = read_rest(r, seen).await;
    let result = frame(&frames(&raw), "tool_result").cloned().unwrap();
    assert_eq!(result["isError"], true);
    assert!(
        result["output"]
            .as_str()
            .unwrap()
            .contains("the user declined"),
        "{result}"
    );
    assert!(!ran(&h, "denied"));
    // The model got the refusal as the tool result.
    let sent = h.mock.requests().pop().unwrap().body["messages"].to_string();
    assert!(sent.contains("the user declined"), "{sent}");
}

#[tokio::test]
async fn no_answer_in_time_refuses() {
    let h = harness(RequestLimits {
        approval_timeout: Duration::from_secs(1),
        ..limits()
    })
    .await;
    script_exec(&h, "touch too-late");
    let mut r = turn(&h, &[EVENTS, SESSION]).await;
    let (q, seen) = read_question(&mut r).await;
    assert_eq!(q["expiresInMs"], 1000);
    let raw = read_rest(r, seen).await;
    let result = frame(&frames(&raw), "tool_result").cloned().unwrap();
    assert_eq!(result["isError"], true);
    let output = result["output"].as_str().unwrap();
    assert!(output.contains("nobody answered within 1 s"), "{output}");
    assert!(!ran(&h, "too-late"));
    // Too late to answer now.
    let late = answer(&h, q["id"].as_str().unwrap(), "allow-once").await;
    assert_eq!(late.status(), 404);
    assert!(!ran(&h, "too-late"));
}

#[tokio::test]
async fn a_client_that_leaves_cancels_the_turn_and_nothing_runs() {
    let h = harness(limits()).await;
    script_exec(&h, "touch left");
    let mut r = turn(&h, &[EVENTS, SESSION]).await;
    let (q, _) = read_question(&mut r).await;
    drop(r);
    // The question is withdrawn once the turn is cancelled (bounded wait).
    let id = q["id"].as_str().unwrap().to_string();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let log = h.get_json("/clawgate/v1/requests").await;
        if log["running"].as_array().unwrap().is_empty() || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(answer(&h, &id, "allow-once").await.status(), 404);
    assert!(!ran(&h, "left"));
    assert_eq!(h.mock.requests().len(), 1, "the turn did not go on");
}

#[tokio::test]
async fn without_the_frames_askfallback_decides_as_before() {
    let h = harness(limits()).await;
    // Streamed without the header, and non-streamed with it: nobody can be asked.
    for (stream, headers) in [(true, vec![SESSION]), (false, vec![EVENTS, SESSION])] {
        script_exec(&h, "touch never");
        let r = h
            .post_with(
                "/v1/chat/completions",
                &Inbound::Chat.body("clawgate/main", "run it", stream),
                &headers,
            )
            .await;
        assert_eq!(r.status(), 200);
        let raw = r.text().await.unwrap();
        assert!(!raw.contains("approval_request"), "{raw}");
        let sent = h.mock.requests().pop().unwrap().body["messages"].to_string();
        assert!(sent.contains("nobody can approve it here"), "{sent}");
        assert!(!ran(&h, "never"));
    }
}

#[tokio::test]
async fn the_endpoint_needs_the_token_and_a_known_decision() {
    let h = harness(limits()).await;
    script_exec(&h, "touch guarded");
    let mut r = turn(&h, &[EVENTS, SESSION]).await;
    let (q, seen) = read_question(&mut r).await;
    let url = h.url(&format!(
        "/clawgate/v1/approvals/{}",
        q["id"].as_str().unwrap()
    ));
    let body = json!({ "decision": "allow-once" });
    let missing = h.http.post(&url).json(&body).send().await.unwrap();
    assert_eq!(missing.status(), 401);
    let wrong = h
        .http
        .post(&url)
        .bearer_auth("nope")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let unknown = h
        .http
        .post(&url)
        .bearer_auth(TOKEN)
        .json(&json!({ "decision": "yes" }))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 400);
    let message = unknown.json::<Value>().await.unwrap()["error"]["message"].to_string();
    assert!(
        message.contains("allow-once") && message.contains("\\\"yes\\\""),
        "{message}"
    );
    let not_json = h
        .http
        .post(&url)
        .bearer_auth(TOKEN)
        .header("content-type", "text/plain")
        .body(r#"{"decision":"allow-once"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(not_json.status(), 415);
    assert_eq!(answer(&h, "no-such-id", "deny").await.status(), 404);
    assert!(!ran(&h, "guarded"), "no refused call answered the question");
    // The question is still open for a proper answer.
    assert_eq!(
        answer(&h, q["id"].as_str().unwrap(), "deny").await.status(),
        200
    );
    read_rest(r, seen).await;
    assert!(!ran(&h, "guarded"));
}

#[tokio::test]
async fn allow_always_on_a_command_with_nothing_to_remember_is_refused() {
    let h = harness(limits()).await;
    script_exec(&h, "touch redirected > out");
    let mut r = turn(&h, &[EVENTS, SESSION]).await;
    let (q, seen) = read_question(&mut r).await;
    assert_eq!(q["patterns"], json!([]));
    let id = q["id"].as_str().unwrap();
    let always = answer(&h, id, "allow-always").await;
    assert_eq!(always.status(), 400);
    assert!(!approvals_file(&h).exists());
    // Still open: allow once runs it.
    assert_eq!(answer(&h, id, "allow-once").await.status(), 200);
    read_rest(r, seen).await;
    assert!(ran(&h, "redirected") && ran(&h, "out"));
}
