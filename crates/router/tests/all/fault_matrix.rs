//! The fault matrix: every mock-upstream fault mode × every upstream dialect × streamed and
//! not, through real providers and the real `Router`, with a primary on a failing mock and a
//! fallback on a healthy one. Plus context overflow in each real server's wording, which is
//! handed back and never answered by the fallback.
//!
//! Each cell says what must happen (the [`Expect`] table below): the fallback answers with the
//! right attempt record and failure kind, or the primary commits and its stream ends in an
//! error item (no second model's text glued on), or the overflow is handed back. Every cell
//! also checks the mocks' request counts and the cooldown store, and runs under a limit far
//! above the primary's 300 ms timeouts, so a hang fails its cell instead of stalling the
//! suite. Mismatches are collected and reported together, one line per cell.

#[path = "fault_matrix_restart.rs"]
mod restart;
#[path = "fault_matrix_rig.rs"]
mod rig;

use std::fmt;
use std::time::Duration;

use clawgate_providers::{ApiKind, FailureKind, NetworkCause};
use clawgate_router::{AttemptOutcome, CooldownEntry, Penalty, RouterError, Scope, decide};
use clawgate_wire::Event;
use mock_upstream::{Fault, MockConfig, MockServer, OverflowServer, Quirk, Script};

use rig::*;

/// One cell of the matrix.
#[derive(Debug, Clone, Copy)]
struct Cell {
    api: ApiKind,
    fault: Fault,
    /// Whose wording a context overflow uses (overflow cells only).
    overflow: Option<OverflowServer>,
    stream: bool,
}

impl fmt::Display for Cell {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mode = if self.stream { "stream" } else { "non-stream" };
        match self.overflow {
            Some(server) => write!(f, "[{} × {} ({server}) × {mode}]", self.api, self.fault),
            None => write!(f, "[{} × {} × {mode}]", self.api, self.fault),
        }
    }
}

/// What a cell must end in.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Expect {
    /// The primary fails before its first content event with `kind`, `tries` times (a reset
    /// is retried once), and the fallback answers.
    Fallback { kind: FailureKind, tries: u64 },
    /// The primary commits (content arrives), then its stream's last item is an error of
    /// `kind`; the fallback is never called.
    ErrorAfterCommit { kind: FailureKind },
    /// A context overflow goes back to the caller; the fallback is never called.
    HandedBack,
    /// The primary answers with a whole tool call: at once, or (`first_failure`) after its
    /// stream broke in the middle of the call and it was asked again without streaming.
    ToolCallAnswered { first_failure: Option<FailureKind> },
}

const RESET: FailureKind = FailureKind::Network {
    cause: NetworkCause::Reset,
};

/// The expectation table. Mid-stream faults (after the first answer frame) only exist in
/// streams; a non-stream answer is read whole before anything is passed on, so the same
/// fault there is an ordinary failure before commit.
fn expect(cell: Cell) -> Expect {
    use Expect::*;
    let fallback = |kind| Fallback { kind, tries: 1 };
    match (cell.fault, cell.stream) {
        (Fault::Reset | Fault::Close, _) => Fallback {
            kind: RESET,
            tries: 2,
        },
        (Fault::HangBeforeHeaders, _) => fallback(FailureKind::Timeout),
        (Fault::HangAfterFirstChunk, true) => ErrorAfterCommit {
            kind: FailureKind::Timeout,
        },
        (Fault::HangAfterFirstChunk, false) => fallback(FailureKind::Timeout),
        (Fault::ResetAfterFirstChunk, true) => ErrorAfterCommit { kind: RESET },
        (Fault::ResetAfterFirstChunk, false) => Fallback {
            kind: RESET,
            tries: 2,
        },
        (Fault::Status429, _) => fallback(FailureKind::RateLimit {
            retry_after: Some(Duration::from_secs(1)),
        }),
        (Fault::Status500, _) => fallback(FailureKind::ServerError),
        (Fault::Status503, _) => fallback(FailureKind::Overloaded),
        (Fault::Status401, _) => fallback(FailureKind::Auth),
        (Fault::Status402, _) => fallback(FailureKind::Billing),
        (Fault::ModelNotFound, _) => fallback(FailureKind::ModelNotFound),
        // Anthropic's in-stream error event is an `overloaded_error`.
        (Fault::ErrorInStream, true) if cell.api == ApiKind::AnthropicMessages => {
            ErrorAfterCommit {
                kind: FailureKind::Overloaded,
            }
        }
        (Fault::ErrorInStream, true) => ErrorAfterCommit {
            kind: FailureKind::ServerError,
        },
        (Fault::ErrorInStream, false) => fallback(FailureKind::ServerError),
        (Fault::Empty200Stream, _) => fallback(FailureKind::EmptyResponse),
        (Fault::MalformedSse, true) => ErrorAfterCommit {
            kind: FailureKind::ServerError,
        },
        (Fault::MalformedSse, false) => fallback(FailureKind::Truncated),
        (Fault::TruncatedStream, true) => ErrorAfterCommit {
            kind: FailureKind::Truncated,
        },
        (Fault::TruncatedStream, false) => fallback(FailureKind::Truncated),
        (Fault::ContextOverflow, _) => HandedBack,
        // A tool call does not commit before the finish; a stream broken inside one is asked
        // again, whole.
        (Fault::ToolCallDiffError, true) if cell.api == ApiKind::AnthropicMessages => {
            ToolCallAnswered {
                first_failure: Some(FailureKind::Overloaded),
            }
        }
        (Fault::ToolCallDiffError, true) => ToolCallAnswered {
            first_failure: Some(FailureKind::ServerError),
        },
        (Fault::ToolCallDiffError, false) => ToolCallAnswered {
            first_failure: None,
        },
    }
}

