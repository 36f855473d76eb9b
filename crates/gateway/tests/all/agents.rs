//! Agent targets: `clawgate/<agentId>` runs an agent turn (through the router, on the mock
//! upstream) and delivers only its final text; sessions continue by `user` or header. The
//! default agent offers `write` and `edit`, so these gateways have a token (see
//! `hardening.rs` for the token-less refusal).

use serde_json::Value;

use crate::support::{Harness, Inbound, Setup, parse_sse, response_text, stream_text};

async fn agent_harness() -> Harness {
    Harness::with(Setup {
        token: Some("gw-agent-token-3456".into()),
        ..Setup::default()
    })
    .await
}

#[tokio::test]
async fn an_agent_target_runs_a_turn_and_answers_in_the_dialect() {
    let h = agent_harness().await;
    let r = h
        .post(
            "/v1/chat/completions",
            &Inbound::Chat.body("clawgate/main", "hello agent", false),
        )
        .await;
    let status = r.status();
    let headers = r.headers().clone();
    let body: Value = r.json().await.unwrap();
    assert_eq!(status, 200, "{body}");
    assert_eq!(headers["x-clawgate-agent"], "main");
    assert_eq!(headers["x-clawgate-model"], "chatup/mock-model");
    assert_eq!(body["model"], "clawgate/main");
    let text = response_text(Inbound::Chat, &body);
    assert!(text.contains("hello agent"), "{text}");
    // The upstream saw the agent's own request (its tools), not the client's.
    let upstream = h.mock.requests().pop().unwrap();
    let tools = upstream.body["tools"].to_string();
    assert!(tools.contains("\"read\""), "{}", upstream.body);
}

#[tokio::test]
async fn agent_answers_stream_final_text_only() {
    let h = agent_harness().await;
    h.mock
        .push_script(mock_upstream::Script::default().with_reasoning("secret thoughts"));
    let r = h
        .post(
            "/v1/messages",
            &Inbound::Messages.body("openclaw", "stream please", true),
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-clawgate-agent"], "main");
    let raw = r.text().await.unwrap();
    let events = parse_sse(&raw);
    assert_eq!(
        events.last().unwrap().event.as_deref(),
        Some("message_stop"),
        "{raw}"
    );
    assert!(
        stream_text(Inbound::Messages, &events).contains("stream please"),
        "{raw}"
    );
    assert!(
        !raw.contains("secret thoughts"),
        "no reasoning from agents: {raw}"
    );
    assert!(!raw.contains("thinking"), "{raw}");
}

#[tokio::test]
async fn the_user_field_continues_one_session() {
    let h = agent_harness().await;
    for prompt in ["first message", "second message"] {
        let mut body = Inbound::Chat.body("agent:main", prompt, false);
        body["user"] = "alice".into();
        let r = h.post("/v1/chat/completions", &body).await;
        assert_eq!(r.status(), 200);
    }
    let last = h.mock.requests().pop().unwrap();
    let sent = last.body["messages"].to_string();
    assert!(
        sent.contains("first message") && sent.contains("second message"),
        "{sent}"
    );

    // Without `user` or a session header, every request is a fresh session.
    let r = h
        .post(
            "/v1/chat/completions",
            &Inbound::Chat.body("clawgate", "third message", false),
        )
        .await;
    assert_eq!(r.status(), 200);
    let sent = h.mock.requests().pop().unwrap().body["messages"].to_string();
    assert!(!sent.contains("first message"), "{sent}");

    // The session header picks alice's session up again.
    let r = h
        .http
        .post(h.url("/v1/chat/completions"))
        .bearer_auth(h.token.as_deref().unwrap())
        .header("x-clawgate-session-key", "http:user:alice")
        .json(&Inbound::Chat.body("clawgate/main", "fourth message", false))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let sent = h.mock.requests().pop().unwrap().body["messages"].to_string();
    assert!(
        sent.contains("first message") && sent.contains("fourth message"),
        "{sent}"
    );
}

/// Issue 17 item 6: requests without a session header or `user` are stateless (a fresh
/// session each, as OpenClaw's HTTP endpoints do), and `session.maintenance` keeps the index
/// and the transcripts bounded instead of growing with every request.
#[tokio::test]
async fn header_less_requests_do_not_grow_the_session_state_without_bound() {
    let h = Harness::with(Setup {
        token: Some("gw-agent-token-3456".into()),
        extra_root: r#"session: { maintenance: { mode: "enforce", maxEntries: 3 } },"#.into(),
        ..Setup::default()
    })
    .await;
    for i in 0..12 {
        let r = h
            .post(
                "/v1/chat/completions",
                &Inbound::Chat.body("clawgate/main", &format!("request {i}"), false),
            )
            .await;
        assert_eq!(r.status(), 200);
    }
    let sessions = h.dir.path().join("state/agents/main/sessions");
    let count = || {
        let index = clawgate_agent::SessionStore::new(&sessions, false)
            .load()
            .unwrap()
            .len();
        let transcripts = std::fs::read_dir(&sessions)
            .unwrap()
            .filter_map(Result::ok)
            .filter(|e| {
                let n = e.file_name().to_string_lossy().into_owned();
                n.ends_with(".jsonl") && n != "sessions.journal.jsonl"
            })
            .count();
        (index, transcripts)
    };
    // Maintenance runs on the writer thread after a new session: wait for it (bounded).
    let mut seen = count();
    for _ in 0..200 {
        if seen.0 <= 4 && seen.1 <= 4 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        seen = count();
    }
    // At most maxEntries plus the high-water slack of one (OpenClaw's batching for small caps).
    assert!(
        seen.0 <= 4 && seen.1 <= 4,
        "index rows, transcripts: {seen:?}"
    );
}

/// A session key longer than 512 bytes is a 400 in the dialect's shape; 512 bytes is fine.
#[tokio::test]
async fn an_oversized_session_key_is_a_bad_request() {
    let h = agent_harness().await;
    let send = |key: String| {
        h.http
            .post(h.url("/v1/chat/completions"))
            .bearer_auth(h.token.as_deref().unwrap())
            .header("x-clawgate-session-key", key)
            .json(&Inbound::Chat.body("clawgate/main", "hi", false))
            .send()
    };
    let r = send("k".repeat(513)).await.unwrap();
    assert_eq!(r.status(), 400);
    let body: Value = r.json().await.unwrap();
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("at most 512"), "{body}");
    assert_eq!(h.mock.requests().len(), 0, "nothing reached the upstream");
    let r = send("k".repeat(512)).await.unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn exec_through_the_gateway_is_refused_with_a_tool_error() {
    let h = Harness::with(Setup {
        token: Some("gw-agent-token-3456".into()),
        extra_root: r#"tools: { profile: "coding" },"#.into(),
        ..Setup::default()
    })
    .await;
    h.mock
        .push_script(mock_upstream::Script::default().with_tool_call(
            "exec",
            serde_json::json!({ "command": "touch gateway-ran" }),
        ));
    let r = h
        .post(
            "/v1/chat/completions",
            &Inbound::Chat.body("clawgate/main", "run it", false),
        )
        .await;
    assert_eq!(r.status(), 200);
    // Nobody can answer an approval question over HTTP: the model gets the refusal as the
    // tool result, and nothing ran.
    let upstream = h.mock.requests().pop().unwrap();
    let sent = upstream.body["messages"].to_string();
    assert!(sent.contains("nobody can approve it here"), "{sent}");
    assert!(sent.contains("exec-approvals.json"), "{sent}");
    assert!(!h.dir.path().join("workspace/gateway-ran").exists());
}
