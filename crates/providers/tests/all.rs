//! Integration tests of the adapters against `mock-upstream` on loopback (one test binary).

#[path = "all/support.rs"]
mod support;

#[path = "all/anthropic.rs"]
mod anthropic;
#[path = "all/chat.rs"]
mod chat;
#[path = "all/discovery.rs"]
mod discovery;
#[path = "all/faults.rs"]
mod faults;
#[path = "all/local_answers.rs"]
mod local_answers;
#[path = "all/local_recovery.rs"]
mod local_recovery;
#[path = "all/ollama.rs"]
mod ollama;
#[path = "all/overflow.rs"]
mod overflow;
#[path = "all/params.rs"]
mod params;
#[path = "all/recorded.rs"]
mod recorded;
#[path = "all/responses.rs"]
mod responses;
#[path = "all/secrets.rs"]
mod secrets;
#[path = "all/transport.rs"]
mod transport;
