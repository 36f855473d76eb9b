//! The Control UI page: `GET /` and its assets under `/ui/`, compiled into the binary from
//! `crates/gateway/ui/` with `include_bytes!` (a handful of small hand-written files, so a
//! plain `cargo build` needs no Node and no embed crate, and the page works offline).
//!
//! The page holds no secret: it asks for the gateway token and sends it on its API calls like
//! any client, so serving it needs no token. What protects it: a strict Content-Security-Policy
//! (only this origin's scripts, styles and connections; no inline script or style, no frames,
//! no forms posting elsewhere, no remote images), `X-Content-Type-Options: nosniff`,
//! `Referrer-Policy: no-referrer`, and on a loopback listener the router's `browser_guard`
//! refusal when `Host` is not a loopback name, so a DNS-rebinding page cannot load it under its
//! own origin.

use std::sync::Arc;

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::server::AppState;

/// The page's Content-Security-Policy.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; \
     form-action 'none'; frame-ancestors 'none'";

/// One compiled-in file.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    bytes: &'static [u8],
}

macro_rules! asset {
    ($name:literal, $type:expr) => {
        Asset {
            name: $name,
            content_type: $type,
            bytes: include_bytes!(concat!("../ui/", $name)),
        }
    };
}

const JS: &str = "text/javascript; charset=utf-8";

/// Every file of the page (`index.html` is served at `/`).
const ASSETS: &[Asset] = &[
    asset!("index.html", "text/html; charset=utf-8"),
    asset!("app.css", "text/css; charset=utf-8"),
    asset!("app.js", JS),
    asset!("api.js", JS),
    asset!("dom.js", JS),
    asset!("markdown.js", JS),
    asset!("sse.js", JS),
    asset!("chat.js", JS),
    asset!("chat_render.js", JS),
    asset!("approval.js", JS),
    asset!("sessions.js", JS),
    asset!("models.js", JS),
    asset!("requests.js", JS),
    asset!("config.js", JS),
    asset!("favicon.svg", "image/svg+xml"),
];

/// Names and bytes of the compiled-in files.
#[cfg(test)]
fn assets() -> impl Iterator<Item = (&'static str, &'static [u8])> {
    ASSETS.iter().map(|a| (a.name, a.bytes))
}

pub(crate) fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/", get(index))
        .route("/ui/{name}", get(asset))
}

fn harden(headers: &mut HeaderMap) {
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    headers.insert(
        "cross-origin-resource-policy",
        HeaderValue::from_static("same-origin"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
}

fn serve(name: &str) -> Response {
    let Some(asset) = ASSETS.iter().find(|a| a.name == name) else {
        let mut response = (StatusCode::NOT_FOUND, "no such file\n").into_response();
        harden(response.headers_mut());
        return response;
    };
    let mut response = (StatusCode::OK, asset.bytes).into_response();
    let out = response.headers_mut();
    out.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(asset.content_type),
    );
    harden(out);
    response
}

async fn index() -> Response {
    serve("index.html")
}

async fn asset(Path(name): Path<String>) -> Response {
    // `/ui/index.html` is the page too; only `/` is linked.
    serve(&name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_asset_the_page_links_is_compiled_in() {
        let index = std::str::from_utf8(ASSETS[0].bytes).unwrap();
        for (name, bytes) in assets() {
            assert!(!bytes.is_empty(), "{name} is empty");
        }
        let names: Vec<&str> = assets().map(|(n, _)| n).collect();
        for linked in index.split("/ui/").skip(1) {
            let name: String = linked
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '.' || *c == '_')
                .collect();
            assert!(
                names.contains(&name.as_str()),
                "{name} is linked but not served"
            );
        }
        // Modules import each other by relative path.
        for (name, bytes) in assets().filter(|(n, _)| n.ends_with(".js")) {
            let text = std::str::from_utf8(bytes).unwrap();
            for import in text.split("from \"./").skip(1) {
                let file = import.split('"').next().unwrap();
                assert!(
                    names.contains(&file),
                    "{name} imports {file}, which is not served"
                );
            }
        }
    }

    #[test]
    fn no_inline_script_or_style_in_the_page() {
        let index = std::str::from_utf8(ASSETS[0].bytes).unwrap();
        assert!(!index.contains("<script>"), "inline script");
        assert!(!index.contains("style="), "inline style");
        assert!(!index.contains("<style"), "inline style");
        // No inline event handler attribute (` onclick=`, ` onload=` ...).
        for (at, _) in index.match_indices(" on") {
            let attribute: String = index[at + 1..]
                .chars()
                .take_while(|c| c.is_ascii_alphabetic())
                .collect();
            let next = index[at + 1 + attribute.len()..].chars().next();
            assert!(next != Some('='), "inline handler {attribute}");
        }
        for (name, bytes) in assets().filter(|(n, _)| n.ends_with(".js")) {
            let text = std::str::from_utf8(bytes).unwrap();
            assert!(!text.contains("innerHTML"), "{name} writes HTML");
            assert!(!text.contains("outerHTML"), "{name} writes HTML");
            assert!(!text.contains("insertAdjacentHTML"), "{name} writes HTML");
            assert!(!text.contains("eval("), "{name} evaluates code");
        }
    }
}