/// Every cell: all faults but overflow (each dialect's own wording is covered by the
/// overflow cells), then overflow in each server's wording, for every dialect, both modes.
fn cells(api: ApiKind) -> Vec<Cell> {
    let mut cells = Vec::new();
    for stream in [true, false] {
        for fault in Fault::ALL {
            if fault != Fault::ContextOverflow {
                cells.push(Cell {
                    api,
                    fault,
                    overflow: None,
                    stream,
                });
            }
        }
        for server in OverflowServer::ALL {
            cells.push(Cell {
                api,
                fault: Fault::ContextOverflow,
                overflow: Some(server),
                stream,
            });
        }
    }
    cells
}

fn primary_config(cell: Cell) -> MockConfig {
    match cell.overflow {
        Some(server) => MockConfig::default().script(Script {
            context_limit: Some(PRIMARY_WINDOW),
            requested_tokens: Some(9_000),
            ..Script::overflow(server)
        }),
        None => MockConfig::default().fault(cell.fault),
    }
}

async fn run_cell(cell: Cell) -> Result<(), String> {
    run_on(
        primary_config(cell),
        cell.api,
        cell.stream,
        cell.overflow.is_some(),
        expect(cell),
    )
    .await
}

/// One call over a primary mock set up with `primary` and a healthy fallback, checked
/// against `want`.
async fn run_on(
    primary: MockConfig,
    api: ApiKind,
    stream: bool,
    big: bool,
    want: Expect,
) -> Result<(), String> {
    let primary = MockServer::start(primary).await;
    let fallback = MockServer::start(fallback_config()).await;
    let router = router(api, &primary, &fallback);
    let request = request(stream, big);
    let Some(seen) = observe(&router, request, Some(&primary), &fallback).await else {
        return Err(format!("did not finish within {CELL_LIMIT:?} (a hang)"));
    };
    let outcome = check(want, &seen);
    primary.shutdown().await;
    fallback.shutdown().await;
    outcome
}

/// Fails with the first difference between `want` and what was seen.
fn check(want: Expect, seen: &rig::Observed) -> Result<(), String> {
    match want {
        Expect::Fallback { kind, tries } => check_fallback(kind, tries, seen),
        Expect::ErrorAfterCommit { kind } => check_error_after_commit(kind, seen),
        Expect::HandedBack => check_handed_back(seen),
        Expect::ToolCallAnswered { first_failure } => check_tool_call_answered(first_failure, seen),
    }
}

