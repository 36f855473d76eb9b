//! The request log, the script queue (in-process and over HTTP), per-request header scripts,
//! the counters, and shutdown.

use mock_upstream::{Fault, MockConfig, MockServer, SCRIPT_HEADER, Script};
use serde_json::{Value, json};

use crate::support::*;

#[tokio::test]
async fn the_log_keeps_method_path_body_and_masks_credentials() {
    let mock = MockServer::start(MockConfig::default()).await;
    client()
        .post(format!("{}/v1/chat/completions?x=1", mock.base_url()))
        .bearer_auth("sk-secret-abcdef-9876")
        .header("x-api-key", "sk-ant-api-0123456789")
        .header("x-custom", "kept")
        .json(&chat(false))
        .send()
        .await
        .unwrap();
    let log = mock.requests();
    assert_eq!(log.len(), 1);
    let r = &log[0];
    assert_eq!(r.method, "POST");
    assert_eq!(r.path, "/v1/chat/completions");
    assert_eq!(r.query.as_deref(), Some("x=1"));
    assert_eq!(r.body, chat(false));
    assert_eq!(r.header("Authorization"), Some("Bearer ****9876"));
    assert_eq!(r.header("x-api-key"), Some("****6789"));
    assert_eq!(r.header("x-custom"), Some("kept"));

    let (_, over_http) = get_json(&mock, "/__mock/requests").await;
    assert_eq!(over_http[0]["path"], "/v1/chat/completions");
    assert_eq!(
        over_http.as_array().unwrap().len(),
        1,
        "control calls are not logged"
    );
    client()
        .delete(format!("{}/__mock/requests", mock.base_url()))
        .send()
        .await
        .unwrap();
    assert!(mock.requests().is_empty());
}

#[tokio::test]
async fn a_zero_capacity_log_records_nothing_but_still_counts() {
    let mock = MockServer::start(MockConfig::default().request_log_capacity(0)).await;
    post_json(&mock, "/v1/chat/completions", &chat(false)).await;
    assert!(mock.requests().is_empty());
    assert_eq!(mock.request_count(), 1);
}

#[tokio::test]
async fn queued_scripts_apply_in_order_then_defaults_return() {
    let mock = MockServer::start(MockConfig::default()).await;
    mock.push_scripts(Script::fault(Fault::Status503), 2);
    mock.push_script(Script::text("third"));
    let mut statuses = Vec::new();
    for _ in 0..4 {
        let r = post(&mock, "/v1/chat/completions", &chat(false)).await;
        statuses.push(r.status().as_u16());
        if statuses.len() == 3 {
            let body: Value = r.json().await.unwrap();
            assert_eq!(body["choices"][0]["message"]["content"], "third");
        }
    }
    assert_eq!(statuses, vec![503, 503, 200, 200]);
}

#[tokio::test]
async fn when_model_scripts_wait_for_their_model() {
    let mock = MockServer::start(MockConfig::default()).await;
    mock.push_script(Script::fault(Fault::Status500).for_model("other"));
    let (status, _) = post_json(&mock, "/v1/chat/completions", &chat(false)).await;
    assert_eq!(status, 200);
    let mut body = chat(false);
    body["model"] = json!("other");
    let (status, _) = post_json(&mock, "/v1/chat/completions", &body).await;
    assert_eq!(status, 500);
}

