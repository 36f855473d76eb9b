//! clawgate-gateway: the axum server: inbound dialects, auth, limits, metrics.
//!
//! Must not know about: the CLI.
