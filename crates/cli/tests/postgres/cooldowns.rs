//! Replica A meets a refused upstream; B and C learn of the cooldown through the database and
//! make no attempt on it while it lasts; after it ends all three use it again.

use mock_upstream::{MockConfig, MockServer, Script};

use super::replicas::{answer, db, eventually, three_on};

const PRIMARY: &str = "answer from the gpu box";
const FALLBACK: &str = "answer from the fallback";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cooldown_met_on_one_replica_is_honoured_by_the_others_until_it_ends() {
    let db = db();
    let fallback = MockServer::start(MockConfig::default().script(Script::text(FALLBACK))).await;
    // The gpu box's port, with nothing listening yet: connections are refused.
    let gpu_addr = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    let gpu_url = format!("http://{gpu_addr}/v1");
    let [a, b, c] = three_on(&db, &gpu_url, &fallback.openai_base_url(), 30).await;

    let (status, body) = a.chat("local/mock-model", None, "hello").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(answer(&body), FALLBACK, "A fell back after the refusal");

    for replica in [&b, &c] {
        eventually(
            &format!("replica {} sees the cooldown", replica.name),
            || async {
                replica
                    .metric("clawgate_provider_cooling_down{provider=\"local\"}")
                    .await
                    == Some(1.0)
            },
        )
        .await;
    }
    // The box is back, but B and C still hold the cooldown A recorded: they do not try it.
    let gpu = MockServer::start(
        MockConfig::default()
            .bind(gpu_addr)
            .script(Script::text(PRIMARY)),
    )
    .await;
    for replica in [&b, &c, &b, &c] {
        let (status, body) = replica.chat("local/mock-model", None, "hi").await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(
            answer(&body),
            FALLBACK,
            "replica {} skipped the box",
            replica.name
        );
    }
    assert_eq!(
        gpu.request_count(),
        0,
        "B and C made no attempt during the cooldown"
    );
    let cooled = [&a, &b, &c];

    for replica in cooled {
        eventually(
            &format!("the cooldown ends on {}", replica.name),
            || async {
                replica
                    .metric("clawgate_provider_cooling_down{provider=\"local\"}")
                    .await
                    == Some(0.0)
            },
        )
        .await;
    }
    let before = gpu.request_count();
    for replica in cooled {
        let (status, body) = replica.chat("local/mock-model", None, "again").await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(
            answer(&body),
            PRIMARY,
            "replica {} is back on the box",
            replica.name
        );
    }
    assert_eq!(gpu.request_count() - before, 3);
}
