//! Graceful shutdown: a stream in flight finishes, new connections are refused afterwards.

use mock_upstream::Script;

use crate::support::{Harness, Inbound, MODEL, parse_sse, stream_text};

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
    mock.push_script(Script {
        chunks: Some(10),
        chunk_interval_ms: Some(30),
        ..Script::default()
    });
    let url = format!("http://{}/v1/chat/completions", gateway.local_addr());
    let response = http
        .post(&url)
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
    let after = http
        .post(&url)
        .json(&Inbound::Chat.body(&format!("chatup/{MODEL}"), "too late", false))
        .send()
        .await;
    assert!(after.is_err(), "no new requests after shutdown");
}
