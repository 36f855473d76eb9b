//! The one HTTP client every adapter shares: keep-alive pooling, HTTP/1.1, no global timeout
//! (each attempt gets its own from `CallContext`, and a streaming body must be allowed to run
//! as long as the router lets it). Cloning is cheap and shares the pools.
//!
//! Two engines under one interface ([`HttpClient::post_json`], [`UpstreamResponse`],
//! [`TransportError`]). Plain-`http://` upstreams (the local servers clawgate is for) are
//! called through hyper's pooled client directly: reqwest's per-request work (its request
//! and response wrappers, header merging, redirect bookkeeping) cost the gateway about 20 µs
//! of CPU per call (`BENCHMARKS.md`, "Second pass"). What reqwest does and the direct path
//! does not stays with reqwest: `https://` upstreams (rustls, its root store), credentials in
//! the URL (basic auth), every call when a proxy is configured in the environment
//! (`HTTP_PROXY`, `ALL_PROXY`, which reqwest honours), and discovery and other calls off the
//! request path ([`HttpClient::reqwest`]).
//!
//! The direct path keeps one connection pool per thread: a pooled connection is served by a
//! task on the runtime that opened it, so a request from another thread (another event loop
//! of the gateway) would hand every read and write across threads. A thread's pool can be
//! dropped ([`HttpClient::close_idle_connections`]): the gateway does so when it goes quiet,
//! so an idle gateway holds no sockets, buffers or connection tasks for a burst long over.
//!
//! Upstream URLs are parsed once and kept ([`crate::parsed_url`]).

use std::cell::RefCell;
use std::ffi::OsString;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use futures::stream::BoxStream;
use http_body_util::{BodyDataStream, BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use reqwest::StatusCode;
use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderMap, HeaderValue, USER_AGENT};
use thread_local::ThreadLocal;

use crate::build::ProviderBuildError;

/// How long an idle pooled connection is kept (local servers reuse it across turns).
const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(90);
/// Idle connections kept per host.
const POOL_MAX_IDLE_PER_HOST: usize = 16;
/// TCP keepalive probes, so a dead peer on a long stream is noticed by the OS.
const TCP_KEEPALIVE: Duration = Duration::from_secs(30);
/// Sent with every upstream call, by either engine.
const USER_AGENT_VALUE: &str = concat!("clawgate/", env!("CARGO_PKG_VERSION"));
/// Proxy variables reqwest reads for `http://` URLs; with any of them set, plain-HTTP calls go
/// through reqwest so the proxy is used.
const HTTP_PROXY_VARS: [&str; 4] = ["http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"];

type PlainClient = HyperClient<HttpConnector, Full<Bytes>>;

