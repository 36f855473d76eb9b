//! `GatewayOptions::on_idle`: once requests stop, the hook runs on the thread of every event
//! loop (where that loop's allocator cache lives), once per quiet spell, and not while a
//! request is in flight.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use mock_upstream::Script;

use crate::support::{Harness, Inbound, MODEL, Setup};

/// Names of the threads the hook ran on, one entry per run.
type Runs = Arc<Mutex<Vec<String>>>;

fn runs_of(runs: &Runs) -> Vec<String> {
    runs.lock().unwrap().clone()
}

#[tokio::test(flavor = "current_thread")]
async fn the_hook_runs_on_every_event_loop_once_the_gateway_goes_quiet() {
    let _lanes = crate::support::LANE_THREADS.lock().await;
    let runs: Runs = Arc::default();
    let recorded = runs.clone();
    let h = Harness::with(Setup {
        lanes: 2,
        on_idle: Some(Arc::new(move || {
            let name = std::thread::current().name().unwrap_or("?").to_string();
            recorded.lock().unwrap().push(name);
        })),
        ..Setup::default()
    })
    .await;
    // Nothing served yet: nothing to give back.
    tokio::time::sleep(Duration::from_millis(1300)).await;
    assert_eq!(runs_of(&runs), Vec::<String>::new());

    // Requests on fresh connections, so both loops accept some.
    let url = h.url("/v1/chat/completions");
    let body = Inbound::Chat.body(&format!("chatup/{MODEL}"), "hi", false);
    for _ in 0..16 {
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(0)
            .build()
            .unwrap();
        let r = client.post(&url).json(&body).send().await.unwrap();
        assert_eq!(r.status(), 200);
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while runs_of(&runs).len() < 2 && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut threads = runs_of(&runs);
    threads.sort();
    // The test's own runtime is the first loop; the second is the gateway's thread.
    assert_eq!(threads.len(), 2, "{threads:?}");
    assert!(
        threads.contains(&"clawgate-lane-1".to_string()),
        "{threads:?}"
    );

    // A quiet gateway stays released: no run per check.
    tokio::time::sleep(Duration::from_millis(1300)).await;
    assert_eq!(runs_of(&runs).len(), 2);
}

#[tokio::test(flavor = "current_thread")]
async fn the_hook_waits_while_a_stream_is_in_flight() {
    let runs: Runs = Arc::default();
    let recorded = runs.clone();
    let h = Harness::with(Setup {
        on_idle: Some(Arc::new(move || {
            recorded.lock().unwrap().push("run".into());
        })),
        ..Setup::default()
    })
    .await;
    h.mock.push_script(Script {
        chunks: Some(10),
        chunk_interval_ms: Some(150),
        ..Script::default()
    });
    let body = Inbound::Chat.body(&format!("chatup/{MODEL}"), "a slow one", true);
    let r = h
        .http
        .post(h.url("/v1/chat/completions"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // The stream's chunks take well over a second; no release while it runs.
    let mut stream = r.bytes_stream();
    let started = std::time::Instant::now();
    use futures::StreamExt;
    while let Some(chunk) = stream.next().await {
        chunk.unwrap();
        if started.elapsed() < Duration::from_millis(1200) {
            assert_eq!(runs_of(&runs), Vec::<String>::new());
        }
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while runs_of(&runs).is_empty() && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(runs_of(&runs).len(), 1);
}

#[tokio::test(flavor = "current_thread")]
async fn a_quiet_gateway_closes_its_idle_upstream_connections() {
    // No hook from a binary: closing connections is the gateway's own.
    let h = Harness::start().await;
    let body = Inbound::Chat.body(&format!("chatup/{MODEL}"), "hi", false);
    for _ in 0..3 {
        let r = h.post("/v1/chat/completions", &body).await;
        assert_eq!(r.status(), 200);
    }
    // Back to back, the calls share one pooled connection, which stays open after them...
    assert_eq!(h.mock.connection_count(), 1);
    assert_eq!(h.mock.open_connections(), 1);
    // ...until the gateway goes quiet (the pool would keep it for 90 s).
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while h.mock.open_connections() > 0 && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        h.mock.open_connections(),
        0,
        "the idle connection is closed"
    );
    // The next call opens a new one.
    let r = h.post("/v1/chat/completions", &body).await;
    assert_eq!(r.status(), 200);
    assert_eq!(h.mock.connection_count(), 2);
}
