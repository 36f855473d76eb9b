//! The request log: every request the mock served (method, path, headers with credentials
//! masked, JSON body), kept in a bounded ring so long benchmark runs cannot grow it without
//! limit. Tests read it in-process (`MockServer::requests`) or over HTTP
//! (`GET /__mock/requests`). A plain mutex is enough: it is held for a push or a copy only.

use std::collections::VecDeque;
use std::sync::{Mutex, PoisonError};

use http::HeaderMap;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One received request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordedRequest {
    pub method: String,
    pub path: String,
    /// The query string, if any.
    pub query: Option<String>,
    /// Header names (lower case) and values; credential values keep only their last 4
    /// characters (`Bearer ****abcd`).
    pub headers: Vec<(String, String)>,
    /// The JSON body (`null` when empty or not JSON).
    pub body: Value,
}

impl RecordedRequest {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub(crate) fn new(
        method: &str,
        path: &str,
        query: Option<&str>,
        headers: &HeaderMap,
        body: Value,
    ) -> Self {
        let headers = headers
            .iter()
            .map(|(name, value)| {
                let value = String::from_utf8_lossy(value.as_bytes());
                let value = if is_credential(name.as_str()) {
                    mask(&value)
                } else {
                    value.into_owned()
                };
                (name.as_str().to_owned(), value)
            })
            .collect();
        RecordedRequest {
            method: method.to_owned(),
            path: path.to_owned(),
            query: query.map(str::to_owned),
            headers,
            body,
        }
    }
}

fn is_credential(name: &str) -> bool {
    matches!(
        name,
        "authorization" | "x-api-key" | "api-key" | "proxy-authorization" | "cookie"
    )
}

/// `Bearer sk-abcdef1234` → `Bearer ****1234`; a value without a scheme → `****1234`.
fn mask(value: &str) -> String {
    let (scheme, secret) = match value.split_once(' ') {
        Some((s, rest)) => (Some(s), rest),
        None => (None, value),
    };
    let chars: Vec<char> = secret.chars().collect();
    let keep = if chars.len() >= 12 { 4 } else { 0 };
    let tail: String = chars[chars.len() - keep..].iter().collect();
    match scheme {
        Some(s) => format!("{s} ****{tail}"),
        None => format!("****{tail}"),
    }
}

/// Bounded, shared log.
#[derive(Debug)]
pub(crate) struct RequestLog {
    capacity: usize,
    entries: Mutex<VecDeque<RecordedRequest>>,
}

impl RequestLog {
    pub(crate) fn new(capacity: usize) -> Self {
        RequestLog {
            capacity,
            entries: Mutex::new(VecDeque::new()),
        }
    }

    pub(crate) fn enabled(&self) -> bool {
        self.capacity > 0
    }

    pub(crate) fn push(&self, request: RecordedRequest) {
        if !self.enabled() {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if entries.len() == self.capacity {
            entries.pop_front();
        }
        entries.push_back(request);
    }

    pub(crate) fn snapshot(&self) -> Vec<RecordedRequest> {
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        entries.iter().cloned().collect()
    }

    pub(crate) fn clear(&self) {
        self.entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_keep_only_a_short_tail() {
        assert_eq!(mask("Bearer sk-abcdef1234"), "Bearer ****1234");
        assert_eq!(mask("Bearer short"), "Bearer ****");
        assert_eq!(mask("sk-ant-0123456789"), "****6789");
    }

    #[test]
    fn the_ring_drops_the_oldest() {
        let log = RequestLog::new(2);
        for p in ["/a", "/b", "/c"] {
            log.push(RecordedRequest::new(
                "GET",
                p,
                None,
                &HeaderMap::new(),
                Value::Null,
            ));
        }
        let paths: Vec<String> = log.snapshot().into_iter().map(|r| r.path).collect();
        assert_eq!(paths, vec!["/b", "/c"]);
    }
}
