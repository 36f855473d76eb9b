//! Client authentication: the gateway token from `Authorization: Bearer …` or Anthropic's
//! `x-api-key`, compared in constant time (`subtle`, so the comparison does not leak how many
//! leading bytes matched), and a per-address lockout after repeated failures (429 with
//! `Retry-After`, even for a right token, until it expires). Time comes from the router's
//! injected [`Clock`], so tests drive it without sleeping. Also the rule that an agent able to
//! change the machine (`exec`, `write`, `edit`) is never served without a token, loopback or
//! not ([`host_changing_tools`], [`token_required`]).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::http::HeaderMap;
use clawgate_router::Clock;
use subtle::ConstantTimeEq;

/// When repeated failures lock an address out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthLimits {
    /// Failures within `window` that trigger the lockout.
    pub max_failures: u32,
    pub window: Duration,
    /// How long a locked-out address gets 429.
    pub lockout: Duration,
}

impl Default for AuthLimits {
    fn default() -> Self {
        Self {
            max_failures: 10,
            window: Duration::from_secs(60),
            lockout: Duration::from_secs(60),
        }
    }
}

/// Tools that change the machine: an agent offering any of them needs the gateway token.
pub const HOST_CHANGING_TOOLS: &[&str] = &["exec", "write", "edit"];

/// The tools of `tools` that can change this machine (a turn of an agent offering any of them
/// needs the gateway token, even on loopback).
pub fn host_changing_tools(tools: &[String]) -> Vec<&str> {
    tools
        .iter()
        .map(String::as_str)
        .filter(|t| HOST_CHANGING_TOOLS.contains(t))
        .collect()
}

/// The refusal of such a turn on a gateway whose config turned auth off (`mode: "none"`): on
/// loopback any local process (or a web page that got past the browser guard) could
/// otherwise use those tools.
pub fn token_required(agent_id: &str, risky: &[&str]) -> crate::dialect::ApiError {
    crate::dialect::ApiError::forbidden(
        "token_required",
        format!(
            "agent \"{agent_id}\" can change this machine (tools: {}), so the gateway serves it \
             only with a token, even on loopback, and gateway.auth.mode is \"none\": set \
             gateway.auth.token (or CLAWGATE_GATEWAY_TOKEN), or remove mode \"none\" so the \
             gateway uses its own token, and send it as `Authorization: Bearer <token>`; or \
             narrow the agent's tools (e.g. tools.deny: [\"exec\", \"write\", \"edit\"])",
            risky.join(", ")
        ),
    )
}

/// What a request presented.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthCheck {
    Ok,
    Missing,
    Wrong,
}

/// The credential in `Authorization: Bearer <token>` or `x-api-key: <token>`.
pub fn presented_token(headers: &HeaderMap) -> Option<&[u8]> {
    if let Some(value) = headers.get(axum::http::header::AUTHORIZATION) {
        let bytes = value.as_bytes();
        let token = bytes
            .get(..7)
            .filter(|scheme| scheme.eq_ignore_ascii_case(b"bearer "))
            .map(|_| bytes[7..].trim_ascii());
        if let Some(token) = token.filter(|t| !t.is_empty()) {
            return Some(token);
        }
    }
    headers
        .get("x-api-key")
        .map(|v| v.as_bytes().trim_ascii())
        .filter(|t| !t.is_empty())
}

/// Checks the request's credential against `expected` in constant time.
pub fn check(expected: &[u8], headers: &HeaderMap) -> AuthCheck {
    match presented_token(headers) {
        None => AuthCheck::Missing,
        Some(token) if bool::from(expected.ct_eq(token)) => AuthCheck::Ok,
        Some(_) => AuthCheck::Wrong,
    }
}

#[derive(Debug, Clone, Copy)]
struct Record {
    failures: u32,
    window_start: u64,
    locked_until: u64,
}

/// Per-address failure counts. Bounded: beyond `MAX_TRACKED` addresses, expired records are
/// dropped first, then the table is cleared (a flood from many addresses resets counting
/// rather than growing memory).
pub struct AuthFailures {
    limits: AuthLimits,
    clock: Arc<dyn Clock>,
    records: Mutex<HashMap<IpAddr, Record>>,
    /// Records held, read without the lock so the common case (no failures) stays lock-free.
    tracked: AtomicUsize,
}

const MAX_TRACKED: usize = 10_000;

