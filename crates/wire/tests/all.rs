//! The crate's one integration-test binary (links once): golden fixtures per dialect,
//! property round trips, codec behaviour checks.

// Test code: a failed expectation is a test failure, which is what `expect` reports.
#![allow(clippy::expect_used, clippy::unwrap_used)]

#[path = "all/support.rs"]
mod support;

#[path = "all/codecs.rs"]
mod codecs;
#[path = "all/collect.rs"]
mod collect;
#[path = "all/golden.rs"]
mod golden;
#[path = "all/ollama_serving.rs"]
mod ollama_serving;
#[path = "all/roundtrip_requests.rs"]
mod roundtrip_requests;
#[path = "all/roundtrip_streams.rs"]
mod roundtrip_streams;
