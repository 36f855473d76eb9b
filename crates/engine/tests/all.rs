//! Integration tests of the embedded engine on the real demo model (gemma-3 270M base,
//! Q4_K_M). The model comes from `CLAWGATE_DEMO_GGUF`, else
//! `$CLAWGATE_STATE_DIR/models/gemma-3-270m-q4_k_m.gguf` (state dir default `~/.clawgate`);
//! `scripts/fetch-demo-model` puts it there. A missing model fails the tests, it never skips
//! them. Built only with `--features llama`.
//!
//! The model is an untuned base model: tests assert behaviour (determinism, event order,
//! limits, errors, cancellation), never the content of its answers.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "all/common.rs"]
mod common;
#[path = "all/errors.rs"]
mod errors;
#[path = "all/generation.rs"]
mod generation;
#[path = "all/gguf_patch.rs"]
mod gguf_patch;
#[path = "all/lifecycle.rs"]
mod lifecycle;
#[path = "all/settings.rs"]
mod settings;
#[path = "all/templates.rs"]
mod templates;
#[path = "all/tools.rs"]
mod tools;