#[tokio::test]
async fn the_http_control_api_queues_scripts_with_times() {
    let mock = MockServer::start(MockConfig::default()).await;
    let r: Value = client()
        .post(format!("{}/__mock/script?times=2", mock.base_url()))
        .json(&json!([{"fault": "status_429", "retry_after_secs": 3}, {"text": "after"}]))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["queued"], 4);
    let r = post(&mock, "/v1/messages", &anthropic(false)).await;
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["retry-after"], "3");
    let (_, stats) = get_json(&mock, "/__mock/stats").await;
    assert_eq!(stats["queued_scripts"], 3);
    assert_eq!(stats["requests"], 1);
    assert!(stats["connections"].as_u64().unwrap() >= 1);
    // Open now: at most those accepted, and at least this request's own.
    let open = stats["open_connections"].as_u64().unwrap();
    assert!(
        open >= 1 && open <= stats["connections"].as_u64().unwrap(),
        "{stats}"
    );

    let bad = client()
        .post(format!("{}/__mock/script", mock.base_url()))
        .json(&json!({"fault": "no_such_fault"}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    client()
        .delete(format!("{}/__mock/script", mock.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(mock.queued_scripts(), 0);
}

#[tokio::test]
async fn the_header_script_overrides_queue_and_defaults_for_one_request() {
    let mock = MockServer::start(MockConfig::default().chunks(2)).await;
    mock.push_script(Script::text("queued"));
    let r: Value = client()
        .post(format!("{}/v1/chat/completions", mock.base_url()))
        .header(SCRIPT_HEADER, r#"{"text": "from header", "usage": false}"#)
        .json(&chat(false))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["choices"][0]["message"]["content"], "from header");
    assert!(r.get("usage").is_none());
    assert_eq!(
        mock.queued_scripts(),
        0,
        "the queued script was consumed underneath"
    );

    let bad = client()
        .post(format!("{}/v1/chat/completions", mock.base_url()))
        .header(SCRIPT_HEADER, "{not json")
        .json(&chat(false))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
}

#[tokio::test]
async fn connections_are_counted_and_shutdown_refuses_new_ones() {
    let mock = MockServer::start(MockConfig::default()).await;
    let url = format!("{}/v1/chat/completions", mock.base_url());
    let keep_alive = client();
    for _ in 0..3 {
        keep_alive
            .post(&url)
            .json(&chat(false))
            .send()
            .await
            .unwrap();
    }
    assert_eq!(mock.connection_count(), 1, "one keep-alive connection");
    reqwest::Client::new()
        .post(&url)
        .json(&chat(false))
        .send()
        .await
        .unwrap();
    assert_eq!(mock.connection_count(), 2);
    assert_eq!(mock.request_count(), 4);
    mock.shutdown().await;
    let err = reqwest::Client::new()
        .post(&url)
        .json(&chat(false))
        .send()
        .await
        .unwrap_err();
    assert!(err.is_connect(), "{err:?}");
}

#[tokio::test]
async fn non_json_bodies_get_a_400_in_the_dialect_shape() {
    let mock = MockServer::start(MockConfig::default()).await;
    let r = client()
        .post(format!("{}/v1/messages", mock.base_url()))
        .body("{cut")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["type"], "error");
    assert_eq!(mock.requests()[0].body, Value::Null);
}

#[tokio::test]
async fn many_servers_start_side_by_side() {
    let mut servers = Vec::new();
    for _ in 0..20 {
        servers.push(MockServer::start(MockConfig::default()).await);
    }
    let mut ports: Vec<u16> = servers.iter().map(|s| s.addr().port()).collect();
    ports.sort_unstable();
    ports.dedup();
    assert_eq!(ports.len(), 20);
    let (status, _) = post_json(&servers[19], "/api/chat", &ollama(false)).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn streams_are_counted_as_completed_or_abandoned_by_the_client() {
    let mock = MockServer::start(MockConfig::default()).await;
    let done = post(&mock, "/v1/chat/completions", &chat(true)).await;
    done.text().await.unwrap();
    // A slow stream the client leaves after its first chunk.
    let slow = Script {
        chunks: Some(50),
        chunk_interval_ms: Some(100),
        ..Script::default()
    };
    mock.push_script(slow);
    let mut left = post(&mock, "/v1/chat/completions", &chat(true)).await;
    assert!(left.chunk().await.unwrap().is_some());
    drop(left);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while mock.streams_abandoned() == 0 && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(mock.streams_abandoned(), 1);
    assert_eq!(mock.streams_completed(), 1);
    let (_, stats) = get_json(&mock, "/__mock/stats").await;
    assert_eq!(stats["streams_completed"], 1);
    assert_eq!(stats["streams_abandoned"], 1);
}
