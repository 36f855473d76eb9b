//! The one HTTP client every adapter shares: rustls, keep-alive pooling, HTTP/1.1, no global
//! timeout (each attempt gets its own from `CallContext`, and a streaming body must be allowed
//! to run as long as the router lets it). Cloning is cheap and shares the pool.

use std::time::Duration;

use crate::build::ProviderBuildError;

/// How long an idle pooled connection is kept (local servers reuse it across turns).
const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(90);
/// Idle connections kept per host.
const POOL_MAX_IDLE_PER_HOST: usize = 16;
/// TCP keepalive probes, so a dead peer on a long stream is noticed by the OS.
const TCP_KEEPALIVE: Duration = Duration::from_secs(30);

/// A shared `reqwest::Client` configured for upstream calls.
#[derive(Clone, Debug)]
pub struct HttpClient {
    inner: reqwest::Client,
}

impl HttpClient {
    /// Build the shared client. Fails only if the TLS backend cannot initialise.
    pub fn new() -> Result<Self, ProviderBuildError> {
        let inner = reqwest::Client::builder()
            .use_rustls_tls()
            .http1_only()
            .pool_idle_timeout(POOL_IDLE_TIMEOUT)
            .pool_max_idle_per_host(POOL_MAX_IDLE_PER_HOST)
            .tcp_nodelay(true)
            .tcp_keepalive(TCP_KEEPALIVE)
            .user_agent(concat!("clawgate/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ProviderBuildError::HttpClient(e.to_string()))?;
        Ok(Self { inner })
    }

    /// Wrap an existing client (tests, or a caller that needs a proxy or custom CA).
    pub fn from_reqwest(inner: reqwest::Client) -> Self {
        Self { inner }
    }

    pub fn reqwest(&self) -> &reqwest::Client {
        &self.inner
    }
}
