//! Failures a router must be able to classify: overflow, a missing model file, a model this
//! engine does not serve, a request it cannot honour.

use clawgate_engine::{EngineModelSpec, LlamaCppProvider};
use clawgate_providers::{CallContext, FailureKind, Provider};

use crate::common::{MODEL_ID, TEST_CTX, request, run, shared_provider};

#[tokio::test]
async fn prompt_larger_than_the_context_is_a_context_overflow() {
    let long_prompt = "apple banana cherry ".repeat(300);
    let result = shared_provider()
        .stream(request(&long_prompt, 8), CallContext::default())
        .await;
    let err = result.err().expect("an overflowing prompt was accepted");
    let FailureKind::ContextOverflow { requested, limit } = err.kind else {
        panic!("wrong kind: {:?} ({})", err.kind, err.message);
    };
    assert_eq!(limit, Some(u64::from(TEST_CTX)));
    assert!(requested.unwrap() > u64::from(TEST_CTX), "{requested:?}");
    // The engine is still fine afterwards.
    assert!(
        !run(shared_provider(), request("Hello", 2))
            .await
            .text
            .is_empty()
    );
}

#[tokio::test]
async fn missing_model_file_is_model_not_found_at_call_time() {
    let provider = LlamaCppProvider::new(
        "embedded",
        EngineModelSpec::new(MODEL_ID, "/nonexistent/clawgate/missing.gguf"),
    );
    let err = provider
        .stream(request("Hi", 4), CallContext::default())
        .await
        .err()
        .expect("a missing model answered");
    assert_eq!(err.kind, FailureKind::ModelNotFound);
    assert!(err.message.contains("missing.gguf"), "{}", err.message);
    assert_eq!(
        provider.list_models().await.unwrap_err().kind,
        FailureKind::ModelNotFound
    );
    assert_eq!(
        provider.warm().await.unwrap_err().kind,
        FailureKind::ModelNotFound
    );
}

#[tokio::test]
async fn a_file_that_is_not_gguf_is_a_server_error() {
    let dir = std::env::temp_dir().join(format!("clawgate-engine-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("not-a-model.gguf");
    std::fs::write(&path, b"this is not a GGUF file").unwrap();
    let provider = LlamaCppProvider::new("embedded", EngineModelSpec::new(MODEL_ID, &path));
    let err = provider
        .stream(request("Hi", 4), CallContext::default())
        .await
        .err()
        .expect("a corrupt model answered");
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(err.kind, FailureKind::ServerError, "{}", err.message);
    assert!(err.message.contains("not-a-model.gguf"));
}

#[tokio::test]
async fn another_model_id_is_model_not_found() {
    let mut req = request("Hi", 4);
    req.model = "llama-3-70b".into();
    let err = shared_provider()
        .stream(req, CallContext::default())
        .await
        .err()
        .expect("served a model it does not have");
    assert_eq!(err.kind, FailureKind::ModelNotFound);
}
