//! The outermost middleware: what the HTTP layer itself refuses, in the dialect of the path,
//! and the browser checks (`browser_guard`: `Host` and `Origin`) before anything else runs.
//! One middleware rather than two: each `from_fn` layer costs every request a clone of the
//! service below it and a future of its own.
//!
//! - **The request head limit** (`RequestLimits::max_header_bytes`, 64 KiB by default) is
//!   checked here, exactly, on the head as parsed: the request line and each header counted as
//!   `name: value\r\n`. Past it the answer is 431 in the dialect's shape. hyper cannot shape
//!   its own 431, so the server gives hyper a hard cap of twice the limit
//!   (`http1::Builder::max_header_size`): a head beyond that gets hyper's bare 431 and the
//!   connection is closed before the head is even buffered whole.
//! - **Answers the stack made on its own** (axum's 405 for a wrong method, the 413 of
//!   tower-http's body limit for a declared `Content-Length` past the limit, any other bodiless
//!   or plain-text error) get the dialect's error body: they are recognised by an error status
//!   without a JSON or SSE content type, and keep their other headers (`Allow`).

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use std::sync::Arc;

use crate::browser_guard;
use crate::dialect::{ApiError, Dialect};
use crate::error_response::error_response;
use crate::server::AppState;

/// The size of `request`'s head as a client writes it: `METHOD URI VERSION\r\n`, then
/// `name: value\r\n` per header, then `\r\n`.
pub(crate) fn head_size(request: &Request) -> usize {
    let line = request.method().as_str().len() + 1 + written_len(request.uri()) + 1 + 8 + 2;
    let headers: usize = request
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + 2 + value.len() + 2)
        .sum();
    line + headers + 2
}

/// How long `value` is written out, without writing it anywhere.
fn written_len(value: &impl std::fmt::Display) -> usize {
    struct Count(usize);
    impl std::fmt::Write for Count {
        fn write_str(&mut self, text: &str) -> std::fmt::Result {
            self.0 += text.len();
            Ok(())
        }
    }
    let mut count = Count(0);
    let _ = std::fmt::write(&mut count, format_args!("{value}"));
    count.0
}

fn is_shaped(response: &Response) -> bool {
    let Some(content_type) = response.headers().get(header::CONTENT_TYPE) else {
        return false;
    };
    let value = content_type.as_bytes();
    value.starts_with(b"application/json") || value.starts_with(b"text/event-stream")
}

/// The dialect-shaped error for a bare answer of `status`.
fn shaped_error(status: StatusCode, limits_body: usize) -> ApiError {
    match status.as_u16() {
        405 => ApiError::method_not_allowed("this endpoint does not take that HTTP method"),
        413 => ApiError::too_large(format!("request body exceeds {limits_body} bytes")),
        415 => ApiError::unsupported_media_type("send the body as Content-Type: application/json"),
        431 => ApiError::header_too_large("the request head is too large"),
        404 => ApiError::not_found("not_found", "no such endpoint"),
        code => ApiError::http_status(
            code,
            status
                .canonical_reason()
                .unwrap_or("the request was refused")
                .to_string(),
        ),
    }
}

pub(crate) async fn http_edge(
    State(state): State<Arc<AppState>>,
    request: Request,
    next: Next,
) -> Response {
    let dialect = Dialect::for_path(request.uri().path());
    let limit = state.limits.max_header_bytes;
    let size = head_size(&request);
    if size > limit {
        return error_response(
            dialect,
            &ApiError::header_too_large(format!(
                "the request head is {size} bytes; the limit is {limit} bytes"
            )),
        );
    }
    if let Err(error) = browser_guard::check(&state, &request) {
        return error_response(dialect, &error);
    }
    let response = next.run(request).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) || is_shaped(&response) {
        return response;
    }
    let (mut parts, _) = response.into_parts();
    let shaped = error_response(dialect, &shaped_error(status, state.limits.max_body_bytes));
    let (shaped_parts, body) = shaped.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    for (name, value) in &shaped_parts.headers {
        parts.headers.insert(name, value.clone());
    }
    parts
        .headers
        .entry(header::CONTENT_TYPE)
        .or_insert(HeaderValue::from_static("application/json"));
    Response::from_parts(parts, body)
}