fn check_tool_call_answered(
    first_failure: Option<FailureKind>,
    seen: &rig::Observed,
) -> Result<(), String> {
    let info = match &seen.route {
        Ok(info) => info,
        Err(error) => return Err(format!("want the primary's tool call, got error: {error}")),
    };
    ensure(info.answered_by == primary_ref() && !info.fallback, || {
        format!("answered by {}", info.answered_by)
    })?;
    let steps: Vec<_> = info
        .attempts
        .iter()
        .map(|a| (&a.outcome, a.retry, a.without_stream))
        .collect();
    let shape_ok = match (first_failure, steps.as_slice()) {
        (None, [(AttemptOutcome::Ok, 0, false)]) => true,
        (
            Some(want),
            [
                (AttemptOutcome::Failed { kind, .. }, 0, false),
                (AttemptOutcome::Ok, 1, true),
            ],
        ) => *kind == want,
        _ => false,
    };
    ensure(shape_ok, || format!("attempts {steps:?}"))?;
    let tries = if first_failure.is_some() { 2 } else { 1 };
    ensure(seen.primary_requests == tries, || {
        format!(
            "primary saw {} requests, want {tries}",
            seen.primary_requests
        )
    })?;
    ensure(seen.fallback_requests == 0, || {
        format!("fallback saw {} requests", seen.fallback_requests)
    })?;
    let starts = seen
        .items
        .iter()
        .filter(|item| matches!(item, Ok(Event::ToolCallStart { .. })))
        .count();
    let arguments: String = seen
        .items
        .iter()
        .filter_map(|item| match item {
            Ok(Event::ToolCallArgsDelta { delta, .. }) => Some(delta.as_str()),
            _ => None,
        })
        .collect();
    ensure(starts == 1, || {
        format!("{starts} tool calls: {:?}", seen.items)
    })?;
    ensure(
        serde_json::from_str::<serde_json::Value>(&arguments).is_ok(),
        || format!("arguments are not whole JSON: {arguments:?}"),
    )?;
    ensure(
        matches!(seen.items.last(), Some(Ok(Event::Finished { .. }))),
        || format!("the answer did not finish: {:?}", seen.items.last()),
    )?;
    ensure(
        seen.primary_provider_entry.is_none() && seen.primary_key_entry.is_none(),
        || "an answered call left a cooldown".to_string(),
    )
}

fn ensure(ok: bool, what: impl FnOnce() -> String) -> Result<(), String> {
    if ok { Ok(()) } else { Err(what()) }
}

/// The route, the record, the answer and the cooldown of a call the fallback answered.
fn check_fallback_route(kind: FailureKind, tries: u64, seen: &rig::Observed) -> Result<(), String> {
    let info = match &seen.route {
        Ok(info) => info,
        Err(error) => return Err(format!("want a fallback answer, got error: {error}")),
    };
    ensure(info.answered_by == fallback_ref() && info.fallback, || {
        format!(
            "answered by {} (fallback={})",
            info.answered_by, info.fallback
        )
    })?;
    let attempts = &info.attempts;
    ensure(attempts.len() as u64 == tries + 1, || {
        format!("want {} attempts, got {attempts:#?}", tries + 1)
    })?;
    for (retry, attempt) in attempts.iter().take(tries as usize).enumerate() {
        ensure(attempt.candidate == primary_ref(), || {
            format!("attempt {retry} was on {}", attempt.candidate)
        })?;
        ensure(attempt.retry as usize == retry, || {
            format!("attempt {retry} has retry number {}", attempt.retry)
        })?;
        match &attempt.outcome {
            AttemptOutcome::Failed { kind: got, .. } if *got == kind => {}
            other => {
                return Err(format!(
                    "attempt {retry}: want failed {kind:?}, got {other:?}"
                ));
            }
        }
    }
    let last = attempts.last().map(|a| (&a.candidate, &a.outcome));
    ensure(last == Some((&fallback_ref(), &AttemptOutcome::Ok)), || {
        format!("last attempt {last:?}")
    })?;
    ensure(seen.text() == FALLBACK_TEXT, || {
        format!("want the fallback's text, got {:?}", seen.text())
    })?;
    ensure(seen.items.iter().all(Result::is_ok), || {
        format!("error in the fallback's stream: {:?}", seen.items)
    })?;
    ensure(
        matches!(seen.items.last(), Some(Ok(Event::Finished { .. }))),
        || format!("fallback stream did not finish: {:?}", seen.items.last()),
    )?;
    let notice = info.fallback_notice().unwrap_or_default();
    ensure(notice.contains(kind.name()), || {
        format!("fallback notice {notice:?} does not name {}", kind.name())
    })?;
    check_penalty(kind, seen)
}

