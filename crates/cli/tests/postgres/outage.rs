//! PostgreSQL stopped and restarted under load: routed requests keep being answered from the
//! replicas' last view, `/readyz` and `/metrics` say degraded, an agent turn is refused with a
//! clear 503, and everything recovers by itself; a turn committed before the outage is kept.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use mock_upstream::{MockConfig, MockServer, Script};

use super::replicas::{db, eventually, three};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn routed_calls_survive_a_database_restart_and_readiness_recovers() {
    let mut db = db();
    let gpu = MockServer::start(MockConfig::default().script(Script::text("ok"))).await;
    let fallback = MockServer::start(MockConfig::default()).await;
    let replicas = Arc::new(three(&db, &gpu, &fallback, 30).await);
    let (status, body) = replicas[0]
        .chat("clawgate/main", Some("kept"), "before the outage")
        .await;
    assert_eq!(status, 200, "{body}");
    for replica in replicas.iter() {
        assert_eq!(replica.readiness().await, "ready");
        assert_eq!(
            replica
                .metric("clawgate_state_store_up{backend=\"postgres\"}")
                .await,
            Some(1.0)
        );
    }

    let stop = Arc::new(AtomicBool::new(false));
    let (sent, failed) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let load = {
        let (replicas, stop, sent, failed) =
            (replicas.clone(), stop.clone(), sent.clone(), failed.clone());
        tokio::spawn(async move {
            let mut n = 0usize;
            let mut failures = Vec::new();
            while !stop.load(Ordering::SeqCst) {
                let replica = &replicas[n % 3];
                let (status, body) = replica.chat("local/mock-model", None, "load").await;
                sent.fetch_add(1, Ordering::SeqCst);
                if status != 200 {
                    failed.fetch_add(1, Ordering::SeqCst);
                    failures.push(format!("{}: {status} {body}", replica.name));
                }
                n += 1;
            }
            failures
        })
    };

    eventually("the load runs", || async {
        sent.load(Ordering::SeqCst) > 0
    })
    .await;
    tokio::task::block_in_place(|| db.cluster.stop().unwrap());
    let at_stop = sent.load(Ordering::SeqCst);
    for replica in replicas.iter() {
        eventually(&format!("{} reports degraded", replica.name), || async {
            replica.readiness().await == "degraded"
        })
        .await;
        assert_eq!(
            replica
                .metric("clawgate_state_store_up{backend=\"postgres\"}")
                .await,
            Some(0.0)
        );
    }
    let (status, body) = replicas[1]
        .chat("clawgate/main", Some("kept"), "during")
        .await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["error"]["code"], "state_unavailable", "{body}");
    let during = sent.load(Ordering::SeqCst);
    assert!(
        during > at_stop,
        "routed calls were served while the database was down"
    );

    tokio::task::block_in_place(|| db.cluster.resume().unwrap());
    for replica in replicas.iter() {
        eventually(&format!("{} is ready again", replica.name), || async {
            replica.readiness().await == "ready"
        })
        .await;
    }
    eventually("routed calls continue after the restart", || async {
        sent.load(Ordering::SeqCst) > during + 3
    })
    .await;
    stop.store(true, Ordering::SeqCst);
    let failures = load.await.unwrap();
    assert!(sent.load(Ordering::SeqCst) > 0);
    assert_eq!(failed.load(Ordering::SeqCst), 0, "{failures:?}");

    let before = gpu.request_count();
    let (status, body) = replicas[2]
        .chat("clawgate/main", Some("kept"), "after")
        .await;
    assert_eq!(status, 200, "{body}");
    let last = &gpu.requests()[(gpu.request_count() - 1) as usize];
    assert!(gpu.request_count() > before);
    let text = last.body.to_string();
    assert!(
        text.contains("before the outage"),
        "the committed turn is kept: {text}"
    );
    assert!(
        !text.contains("during"),
        "the refused turn left nothing: {text}"
    );
}
