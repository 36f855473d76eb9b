//! How much request body the gateway holds at once, across all requests. Each body is
//! admitted against a global budget of bytes (a tokio `Semaphore` with one permit per byte):
//! a body with a `Content-Length` reserves it whole before a byte is read; a chunked body
//! reserves each chunk as it arrives. The reservation lives until the handler has answered
//! (everything derived from the body — the parsed JSON, the canonical request, the upstream
//! body — is gone by then; a stream gives it back once it has committed). When the budget is
//! spent, a request waits up to `RequestLimits::body_budget_wait` for room (its body stays in
//! the client's socket meanwhile), then gets 503 `overloaded` with `Retry-After: 1`.
//!
//! The size limit of one body is tower-http's `RequestBodyLimitLayer` (413 for a declared
//! `Content-Length` past it, a `LengthLimitError` while reading otherwise); reading here
//! only recognises that error. The bytes are gathered into one contiguous buffer sized from
//! `Content-Length` (one copy; a one-chunk body is not copied at all), which the handler
//! parses once.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderMap, header};
use bytes::{Bytes, BytesMut};
use futures::StreamExt;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::dialect::ApiError;

/// The global budget. Cheap to clone (shared).
#[derive(Debug, Clone)]
pub(crate) struct BodyBudget {
    permits: Arc<Semaphore>,
    total: usize,
    wait: Duration,
}

/// Bytes of the budget held by one request; given back when dropped.
#[derive(Debug, Default)]
pub(crate) struct BodyReservation {
    permit: Option<OwnedSemaphorePermit>,
}

impl BodyReservation {
    fn add(&mut self, permit: OwnedSemaphorePermit) {
        match &mut self.permit {
            Some(held) => held.merge(permit),
            None => self.permit = Some(permit),
        }
    }

    /// Bytes held.
    #[cfg(test)]
    pub fn bytes(&self) -> usize {
        self.permit
            .as_ref()
            .map_or(0, OwnedSemaphorePermit::num_permits)
    }
}

impl BodyBudget {
    /// A budget of `total` bytes (at least one byte); requests wait up to `wait` for room.
    pub fn new(total: usize, wait: Duration) -> Self {
        let total = total.clamp(1, Semaphore::MAX_PERMITS);
        Self {
            permits: Arc::new(Semaphore::new(total)),
            total,
            wait,
        }
    }

    /// Bytes not reserved now.
    #[cfg(test)]
    pub fn available(&self) -> usize {
        self.permits.available_permits()
    }

    /// Reserves `bytes` more for `reservation`, waiting up to the budget's wait.
    async fn reserve(
        &self,
        reservation: &mut BodyReservation,
        bytes: usize,
    ) -> Result<(), ApiError> {
        if bytes == 0 {
            return Ok(());
        }
        let busy = || {
            ApiError::overloaded(format!(
                "the gateway is holding its limit of request bodies ({} bytes) in flight; retry \
                 shortly",
                self.total
            ))
            .with_retry_after(1)
        };
        // A body larger than the whole budget could never be admitted.
        let wanted = u32::try_from(bytes.min(self.total)).unwrap_or(u32::MAX);
        let acquire = self.permits.clone().acquire_many_owned(wanted);
        match tokio::time::timeout(self.wait, acquire).await {
            Ok(Ok(permit)) => {
                reservation.add(permit);
                Ok(())
            }
            Ok(Err(_)) | Err(_) => Err(busy()),
        }
    }
}

fn is_length_limit(error: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = source {
        if e.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        source = e.source();
    }
    false
}

/// Reads `body` within `budget`. `limit` is only for the 413 message (the body-limit layer
/// enforces it).
pub(crate) async fn read_body(
    headers: &HeaderMap,
    body: Body,
    limit: usize,
    budget: &BodyBudget,
) -> Result<(Bytes, BodyReservation), ApiError> {
    let too_large = || ApiError::too_large(format!("request body exceeds {limit} bytes"));
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(too_large());
    }
    let mut reservation = BodyReservation::default();
    if let Some(length) = declared {
        budget.reserve(&mut reservation, length).await?;
    }
    let mut stream = body.into_data_stream();
    let mut first: Option<Bytes> = None;
    let mut joined: Option<BytesMut> = None;
    let mut total = 0usize;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| {
            if is_length_limit(&e) {
                too_large()
            } else {
                ApiError::bad_request(format!("could not read the body: {e}"))
            }
        })?;
        total += chunk.len();
        if total > limit {
            return Err(too_large());
        }
        if declared.is_none() {
            budget.reserve(&mut reservation, chunk.len()).await?;
        }
        match (&mut first, &mut joined) {
            (None, None) => first = Some(chunk),
            (Some(head), None) => {
                let mut buffer = BytesMut::with_capacity(declared.unwrap_or(total));
                buffer.extend_from_slice(head);
                buffer.extend_from_slice(&chunk);
                first = None;
                joined = Some(buffer);
            }
            (_, Some(buffer)) => buffer.extend_from_slice(&chunk),
        }
    }
    let bytes = match (first, joined) {
        (_, Some(buffer)) => buffer.freeze(),
        (Some(head), None) => head,
        (None, None) => Bytes::new(),
    };
    Ok((bytes, reservation))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn the_budget_admits_up_to_its_size_and_refuses_past_it_after_waiting() {
        let budget = BodyBudget::new(100, Duration::from_millis(500));
        let mut first = BodyReservation::default();
        budget.reserve(&mut first, 60).await.unwrap();
        let mut second = BodyReservation::default();
        budget.reserve(&mut second, 40).await.unwrap();
        assert_eq!(budget.available(), 0);
        // No room: waits (paused clock) and then refuses with 503 + Retry-After.
        let mut third = BodyReservation::default();
        let error = budget.reserve(&mut third, 10).await.unwrap_err();
        assert_eq!(error.status, 503);
        assert_eq!(error.retry_after, Some(1));
        assert_eq!(third.bytes(), 0);
        // Room comes back when a reservation is dropped.
        drop(first);
        budget.reserve(&mut third, 50).await.unwrap();
        assert_eq!(third.bytes(), 50);
        assert_eq!(budget.available(), 10);
    }

    #[tokio::test(start_paused = true)]
    async fn a_waiting_request_gets_room_freed_during_its_wait() {
        let budget = BodyBudget::new(100, Duration::from_secs(5));
        let mut held = BodyReservation::default();
        budget.reserve(&mut held, 100).await.unwrap();
        let waiter = {
            let budget = budget.clone();
            tokio::spawn(async move {
                let mut r = BodyReservation::default();
                budget.reserve(&mut r, 80).await.map(|()| r.bytes())
            })
        };
        tokio::time::sleep(Duration::from_secs(1)).await;
        drop(held);
        assert_eq!(waiter.await.unwrap().unwrap(), 80);
    }

    #[tokio::test]
    async fn chunked_bodies_reserve_as_they_arrive() {
        let budget = BodyBudget::new(1000, Duration::from_millis(10));
        let chunks = vec![
            Ok::<_, std::io::Error>(Bytes::from_static(b"{\"a\":")),
            Ok(Bytes::from_static(b"1}")),
        ];
        let body = Body::from_stream(futures::stream::iter(chunks));
        let (bytes, reservation) = read_body(&HeaderMap::new(), body, 1000, &budget)
            .await
            .unwrap();
        assert_eq!(&bytes[..], b"{\"a\":1}");
        assert_eq!(reservation.bytes(), 7);
        assert_eq!(budget.available(), 993);
        drop(reservation);
        assert_eq!(budget.available(), 1000);
    }
}
