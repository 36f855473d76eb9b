//! Graceful shutdown: a stream in flight finishes, new connections are refused afterwards.

use std::time::Duration;

use clawgate_gateway::Gateway;
use mock_upstream::{MockServer, Script};

use crate::support::{Harness, Inbound, MODEL, Setup, parse_sse, stream_text};

/// Starts a slow stream, shuts the gateway down while it runs, and checks the stream still
/// ends whole.
async fn a_stream_finishes_across_shutdown(
    mock: &MockServer,
    gateway: Gateway,
    http: &reqwest::Client,
    url: &str,
) {
    mock.push_script(Script {
        chunks: Some(10),
        chunk_interval_ms: Some(30),
        ..Script::default()
    });
    let response = http
        .post(url)
        .json(&Inbound::Chat.body(&format!("chatup/{MODEL}"), "finish me", true))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let (body, ()) = tokio::join!(response.text(), gateway.shutdown());
    let events = parse_sse(&body.unwrap());
    assert_eq!(events.last().unwrap().data, "[DONE]");
    assert_eq!(
        stream_text(Inbound::Chat, &events),
        "mock answer to: finish me"
    );
}

#[tokio::test]
async fn in_flight_streams_finish_on_shutdown() {
    let Harness {
        mock,
        gateway,
        dir,
        http,
        ..
    } = Harness::start().await;
    let _keep = dir;
    let url = format!("http://{}/v1/chat/completions", gateway.local_addr());
    a_stream_finishes_across_shutdown(&mock, gateway, &http, &url).await;
    let after = http
        .post(&url)
        .json(&Inbound::Chat.body(&format!("chatup/{MODEL}"), "too late", false))
        .send()
        .await;
    assert!(after.is_err(), "no new requests after shutdown");
}

/// Threads of this process named `clawgate-lane-*` (the gateway's extra event loops).
fn lane_threads() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter_map(|task| std::fs::read_to_string(task.ok()?.path().join("comm")).ok())
        .map(|name| name.trim().to_string())
        .filter(|name| name.starts_with("clawgate-lane-"))
        .collect();
    names.sort();
    names
}

/// Three event loops (`--workers 3`): connections on any of them answer, streamed or not, a
/// stream in flight finishes on shutdown, and the loops' threads end after it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_event_loop_serves_and_ends_on_shutdown() {
    let _lanes = crate::support::LANE_THREADS.lock().await;
    let Harness {
        mock, gateway, dir, ..
    } = Harness::with(Setup {
        lanes: 3,
        ..Setup::default()
    })
    .await;
    let _keep = dir;
    // A thread takes its name once it runs.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while lane_threads().len() < 2 && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(lane_threads(), ["clawgate-lane-1", "clawgate-lane-2"]);
    let url = format!("http://{}/v1/chat/completions", gateway.local_addr());
    // A new connection per request (no pooling), so the loops race to accept them.
    let fresh = || {
        reqwest::Client::builder()
            .pool_max_idle_per_host(0)
            .timeout(Duration::from_secs(20))
            .build()
            .unwrap()
    };
    let calls = (0..24).map(|i| {
        let (url, client) = (url.clone(), fresh());
        async move {
            let stream = i % 2 == 0;
            let prompt = format!("call {i}");
            let body = Inbound::Chat.body(&format!("chatup/{MODEL}"), &prompt, stream);
            let response = client.post(&url).json(&body).send().await.unwrap();
            assert_eq!(response.status(), 200, "call {i}");
            let text = response.text().await.unwrap();
            let answer = if stream {
                stream_text(Inbound::Chat, &parse_sse(&text))
            } else {
                crate::support::response_text(Inbound::Chat, &serde_json::from_str(&text).unwrap())
            };
            assert_eq!(answer, format!("mock answer to: {prompt}"), "call {i}");
        }
    });
    futures::future::join_all(calls).await;
    a_stream_finishes_across_shutdown(&mock, gateway, &fresh(), &url).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while !lane_threads().is_empty() && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        lane_threads(),
        Vec::<String>::new(),
        "the loops' threads ended"
    );
}

/// A gateway dropped without `shutdown` stops accepting, and its event loops' threads end.
#[tokio::test]
async fn a_dropped_gateway_stops_its_event_loops() {
    let _lanes = crate::support::LANE_THREADS.lock().await;
    let h = Harness::with(Setup {
        lanes: 2,
        ..Setup::default()
    })
    .await;
    let addr = h.gateway.local_addr();
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while lane_threads().is_empty() && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(lane_threads(), ["clawgate-lane-1"]);
    drop(h);
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while !lane_threads().is_empty() && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(lane_threads(), Vec::<String>::new());
    // Nothing accepts on the port any more (the test's own loop ended with the drop too).
    tokio::time::sleep(Duration::from_millis(50)).await;
    let connected = tokio::net::TcpStream::connect(addr).await;
    assert!(connected.is_err(), "{connected:?}");
}
