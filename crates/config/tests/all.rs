//! Integration tests of clawgate-config: one binary, modules under `tests/all/`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod all {
    mod agent_tools;
    mod docs_schema;
    mod embedded_default;
    mod engine_params;
    pub mod harness;
    mod includes;
    mod invalid_corpus;
    mod loading;
    mod model_policy;
    mod openclaw_fixtures;
    mod refs;
    mod registry;
    mod secret_refs;
    mod state_section;
    mod valid_configs;
}