/// The shared upstream client.
#[derive(Clone, Debug)]
pub struct HttpClient {
    inner: reqwest::Client,
    /// Plain-HTTP calls without a proxy, one pool per thread (`None` in a thread's slot: not
    /// opened yet, or closed while idle); `None`: every call goes through reqwest.
    plain: Option<Arc<ThreadLocal<RefCell<Option<PlainClient>>>>>,
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
            .user_agent(USER_AGENT_VALUE)
            .build()
            .map_err(|e| ProviderBuildError::HttpClient(e.to_string()))?;
        let proxied = proxy_configured(|name| std::env::var_os(name));
        Ok(Self {
            inner,
            plain: (!proxied).then(Arc::default),
        })
    }

    /// Wrap an existing client (tests, or a caller that needs a proxy or custom CA): every
    /// call goes through it.
    pub fn from_reqwest(inner: reqwest::Client) -> Self {
        Self { inner, plain: None }
    }

    /// `POST url` with a JSON body (`content-type: application/json` unless `headers` name
    /// one). A URL that does not parse is handed to reqwest, which reports it.
    pub async fn post_json(
        &self,
        url: &str,
        mut headers: HeaderMap,
        body: Vec<u8>,
    ) -> Result<UpstreamResponse, TransportError> {
        headers
            .entry(CONTENT_TYPE)
            .or_insert(HeaderValue::from_static("application/json"));
        let parsed = crate::parsed_url::parse(url);
        let direct = self
            .plain
            .as_ref()
            .zip(parsed.as_ref().and_then(direct_uri));
        let parsed = match (direct, parsed) {
            (Some((pools, uri)), Some(parsed)) => {
                headers
                    .entry(USER_AGENT)
                    .or_insert(HeaderValue::from_static(USER_AGENT_VALUE));
                headers
                    .entry(ACCEPT)
                    .or_insert(HeaderValue::from_static("*/*"));
                let mut request = hyper::Request::new(Full::new(Bytes::from(body)));
                *request.method_mut() = hyper::Method::POST;
                *request.uri_mut() = uri;
                *request.headers_mut() = headers;
                // The borrow ends before the await: the call's future owns what it needs.
                let call = pools
                    .get_or_default()
                    .borrow_mut()
                    .get_or_insert_with(plain_client)
                    .request(request);
                return match call.await {
                    Ok(response) => Ok(UpstreamResponse(Answer::Direct(response, parsed))),
                    Err(error) => Err(TransportError::send(parsed, error)),
                };
            }
            (_, parsed) => parsed,
        };
        let builder = match parsed {
            Some(parsed) => self.inner.post(reqwest::Url::clone(&parsed)),
            None => self.inner.post(url),
        };
        let response = builder
            .headers(headers)
            .body(body)
            .send()
            .await
            .map_err(TransportError::from)?;
        Ok(UpstreamResponse(Answer::Reqwest(response)))
    }

    /// The reqwest client, for calls off the request path (discovery, probes).
    pub fn reqwest(&self) -> &reqwest::Client {
        &self.inner
    }

    /// Closes this thread's idle pooled connections to plain-`http://` upstreams, and frees
    /// their buffers. A call still running on this thread keeps its connection until it ends,
    /// then closes it; the next call opens a new pool. reqwest's shared pool (`https://`,
    /// proxied calls) is left alone: closing it would take every thread's connections.
    pub fn close_idle_connections(&self) {
        if let Some(slot) = self.plain.as_ref().and_then(|pools| pools.get()) {
            slot.borrow_mut().take();
        }
    }

    /// Whether plain-`http://` calls take the direct path (no proxy configured).
    pub fn calls_plain_http_directly(&self) -> bool {
        self.plain.is_some()
    }
}

/// The URI for the direct path: plain `http://` without credentials (reqwest sends those as
/// basic auth).
fn direct_uri(url: &Arc<reqwest::Url>) -> Option<hyper::Uri> {
    let plain = url.scheme() == "http" && url.username().is_empty() && url.password().is_none();
    plain
        .then(|| hyper::Uri::try_from(url.as_str()).ok())
        .flatten()
}

fn plain_client() -> PlainClient {
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    connector.set_keepalive(Some(TCP_KEEPALIVE));
    HyperClient::builder(TokioExecutor::new())
        .pool_idle_timeout(POOL_IDLE_TIMEOUT)
        .pool_max_idle_per_host(POOL_MAX_IDLE_PER_HOST)
        .pool_timer(TokioTimer::new())
        .build(connector)
}

/// Whether the environment names a proxy for `http://` URLs (`var`: the environment).
fn proxy_configured(var: impl Fn(&str) -> Option<OsString>) -> bool {
    HTTP_PROXY_VARS
        .iter()
        .any(|name| var(name).is_some_and(|value| !value.is_empty()))
}

/// An upstream's answer: status, headers, and a body still to be read.
#[derive(Debug)]
pub struct UpstreamResponse(Answer);

#[derive(Debug)]
enum Answer {
    Direct(hyper::Response<Incoming>, Arc<reqwest::Url>),
    Reqwest(reqwest::Response),
}

impl UpstreamResponse {
    pub fn status(&self) -> StatusCode {
        match &self.0 {
            Answer::Direct(response, _) => response.status(),
            Answer::Reqwest(response) => response.status(),
        }
    }

    pub fn headers(&self) -> &HeaderMap {
        match &self.0 {
            Answer::Direct(response, _) => response.headers(),
            Answer::Reqwest(response) => response.headers(),
        }
    }