/// [`check_fallback_route`], and what each mock saw: `tries` requests on the primary, one
/// on the fallback.
fn check_fallback(kind: FailureKind, tries: u64, seen: &rig::Observed) -> Result<(), String> {
    check_fallback_route(kind, tries, seen)?;
    ensure(seen.primary_requests == tries, || {
        format!(
            "primary saw {} requests, want {tries}",
            seen.primary_requests
        )
    })?;
    ensure(seen.fallback_requests == 1, || {
        format!("fallback saw {} requests", seen.fallback_requests)
    })?;
    // A reset connection is dead: the retry has to open a new one.
    ensure(kind != RESET || seen.primary_connections == tries, || {
        format!(
            "{} connections for {tries} reset attempts",
            seen.primary_connections
        )
    })
}

fn check_error_after_commit(kind: FailureKind, seen: &rig::Observed) -> Result<(), String> {
    let info = match &seen.route {
        Ok(info) => info,
        Err(error) => return Err(format!("want a committed primary, got error: {error}")),
    };
    ensure(info.answered_by == primary_ref() && !info.fallback, || {
        format!("answered by {}", info.answered_by)
    })?;
    let outcomes: Vec<_> = info.attempts.iter().map(|a| &a.outcome).collect();
    ensure(outcomes == [&AttemptOutcome::Ok], || {
        format!("want one ok attempt, got {outcomes:?}")
    })?;
    let first_error = seen.items.iter().position(Result::is_err);
    ensure(first_error == Some(seen.items.len() - 1), || {
        format!("want exactly one error, as the last item: {:?}", seen.items)
    })?;
    let content_before = seen.items.iter().any(|item| match item {
        Ok(event) => event.is_content(),
        Err(_) => false,
    });
    ensure(content_before, || {
        format!("no content before the error: {:?}", seen.items)
    })?;
    ensure(
        !seen
            .items
            .iter()
            .any(|item| matches!(item, Ok(Event::Finished { .. }))),
        || "a broken stream must not look finished".to_string(),
    )?;
    match seen.items.last() {
        Some(Err(error)) if error.kind == kind => {}
        other => return Err(format!("want a {kind:?} error item, got {other:?}")),
    }
    ensure(!seen.text().contains(FALLBACK_TEXT), || {
        "the fallback's text was glued on".to_string()
    })?;
    ensure(seen.fallback_requests == 0, || {
        format!(
            "fallback saw {} requests after commit",
            seen.fallback_requests
        )
    })?;
    check_penalty(kind, seen)
}

fn check_handed_back(seen: &rig::Observed) -> Result<(), String> {
    match &seen.route {
        Err(RouterError::ContextOverflow {
            candidate,
            limit,
            attempts,
            ..
        }) => {
            ensure(*candidate == primary_ref(), || {
                format!("overflow named {candidate}")
            })?;
            ensure(limit.is_none_or(|limit| limit == PRIMARY_WINDOW), || {
                format!("overflow limit {limit:?}, want {PRIMARY_WINDOW} or unknown")
            })?;
            let kinds: Vec<_> = attempts.iter().map(|a| &a.outcome).collect();
            ensure(
                matches!(
                    kinds.as_slice(),
                    [AttemptOutcome::Failed {
                        kind: FailureKind::ContextOverflow { .. },
                        ..
                    }]
                ),
                || format!("want one overflow attempt, got {kinds:?}"),
            )?;
        }
        Err(other) => return Err(format!("want a context overflow, got error: {other}")),
        Ok(info) => {
            return Err(format!(
                "want a context overflow, got an answer from {} ({:?})",
                info.answered_by, info.attempts
            ));
        }
    }
    ensure(seen.fallback_requests == 0, || {
        format!("overflow fell back ({} requests)", seen.fallback_requests)
    })?;
    ensure(
        seen.primary_provider_entry.is_none() && seen.primary_key_entry.is_none(),
        || "an overflow put the primary in cooldown".to_string(),
    )
}

