//! Keeps web pages from driving the gateway. A page the user visits can send a "simple"
//! cross-site POST without a preflight, and through DNS rebinding (a name of the attacker's that
//! resolves to 127.0.0.1) can even read the answer. Two checks run before any handler (in
//! `http_layer`'s middleware, the outermost):
//!
//! - **Host**: on a loopback bind (and on any bind once `gateway.allowedHosts` is set) the
//!   `Host` must be a loopback name (`localhost`, `*.localhost`, `127.x.x.x`, `[::1]`, any port)
//!   or one of `gateway.allowedHosts`. A rebinding page sends its own name and is refused.
//! - **Origin**: a request carrying `Origin` (browsers send it on every cross-origin request
//!   and on same-origin POSTs) is served only when it is the gateway's own origin (the same
//!   host and port as `Host`, so the future web UI at `/` works) or one CORS allows
//!   (`--cors-origin`, `gateway.controlUi.allowedOrigins`; `*` for any). Requests without
//!   `Origin` (SDKs, curl) are not browser requests and pass.
//!
//! Both refusals are 403 in the dialect of the path. The CORS answer headers themselves come
//! from tower-http's `CorsLayer`, whose origin predicate is [`cors_allows`], so a reload that
//! changes `allowedOrigins` takes effect at once. The content-type rule (only
//! `application/json` bodies) is in `http_api`.

use std::net::IpAddr;

use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, header};

use crate::dialect::ApiError;
use crate::server::AppState;

/// An origin as configured or sent, for comparison: lower-case, no trailing `/`.
pub(crate) fn normalize_origin(origin: &str) -> String {
    origin.trim().trim_end_matches('/').to_ascii_lowercase()
}

/// `(host, port)` of a `Host` value (`name`, `name:port`, `[v6]:port`), host lower-cased and
/// without a trailing dot. `None` when it does not parse.
fn split_host(value: &str) -> Option<(String, Option<u16>)> {
    let value = value.trim();
    let (host, port) = if let Some(rest) = value.strip_prefix('[') {
        let (inside, after) = rest.split_once(']')?;
        let port = match after.strip_prefix(':') {
            Some(p) => Some(p.parse().ok()?),
            None if after.is_empty() => None,
            None => return None,
        };
        (format!("[{inside}]"), port)
    } else {
        match value.rsplit_once(':') {
            Some((name, p)) => (name.to_string(), Some(p.parse().ok()?)),
            None => (value.to_string(), None),
        }
    };
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    (!host.is_empty()).then_some((host, port))
}

