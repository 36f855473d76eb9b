//! Ollama answers as the gateway writes them: the wire codec's encoders plus what a codec
//! cannot know, `created_at` (now, RFC 3339) and the timings. They are measured at the
//! gateway's edge: `total_duration` from the request's arrival to the final line,
//! `prompt_eval_duration` until the first content arrived (the upstream's queueing and prompt
//! processing, and any failover, included), `eval_duration` from there to the end, and
//! `load_duration` 0 (clawgate loads no model; an upstream's own load time falls into
//! `prompt_eval_duration`). Token counts are the upstream's, when it reported them.

use std::time::{Duration, Instant, SystemTime};

use clawgate_wire::ollama::{self, Durations, Endpoint};
use clawgate_wire::{Event, Frame, Response, StreamEncoder};
use serde_json::Value;

use crate::dialect::StreamOptions;

/// `created_at` for an answer made now.
pub(crate) fn created_at_now() -> String {
    humantime::format_rfc3339_nanos(SystemTime::now()).to_string()
}

fn nanos(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}

/// The timings of an answer that started at `started`, got its first content at
/// `first_content` (the end, when there was none) and ends `now`.
fn durations(started: Instant, first_content: Option<Instant>, now: Instant) -> Durations {
    let first = first_content.unwrap_or(now).max(started);
    Durations {
        total_ns: nanos(now.saturating_duration_since(started)),
        load_ns: 0,
        prompt_eval_ns: nanos(first.saturating_duration_since(started)),
        eval_ns: nanos(now.saturating_duration_since(first)),
    }
}

/// The codec's encoder, told the timings just before the final line.
struct TimedEncoder {
    inner: ollama::Encoder,
    started: Instant,
    first_content: Option<Instant>,
}

impl StreamEncoder for TimedEncoder {
    fn encode(&mut self, event: &Event) -> Vec<Frame> {
        if self.first_content.is_none() && event.is_content() {
            self.first_content = Some(Instant::now());
        }
        if matches!(event, Event::Finished { .. }) {
            let now = Instant::now();
            self.inner
                .set_durations(durations(self.started, self.first_content, now));
        }
        self.inner.encode(event)
    }

    fn fail(&mut self, message: &str, code: &str) -> Vec<Frame> {
        self.inner.fail(message, code)
    }

    fn finish(&mut self) -> Vec<Frame> {
        self.inner.finish()
    }
}

/// The NDJSON stream encoder of `endpoint` for an answer from `model`.
pub(crate) fn stream_encoder(
    endpoint: Endpoint,
    model: &str,
    options: StreamOptions,
) -> Box<dyn StreamEncoder> {
    let inner = ollama::Encoder::new("", model)
        .with_endpoint(endpoint)
        .with_created_at(&created_at_now())
        .with_reasoning(options.reasoning);
    Box::new(TimedEncoder {
        inner,
        started: options.started,
        first_content: None,
    })
}

/// A whole answer for `endpoint`, its first content having arrived at `first_content`.
pub(crate) fn encode_response(
    endpoint: Endpoint,
    response: &Response,
    options: &StreamOptions,
    first_content: Option<Instant>,
) -> Value {
    let timings = durations(options.started, first_content, Instant::now());
    let dropped;
    let response = if options.reasoning {
        response
    } else {
        dropped = without_reasoning(response);
        &dropped
    };
    ollama::encode_answer(endpoint, response, &created_at_now(), Some(&timings))
}

fn without_reasoning(response: &Response) -> Response {
    let mut response = response.clone();
    response
        .content
        .retain(|b| !matches!(b, clawgate_wire::ContentBlock::Reasoning { .. }));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_split_at_the_first_content() {
        let started = Instant::now();
        let first = started + Duration::from_millis(30);
        let end = started + Duration::from_millis(100);
        let d = durations(started, Some(first), end);
        assert_eq!(d.total_ns, 100_000_000);
        assert_eq!(d.prompt_eval_ns, 30_000_000);
        assert_eq!(d.eval_ns, 70_000_000);
        assert_eq!(d.load_ns, 0);
        // No content at all: everything was waiting.
        let d = durations(started, None, end);
        assert_eq!((d.prompt_eval_ns, d.eval_ns), (100_000_000, 0));
    }

    #[test]
    fn created_at_is_rfc3339_utc() {
        let text = created_at_now();
        assert!(text.ends_with('Z') && text.contains('T'), "{text}");
        assert!(humantime::parse_rfc3339(&text).is_ok(), "{text}");
    }
}
