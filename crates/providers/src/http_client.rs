//! The one HTTP client every adapter shares: rustls, keep-alive pooling, HTTP/1.1, no global
//! timeout (each attempt gets its own from `CallContext`, and a streaming body must be allowed
//! to run as long as the router lets it). Cloning is cheap and shares the pool.
//!
//! Upstream URLs are parsed once and kept ([`HttpClient::post`]): handing reqwest the text made
//! it parse the URL (IDNA host processing included) on every call, 3.5% of the gateway's CPU
//! per request in the profile of `BENCHMARKS.md`.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use reqwest::Url;

use crate::build::ProviderBuildError;

/// How long an idle pooled connection is kept (local servers reuse it across turns).
const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(90);
/// Idle connections kept per host.
const POOL_MAX_IDLE_PER_HOST: usize = 16;
/// TCP keepalive probes, so a dead peer on a long stream is noticed by the OS.
const TCP_KEEPALIVE: Duration = Duration::from_secs(30);
/// Parsed URLs kept; past this many (URLs built from request data) the rest are parsed per
/// call, as before.
const PARSED_URLS_MAX: usize = 1024;

/// A shared `reqwest::Client` configured for upstream calls.
#[derive(Clone, Debug)]
pub struct HttpClient {
    inner: reqwest::Client,
    /// Upstream URL text → its parse (shared by the clones).
    parsed_urls: Arc<RwLock<HashMap<String, Url>>>,
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
        Ok(Self::from_reqwest(inner))
    }

    /// Wrap an existing client (tests, or a caller that needs a proxy or custom CA).
    pub fn from_reqwest(inner: reqwest::Client) -> Self {
        Self {
            inner,
            parsed_urls: Arc::default(),
        }
    }

    /// `POST url`, with the URL parsed once per distinct text. A URL that does not parse is
    /// handed to reqwest as text, which reports it when the request is sent (as before).
    pub fn post(&self, url: &str) -> reqwest::RequestBuilder {
        match self.parsed(url) {
            Some(parsed) => self.inner.post(parsed),
            None => self.inner.post(url),
        }
    }

    fn parsed(&self, url: &str) -> Option<Url> {
        let known = self
            .parsed_urls
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .get(url)
            .cloned();
        if known.is_some() {
            return known;
        }
        let parsed = Url::parse(url).ok()?;
        let mut urls = self
            .parsed_urls
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if urls.len() < PARSED_URLS_MAX {
            urls.insert(url.to_string(), parsed.clone());
        }
        Some(parsed)
    }

    pub fn reqwest(&self) -> &reqwest::Client {
        &self.inner
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn kept(client: &HttpClient) -> usize {
        client.parsed_urls.read().unwrap().len()
    }

    #[test]
    fn post_parses_each_url_once_and_sends_it_unchanged() {
        let client = HttpClient::from_reqwest(reqwest::Client::new());
        let url = "http://127.0.0.1:9/v1/chat/completions?key=x";
        let first = client.post(url).build().unwrap();
        assert_eq!(first.url().as_str(), url);
        assert_eq!(kept(&client), 1);
        let again = client.clone().post(url).build().unwrap();
        assert_eq!(again.url().as_str(), url);
        assert_eq!(kept(&client), 1, "the clone shares the parsed URL");
        // what reqwest refuses is still refused, when the request is built
        assert!(client.post("not a url").build().is_err());
        assert!(client.post("data:text/plain,hi").build().is_err());
        assert_eq!(kept(&client), 2, "only URLs that parse are kept");
    }
}