/// The cooldown store holds what the decision table says for `kind`: nothing, or an entry on
/// the key or the provider that names the kind.
fn check_penalty(kind: FailureKind, seen: &rig::Observed) -> Result<(), String> {
    let decision = decide(&kind);
    let (entry, other) = match decision.scope {
        Scope::Key => (&seen.primary_key_entry, &seen.primary_provider_entry),
        Scope::Provider => (&seen.primary_provider_entry, &seen.primary_key_entry),
    };
    ensure(other.is_none(), || {
        format!("penalty landed on the wrong scope: {other:?}")
    })?;
    if decision.penalty == Penalty::None {
        return ensure(entry.is_none(), || {
            format!("{} must not cool down: {entry:?}", kind.name())
        });
    }
    match entry {
        Some(CooldownEntry {
            last_failure_kind: Some(name),
            ..
        }) if name == kind.name()
            && entry.as_ref().is_some_and(|e| e.unusable_until().is_some()) =>
        {
            Ok(())
        }
        other => Err(format!(
            "want a {} cooldown entry, got {other:?}",
            kind.name()
        )),
    }
}

/// Runs every cell of one dialect and reports all mismatches at once.
async fn run_dialect(api: ApiKind) {
    let cells = cells(api);
    let total = cells.len();
    let mut failures = Vec::new();
    for cell in cells {
        if let Err(why) = run_cell(cell).await {
            failures.push(format!("{cell} want {:?}: {why}", expect(cell)));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {total} cells failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[tokio::test]
async fn openai_completions_fault_matrix() {
    run_dialect(ApiKind::OpenAiCompletions).await;
}

#[tokio::test]
async fn openai_responses_fault_matrix() {
    run_dialect(ApiKind::OpenAiResponses).await;
}

#[tokio::test]
async fn anthropic_messages_fault_matrix() {
    run_dialect(ApiKind::AnthropicMessages).await;
}

#[tokio::test]
async fn ollama_fault_matrix() {
    run_dialect(ApiKind::Ollama).await;
}

/// Not a mock fault but the commonest one: the local server is not running at all. One
/// connect attempt (a refusal is not retried), then the fallback.
#[tokio::test]
async fn a_refused_port_fails_over_in_every_dialect_without_a_retry() {
    let refused = FailureKind::Network {
        cause: NetworkCause::Refused,
    };
    let mut failures = Vec::new();
    for api in APIS {
        for stream in [true, false] {
            let stopped = MockServer::start(MockConfig::default()).await;
            let fallback = MockServer::start(fallback_config()).await;
            let router = router(api, &stopped, &fallback);
            // Stop the primary's server: its port now refuses connections.
            stopped.shutdown().await;
            let outcome = match observe(&router, request(stream, false), None, &fallback).await {
                None => Err("a hang".to_string()),
                Some(seen) => check_fallback_route(refused, 1, &seen),
            };
            if let Err(why) = outcome {
                failures.push(format!("[{api} × refused port × stream={stream}]: {why}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Reasoning does not commit a stream: a thinking-only answer (the `thinking_only` quirk:
/// Ollama streaming `thinking` when it was not told `think`) that ends empty, or fails after
/// its first reasoning piece, is answered by the fallback in every dialect, streamed and not.
#[tokio::test]
async fn thinking_only_answers_fail_over_in_every_dialect() {
    let mut failures = Vec::new();
    for api in APIS {
        for fails in [false, true] {
            for stream in [true, false] {
                let script = Script {
                    fault: fails.then_some(Fault::ErrorInStream),
                    ..Script::default().with_quirk(Quirk::ThinkingOnly)
                };
                let kind = match (fails, stream, api) {
                    (false, ..) => FailureKind::EmptyResponse,
                    (true, true, ApiKind::AnthropicMessages) => FailureKind::Overloaded,
                    (true, ..) => FailureKind::ServerError,
                };
                let want = Expect::Fallback { kind, tries: 1 };
                let primary = MockConfig::default().script(script);
                if let Err(why) = run_on(primary, api, stream, false, want).await {
                    failures.push(format!(
                        "[{api} × thinking_only{} × stream={stream}] {why}",
                        if fails { " + error_in_stream" } else { "" }
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_matrix_covers_every_fault_dialect_mode_and_wording() {
    let all: Vec<Cell> = APIS.into_iter().flat_map(cells).collect();
    // Every fault but overflow + 9 overflow wordings, × 2 modes, × 4 dialects.
    assert_eq!(
        all.len(),
        (Fault::ALL.len() - 1 + OverflowServer::ALL.len()) * 2 * APIS.len()
    );
    for fault in Fault::ALL {
        assert!(all.iter().any(|c| c.fault == fault), "{fault} missing");
    }
}
