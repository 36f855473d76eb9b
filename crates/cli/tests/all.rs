//! CLI tests: the real `clawgate` binary on temp configs, with HOME and the state dir inside a
//! temp dir so nothing outside it can be read or written.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod all {
    mod agent_cmds;
    #[cfg(feature = "embedded")]
    mod agent_embedded;
    mod config_cmds;
    mod dashboard_cmd;
    mod failover_support;
    #[cfg(feature = "embedded")]
    mod gateway_embedded_settings;
    #[cfg(feature = "embedded")]
    mod gateway_embedded_tools;
    pub mod harness;
    mod models_cmds;
    mod models_status;
    mod models_test_chain;
    mod openclaw_install;
    mod readme_examples;
    mod sessions_cmds;
    mod upstream_proxy;
    mod writes;
}
