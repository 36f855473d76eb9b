//! The engine over time: lazy load and warm-up, discovery, cancellation, queueing.

use std::sync::{Arc, Mutex};

use clawgate_engine::{LoadObserver, ModelInfo, TemplateSource};
use clawgate_providers::{CallContext, Provider};
use clawgate_wire::{Event, StopReason};
use futures::StreamExt;

use crate::common::{MODEL_ID, TEST_CTX, fresh_provider, request, run, shared_provider};

#[derive(Default)]
struct RecordingObserver {
    log: Mutex<Vec<String>>,
}

impl LoadObserver for RecordingObserver {
    fn on_load_start(&self, path: &std::path::Path) {
        self.log
            .lock()
            .unwrap()
            .push(format!("start {}", path.display()));
    }
    fn on_load_progress(&self, fraction: f32) {
        self.log
            .lock()
            .unwrap()
            .push(format!("progress {fraction:.2}"));
    }
    fn on_load_done(&self, result: Result<&ModelInfo, &str>) {
        let line = match result {
            Ok(info) => format!("done {}", info.architecture),
            Err(err) => format!("failed {err}"),
        };
        self.log.lock().unwrap().push(line);
    }
}

#[tokio::test]
async fn lazy_load_discovery_and_warm() {
    let observer = Arc::new(RecordingObserver::default());
    let provider = fresh_provider().with_load_observer(observer.clone());

    // Before loading: discovery reads the window from the spec and says "not loaded".
    let before = provider.list_models().await.unwrap();
    assert_eq!(before.len(), 1);
    assert_eq!(before[0].id, MODEL_ID);
    assert_eq!(before[0].loaded, Some(false));
    assert_eq!(before[0].context_window, Some(u64::from(TEST_CTX)));
    assert!(provider.model_info().is_none());
    assert!(
        observer.log.lock().unwrap().is_empty(),
        "discovery must not load the model"
    );

    let info = provider.warm().await.unwrap();
    assert_eq!(info.architecture, "gemma3");
    assert_eq!(info.context_window, TEST_CTX);
    assert_eq!(info.train_context_window, 32768);
    assert_eq!(info.threads, 1);
    // The demo GGUF has no chat template and is not chat-tuned: the base-model transcript.
    assert_eq!(info.template, TemplateSource::Transcript);
    assert!(info.base_model);

    let after = provider.list_models().await.unwrap();
    assert_eq!(after[0].loaded, Some(true));
    assert_eq!(provider.warm().await.unwrap(), info);
    assert_eq!(provider.stats().loads, 1, "warm twice must load once");

    let log = observer.log.lock().unwrap().clone();
    assert!(log.first().unwrap().starts_with("start "), "{log:?}");
    assert_eq!(log.last().unwrap(), "done gemma3");
    assert!(log.iter().any(|l| l == "progress 1.00"), "{log:?}");
}

#[tokio::test]
async fn discovery_reads_the_window_from_the_gguf_header() {
    let mut spec = crate::common::demo_spec();
    spec.context_window = None;
    let provider = clawgate_engine::LlamaCppProvider::new("embedded", spec);
    let models = provider.list_models().await.unwrap();
    assert_eq!(models[0].context_window, Some(32768));
    assert_eq!(models[0].loaded, Some(false));
}

#[tokio::test]
async fn dropping_the_stream_stops_generation_and_frees_the_engine() {
    let provider = fresh_provider();
    let max_tokens = 400;
    let mut stream = provider
        .stream(
            request("Count from one to one thousand.", max_tokens),
            CallContext::default(),
        )
        .await
        .unwrap();
    let first = stream.next().await.unwrap().unwrap();
    assert!(matches!(first, Event::Started { .. }));
    let second = stream.next().await.unwrap().unwrap();
    assert!(matches!(second, Event::TextDelta { .. }), "{second:?}");
    drop(stream);

    // The engine serves one request at a time, so this one only starts once the dropped one
    // has stopped.
    let next = run(&provider, request("Hello", 3)).await;
    assert_eq!(next.stop_reason, StopReason::Length);
    assert_eq!(next.usage.output_tokens, Some(3));

    let stats = provider.stats();
    assert_eq!(stats.requests_cancelled, 1);
    assert_eq!(stats.requests_finished, 1);
    let generated_by_dropped = stats.tokens_generated - 3;
    assert!(generated_by_dropped >= 1);
    // The event buffer is 32 deep: without the cancellation check the dropped request would
    // have run on to its 400 tokens.
    assert!(
        generated_by_dropped < 64,
        "the dropped request generated {generated_by_dropped} tokens"
    );
}

#[tokio::test]
async fn concurrent_requests_queue_and_both_complete_correctly() {
    let provider = shared_provider();
    let prompt_a = "Name three colours.";
    let prompt_b = "Describe a cat in one sentence.";
    let (a, b) = tokio::join!(
        run(provider, request(prompt_a, 16)),
        run(provider, request(prompt_b, 16)),
    );
    // Served one after the other, each gives exactly what it gives alone.
    let alone_a = run(provider, request(prompt_a, 16)).await;
    let alone_b = run(provider, request(prompt_b, 16)).await;
    assert_eq!(a.text, alone_a.text);
    assert_eq!(b.text, alone_b.text);
    assert_ne!(a.text, b.text);
    for out in [&a, &b] {
        assert!(matches!(out.events.last(), Some(Event::Finished { .. })));
    }
}

#[tokio::test]
async fn a_request_abandoned_while_queued_is_skipped() {
    let provider = fresh_provider();
    // A holds the engine: its stream is not read, so the engine waits on A's full buffer.
    let mut a = provider
        .stream(
            request("Tell me a long story about the sea.", 64),
            CallContext::default(),
        )
        .await
        .unwrap();
    assert!(matches!(a.next().await, Some(Ok(Event::Started { .. }))));

    // B is queued behind A (one poll submits it), then its caller gives up.
    let mut b = Box::pin(provider.stream(request("Hello", 4), CallContext::default()));
    assert!(
        futures::poll!(&mut b).is_pending(),
        "B was admitted while A was running"
    );
    drop(b);

    let mut a_finished = false;
    while let Some(event) = a.next().await {
        a_finished |= matches!(event.unwrap(), Event::Finished { .. });
    }
    assert!(a_finished);
    let c = run(&provider, request("Hello", 4)).await;
    assert_eq!(c.usage.output_tokens, Some(4));

    let stats = provider.stats();
    assert_eq!(stats.requests_cancelled, 1, "{stats:?}");
    assert_eq!(stats.requests_started, 2, "{stats:?}");
    assert_eq!(stats.requests_finished, 2, "{stats:?}");
}