    /// The body, chunk by chunk as it arrives.
    pub fn bytes_stream(self) -> BoxStream<'static, Result<Bytes, TransportError>> {
        match self.0 {
            Answer::Direct(response, url) => BodyDataStream::new(response.into_body())
                .map(move |chunk| chunk.map_err(|error| TransportError::body(url.clone(), error)))
                .boxed(),
            Answer::Reqwest(response) => response
                .bytes_stream()
                .map(|chunk| chunk.map_err(TransportError::from))
                .boxed(),
        }
    }

    /// The whole body.
    pub async fn bytes(self) -> Result<Bytes, TransportError> {
        match self.0 {
            Answer::Direct(response, url) => response
                .into_body()
                .collect()
                .await
                .map(|body| body.to_bytes())
                .map_err(|error| TransportError::body(url, error)),
            Answer::Reqwest(response) => response.bytes().await.map_err(TransportError::from),
        }
    }
}

/// A failed exchange with an upstream: connecting, sending, or reading the answer. It names
/// the URL, as reqwest's errors do (messages redact it, see `classify_transport_error`).
/// Boxed: it travels in every body chunk's `Result`.
#[derive(Debug)]
pub struct TransportError(Box<Failure>);

#[derive(Debug)]
enum Failure {
    Reqwest(reqwest::Error),
    /// The direct path: connect, send, or the response head.
    Send {
        url: Arc<reqwest::Url>,
        error: hyper_util::client::legacy::Error,
    },
    /// The direct path: reading the body.
    Body {
        url: Arc<reqwest::Url>,
        error: hyper::Error,
    },
}

impl TransportError {
    fn send(url: Arc<reqwest::Url>, error: hyper_util::client::legacy::Error) -> Self {
        Self(Box::new(Failure::Send { url, error }))
    }

    fn body(url: Arc<reqwest::Url>, error: hyper::Error) -> Self {
        Self(Box::new(Failure::Body { url, error }))
    }

    pub fn is_timeout(&self) -> bool {
        matches!(&*self.0, Failure::Reqwest(e) if e.is_timeout())
    }

    /// The URL the error names, to be redacted from messages.
    pub fn url(&self) -> Option<&reqwest::Url> {
        match &*self.0 {
            Failure::Reqwest(e) => e.url(),
            Failure::Send { url, .. } | Failure::Body { url, .. } => Some(url.as_ref()),
        }
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &*self.0 {
            Failure::Reqwest(e) => fmt::Display::fmt(e, f),
            Failure::Send { url, .. } => write!(f, "error sending request for url ({url})"),
            Failure::Body { url, .. } => {
                write!(f, "error reading the response body from url ({url})")
            }
        }
    }
}

impl std::error::Error for TransportError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &*self.0 {
            Failure::Reqwest(e) => e.source(),
            Failure::Send { error, .. } => Some(error),
            Failure::Body { error, .. } => Some(error),
        }
    }
}

impl From<reqwest::Error> for TransportError {
    fn from(error: reqwest::Error) -> Self {
        Self(Box::new(Failure::Reqwest(error)))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_proxy_in_the_environment_turns_the_direct_path_off() {
        let env = |set: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                set.iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, v)| OsString::from(v))
            }
        };
        assert!(!proxy_configured(env(&[])));
        assert!(!proxy_configured(env(&[("HTTPS_PROXY", "http://p:3128")])));
        assert!(!proxy_configured(env(&[("HTTP_PROXY", "")])));
        for name in HTTP_PROXY_VARS {
            let set: &'static [(&'static str, &'static str)] = match name {
                "http_proxy" => &[("http_proxy", "http://p:3128")],
                "HTTP_PROXY" => &[("HTTP_PROXY", "http://p:3128")],
                "all_proxy" => &[("all_proxy", "socks5://p:1080")],
                _ => &[("ALL_PROXY", "socks5://p:1080")],
            };
            assert!(proxy_configured(env(set)), "{name}");
        }
        assert!(!HttpClient::from_reqwest(reqwest::Client::new()).calls_plain_http_directly());
    }
}