impl std::fmt::Debug for AuthFailures {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthFailures")
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl AuthFailures {
    pub fn new(limits: AuthLimits, clock: Arc<dyn Clock>) -> Self {
        Self {
            limits,
            clock,
            records: Mutex::new(HashMap::new()),
            tracked: AtomicUsize::new(0),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<IpAddr, Record>> {
        self.records.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Seconds left of `ip`'s lockout, when it is locked out.
    pub fn locked_out(&self, ip: IpAddr) -> Option<u64> {
        if self.tracked.load(Ordering::Relaxed) == 0 {
            return None;
        }
        let now = self.clock.now_ms();
        let records = self.lock();
        let record = records.get(&ip)?;
        (record.locked_until > now).then(|| (record.locked_until - now).div_ceil(1000).max(1))
    }

    /// Counts a failure; returns the lockout in seconds when this failure started one.
    pub fn record_failure(&self, ip: IpAddr) -> Option<u64> {
        let now = self.clock.now_ms();
        let window = self.limits.window.as_millis() as u64;
        let mut records = self.lock();
        if records.len() >= MAX_TRACKED && !records.contains_key(&ip) {
            records.retain(|_, r| r.locked_until > now || now - r.window_start < window);
            if records.len() >= MAX_TRACKED {
                records.clear();
            }
        }
        let record = records.entry(ip).or_insert(Record {
            failures: 0,
            window_start: now,
            locked_until: 0,
        });
        if now.saturating_sub(record.window_start) >= window {
            record.failures = 0;
            record.window_start = now;
        }
        record.failures += 1;
        let locked = if record.failures >= self.limits.max_failures {
            let lockout = self.limits.lockout.as_millis() as u64;
            record.locked_until = now + lockout;
            record.failures = 0;
            record.window_start = now;
            Some(lockout.div_ceil(1000).max(1))
        } else {
            None
        };
        self.tracked.store(records.len(), Ordering::Relaxed);
        locked
    }

    /// A successful authentication clears the address's failures.
    pub fn record_success(&self, ip: IpAddr) {
        if self.tracked.load(Ordering::Relaxed) == 0 {
            return;
        }
        let mut records = self.lock();
        records.remove(&ip);
        self.tracked.store(records.len(), Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;
    use clawgate_router::ManualClock;

    fn headers(name: &'static str, value: &str) -> HeaderMap {
        let mut map = HeaderMap::new();
        map.insert(name, HeaderValue::from_str(value).unwrap());
        map
    }

    #[test]
    fn reads_bearer_and_x_api_key() {
        assert_eq!(
            check(b"s3cret", &headers("authorization", "Bearer s3cret")),
            AuthCheck::Ok
        );
        assert_eq!(
            check(b"s3cret", &headers("authorization", "bearer s3cret")),
            AuthCheck::Ok
        );
        assert_eq!(
            check(b"s3cret", &headers("x-api-key", "s3cret")),
            AuthCheck::Ok
        );
        assert_eq!(
            check(b"s3cret", &headers("authorization", "Bearer s3cre")),
            AuthCheck::Wrong
        );
        assert_eq!(
            check(b"s3cret", &headers("authorization", "Basic s3cret")),
            AuthCheck::Missing
        );
        assert_eq!(check(b"s3cret", &HeaderMap::new()), AuthCheck::Missing);
    }

    #[test]
    fn host_changing_tools_need_a_token() {
        let tools = |names: &[&str]| names.iter().map(|n| n.to_string()).collect::<Vec<_>>();
        assert_eq!(
            host_changing_tools(&tools(&["read", "exec", "write"])),
            vec!["exec", "write"]
        );
        assert_eq!(host_changing_tools(&tools(&["read", "edit"])), vec!["edit"]);
        assert!(host_changing_tools(&tools(&["read", "ls", "web_fetch"])).is_empty());
        let refused = token_required("main", &["exec", "write"]);
        assert_eq!(refused.status, 403);
        assert!(
            refused.message.contains("exec, write"),
            "{}",
            refused.message
        );
        assert!(refused.message.contains("gateway.auth.token"));
    }

    #[test]
    fn locks_out_after_max_failures_and_expires() {
        let clock = Arc::new(ManualClock::new(1_000_000));
        let limits = AuthLimits {
            max_failures: 3,
            window: Duration::from_secs(60),
            lockout: Duration::from_secs(30),
        };
        let failures = AuthFailures::new(limits, clock.clone());
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        assert_eq!(failures.record_failure(ip), None);
        assert_eq!(failures.record_failure(ip), None);
        assert_eq!(failures.locked_out(ip), None);
        assert_eq!(failures.record_failure(ip), Some(30));
        assert_eq!(failures.locked_out(ip), Some(30));
        clock.advance(Duration::from_secs(20));
        assert_eq!(failures.locked_out(ip), Some(10));
        clock.advance(Duration::from_secs(11));
        assert_eq!(failures.locked_out(ip), None);
    }

    #[test]
    fn failures_outside_the_window_do_not_add_up() {
        let clock = Arc::new(ManualClock::new(0));
        let limits = AuthLimits {
            max_failures: 2,
            window: Duration::from_secs(10),
            lockout: Duration::from_secs(30),
        };
        let failures = AuthFailures::new(limits, clock.clone());
        let ip: IpAddr = "127.0.0.2".parse().unwrap();
        assert_eq!(failures.record_failure(ip), None);
        clock.advance(Duration::from_secs(11));
        assert_eq!(failures.record_failure(ip), None);
        failures.record_success(ip);
        assert_eq!(failures.record_failure(ip), None);
        assert_eq!(failures.locked_out(ip), None);
    }
}
