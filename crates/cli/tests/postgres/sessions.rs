//! Agent sessions across replicas: one session continued round-robin has one transcript;
//! two replicas racing on a session serialise; a replica killed mid-turn blocks the session
//! no longer than the lease and loses nothing committed.

use std::time::Duration;

use mock_upstream::{MockConfig, MockServer, Script};
use serde_json::Value;

use super::replicas::{db, three};

const AGENT: &str = "clawgate/main";

/// The user texts of one recorded upstream request, in order.
fn user_texts(body: &Value) -> Vec<String> {
    body["messages"]
        .as_array()
        .map(|messages| {
            messages
                .iter()
                .filter(|m| m["role"] == "user")
                .map(|m| match &m["content"] {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect()
        })
        .unwrap_or_default()
}

fn mentions(texts: &[String], needle: &str) -> bool {
    texts.iter().any(|t| t.contains(needle))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_continued_round_robin_has_one_transcript() {
    let db = db();
    let gpu = MockServer::start(MockConfig::default().script(Script::text("noted"))).await;
    let fallback = MockServer::start(MockConfig::default()).await;
    let replicas = three(&db, &gpu, &fallback, 30).await;
    for turn in 1..=6 {
        let replica = &replicas[(turn - 1) % 3];
        let (status, body) = replica
            .chat(AGENT, Some("shared"), &format!("turn {turn}"))
            .await;
        assert_eq!(status, 200, "turn {turn} on {}: {body}", replica.name);
    }
    let requests = gpu.requests();
    let last = user_texts(&requests.last().unwrap().body);
    for turn in 1..=6 {
        assert!(
            mentions(&last, &format!("turn {turn}")),
            "turn {turn} in {last:?}"
        );
    }
    let order: Vec<usize> = (1..=6)
        .map(|t| {
            last.iter()
                .position(|m| m.contains(&format!("turn {t}")))
                .unwrap()
        })
        .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "in order: {last:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_racing_on_one_session_serialise() {
    let db = db();
    let gpu = MockServer::start(
        MockConfig::default()
            .script(Script::text("slow answer"))
            .latency(Duration::from_millis(400)),
    )
    .await;
    let fallback = MockServer::start(MockConfig::default()).await;
    let [a, b, _c] = three(&db, &gpu, &fallback, 30).await;
    let (first, second) = tokio::join!(
        a.chat(AGENT, Some("race"), "from a"),
        b.chat(AGENT, Some("race"), "from b"),
    );
    assert_eq!(first.0, 200, "{}", first.1);
    assert_eq!(second.0, 200, "{}", second.1);
    let requests = gpu.requests();
    assert_eq!(requests.len(), 2);
    let earlier = user_texts(&requests[0].body);
    let later = user_texts(&requests[1].body);
    assert_eq!(
        earlier.len(),
        1,
        "the first turn saw only its own message: {earlier:?}"
    );
    assert_eq!(
        later.len(),
        2,
        "the second saw the whole first turn: {later:?}"
    );
    let roles: Vec<&str> = requests[1].body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["role"].as_str())
        .filter(|r| *r != "system")
        .collect();
    assert_eq!(roles, ["user", "assistant", "user"], "no interleaving");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_killed_mid_turn_frees_the_session_after_the_lease() {
    let db = db();
    let gpu = MockServer::start(MockConfig::default().script(Script::text("recovered"))).await;
    let fallback = MockServer::start(MockConfig::default()).await;
    let [mut a, b, _c] = three(&db, &gpu, &fallback, 2).await;
    // A's turn reaches the model, which never answers; A dies there.
    gpu.push_script(Script::fault(mock_upstream::Fault::HangBeforeHeaders));
    let url = a.url("/v1/chat/completions");
    let turn = tokio::spawn(async move {
        super::replicas::client()
            .post(url)
            .bearer_auth(super::replicas::TOKEN)
            .header("x-clawgate-session-key", "crash")
            .json(&serde_json::json!({
                "model": AGENT,
                "messages": [{ "role": "user", "content": "committed before the crash" }],
            }))
            .send()
            .await
    });
    super::replicas::eventually("A's turn reaches the model", || async {
        gpu.request_count() == 1
    })
    .await;
    a.kill();
    assert!(turn.await.unwrap().is_err(), "A died mid-turn");
    let (status, body) = b.chat(AGENT, Some("crash"), "after the crash").await;
    assert_eq!(status, 200, "{body}");
    let texts = user_texts(&gpu.requests().last().unwrap().body);
    assert!(
        mentions(&texts, "committed before the crash"),
        "the user message A committed is kept: {texts:?}"
    );
    assert!(mentions(&texts, "after the crash"));
}
