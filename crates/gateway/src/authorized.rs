//! An extractor for handlers that only need to know the caller may use the gateway: it loads
//! the current services and runs `authorize` once, so a read-only endpoint is its own logic
//! and nothing else. A refusal answers in the error shape of the path's dialect.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::response::Response;
use clawgate_runtime::Services;

use crate::dialect::Dialect;
use crate::error_response::error_response;
use crate::http_api::authorize;
use crate::server::AppState;

/// The address the request came from; the listening address for a request that did not come
/// through the listener (an in-process caller of the router).
pub(crate) fn peer_of(parts: &Parts, state: &AppState) -> SocketAddr {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(state.addr, |c| c.0)
}

/// The services a request was authorized against.
pub(crate) struct Authorized(pub Arc<Services>);

impl FromRequestParts<Arc<AppState>> for Authorized {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        let peer = peer_of(parts, state);
        let services = state.services.load_full();
        match authorize(state, &services, peer, &parts.headers) {
            Ok(()) => Ok(Authorized(services)),
            Err(error) => Err(error_response(Dialect::for_path(parts.uri.path()), &error)),
        }
    }
}
