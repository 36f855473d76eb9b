//! Integration tests for mock-upstream: every dialect streamed and not, every fault mode,
//! the listings, the control API and the binary, all observed with reqwest on loopback.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "all/support.rs"]
mod support;

#[path = "all/anthropic.rs"]
mod anthropic;
#[path = "all/binary.rs"]
mod binary;
#[path = "all/chat.rs"]
mod chat;
#[path = "all/control.rs"]
mod control;
#[path = "all/faults.rs"]
mod faults;
#[path = "all/held_faults.rs"]
mod held_faults;
#[path = "all/listings.rs"]
mod listings;
#[path = "all/local_quirks.rs"]
mod local_quirks;
#[path = "all/ollama.rs"]
mod ollama;
#[path = "all/overflow.rs"]
mod overflow;
#[path = "all/responses.rs"]
mod responses;