fn is_loopback_name(host: &str) -> bool {
    if host == "localhost" || host.ends_with(".localhost") {
        return true;
    }
    let literal = host.trim_start_matches('[').trim_end_matches(']');
    literal.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// True when `host` (a `Host` value) may reach this gateway.
fn host_allowed(value: &str, allowed: &[String]) -> bool {
    let Some((host, port)) = split_host(value) else {
        return false;
    };
    if is_loopback_name(&host) {
        return true;
    }
    allowed.iter().any(|entry| match split_host(entry) {
        Some((name, None)) => name == host,
        Some((name, Some(p))) => name == host && port == Some(p),
        None => false,
    })
}

/// True when `origin` is the origin of a page served from `host` (scheme's default port when
/// either side omits it).
fn same_origin(origin: &str, host: &str) -> bool {
    let Ok(url) = url::Url::parse(origin) else {
        return false;
    };
    let (Some(origin_host), Some(origin_port)) = (url.host_str(), url.port_or_known_default())
    else {
        return false;
    };
    let Some((host, port)) = split_host(host) else {
        return false;
    };
    let default = match url.scheme() {
        "https" => 443,
        _ => 80,
    };
    origin_host
        .trim_end_matches('.')
        .eq_ignore_ascii_case(&host)
        && origin_port == port.unwrap_or(default)
}

/// True when CORS lets `origin` in: listed on the command line or in
/// `gateway.controlUi.allowedOrigins`, or either list holds `*`.
pub(crate) fn cors_allows(state: &AppState, origin: &str) -> bool {
    let origin = normalize_origin(origin);
    let services = state.services.load();
    let configured = &services.config().gateway.control_ui.allowed_origins;
    state
        .cors_origins
        .iter()
        .chain(configured.iter())
        .any(|allowed| allowed == "*" || normalize_origin(allowed) == origin)
}

/// The request's host: its `Host` header (the URI's authority for absolute-form requests).
fn request_host(request: &Request) -> Option<String> {
    if let Some(value) = request.headers().get(header::HOST) {
        return Some(String::from_utf8_lossy(value.as_bytes()).into_owned());
    }
    request.uri().authority().map(|a| a.as_str().to_string())
}

fn origin_of(headers: &HeaderMap) -> Option<&HeaderValue> {
    headers.get(header::ORIGIN)
}

/// The checks of the module docs (run by `http_layer`'s middleware before anything else).
pub(crate) fn check(state: &AppState, request: &Request) -> Result<(), ApiError> {
    let host = request_host(request);
    let allowed_hosts = {
        let services = state.services.load();
        services.config().gateway.allowed_hosts.clone()
    };
    if let Some(host) = &host
        && (state.loopback_bind || !allowed_hosts.is_empty())
        && !host_allowed(host, &allowed_hosts)
    {
        tracing::warn!(host = %host, "refused a request for a host name this gateway does not serve");
        return Err(ApiError::forbidden(
            "host_not_allowed",
            format!(
                "Host \"{host}\" is not served here: this gateway answers only loopback names \
                 (localhost, 127.0.0.1, [::1]) and gateway.allowedHosts. This guards against DNS \
                 rebinding; behind a reverse proxy, add its public name to gateway.allowedHosts"
            ),
        ));
    }
    let Some(origin) = origin_of(request.headers()) else {
        return Ok(());
    };
    let origin = String::from_utf8_lossy(origin.as_bytes()).into_owned();
    let own = host.as_deref().is_some_and(|h| same_origin(&origin, h));
    if own || cors_allows(state, &origin) {
        return Ok(());
    }
    tracing::warn!(origin = %origin, "refused a browser request from another origin");
    Err(ApiError::forbidden(
        "origin_not_allowed",
        format!(
            "requests from the web page origin \"{origin}\" are not allowed: list it in \
             gateway.controlUi.allowedOrigins (or --cors-origin) to let that page use this gateway"
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_host_names_pass_and_others_need_listing() {
        for host in [
            "localhost",
            "localhost:18789",
            "LOCALHOST.:18789",
            "app.localhost:3000",
            "127.0.0.1",
            "127.0.0.1:18789",
            "127.1.2.3:80",
            "[::1]",
            "[::1]:18789",
        ] {
            assert!(host_allowed(host, &[]), "{host}");
        }
        for host in [
            "evil.example:18789",
            "evil.example",
            "localhost.evil.example",
            "10.0.0.5:18789",
            "[::2]:18789",
            "127.0.0.1:notaport",
            "",
        ] {
            assert!(!host_allowed(host, &[]), "{host}");
        }
        let allowed = vec![
            "clawgate.example.com".to_string(),
            "proxy.example:8443".to_string(),
        ];
        assert!(host_allowed("clawgate.example.com", &allowed));
        assert!(host_allowed("Clawgate.Example.com:443", &allowed));
        assert!(host_allowed("proxy.example:8443", &allowed));
        assert!(!host_allowed("proxy.example:9000", &allowed));
        assert!(!host_allowed("evil.example", &allowed));
    }

    #[test]
    fn same_origin_compares_host_and_port() {
        assert!(same_origin("http://127.0.0.1:18789", "127.0.0.1:18789"));
        assert!(same_origin("http://localhost", "localhost"));
        assert!(same_origin("http://localhost", "localhost:80"));
        assert!(same_origin("https://proxy.example", "proxy.example"));
        assert!(same_origin("http://[::1]:18789", "[::1]:18789"));
        assert!(!same_origin("http://localhost:5173", "localhost:18789"));
        assert!(!same_origin("http://evil.example:18789", "127.0.0.1:18789"));
        assert!(!same_origin("null", "127.0.0.1:18789"));
    }
}
