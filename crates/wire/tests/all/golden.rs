//! Golden tests: raw bodies under `tests/fixtures/` (reference streams written from each
//! dialect's documentation, the llama.cpp / LiteLLM quirks, and real recordings under
//! `recorded/`) decoded and compared with the `*.expected.json` beside them (or under
//! `recorded-expected/`). Each expected file names its `source`, `dialect` and `kind`
//! (`stream` or `response`) and holds the canonical `events` + `error`, or the `response`.
//!
//! `CLAWGATE_BLESS=1 cargo test -p clawgate-wire golden` rewrites the expected outputs from the
//! current decoders; the diff must then be reviewed by hand.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::support::{Dialect, decode_stream, error_json};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn expected_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            expected_files(&path, out);
        } else if path.to_string_lossy().ends_with(".expected.json") {
            out.push(path);
        }
    }
}

/// What the decoders make of one fixture, in the expected file's shape.
fn actual(expected: &Value) -> Value {
    let source = expected["source"].as_str().expect("source");
    let dialect = Dialect::parse(expected["dialect"].as_str().expect("dialect"));
    let bytes = std::fs::read(fixtures().join(source)).expect("read source");
    match expected["kind"].as_str().expect("kind") {
        "stream" => {
            let (events, error) = decode_stream(dialect, &bytes, None);
            // The same bytes in 1-byte and 7-byte chunks must decode identically.
            for chunk in [1, 7] {
                let (split_events, split_error) = decode_stream(dialect, &bytes, Some(chunk));
                assert_eq!(
                    split_events, events,
                    "{source}: chunk size {chunk} changed events"
                );
                assert_eq!(
                    split_error, error,
                    "{source}: chunk size {chunk} changed the error"
                );
            }
            json!({
                "events": serde_json::to_value(&events).expect("events to json"),
                "error": error.as_ref().map(error_json),
            })
        }
        "response" => match serde_json::from_slice::<Value>(&bytes) {
            Err(_) => json!({ "response": null, "error": { "kind": "not_json" } }),
            Ok(body) => match dialect.decode_response(&body) {
                Ok(response) => json!({
                    "response": serde_json::to_value(&response).expect("response to json"),
                    "error": null,
                }),
                Err(error) => json!({ "response": null, "error": error_json(&error) }),
            },
        },
        other => panic!("unknown kind {other}"),
    }
}

#[test]
fn golden_fixtures_decode_as_expected() {
    let mut files = Vec::new();
    expected_files(&fixtures(), &mut files);
    assert!(files.len() >= 30, "fixtures missing: found {}", files.len());
    let bless = std::env::var_os("CLAWGATE_BLESS").is_some();
    let mut failures = Vec::new();
    for path in &files {
        let text = std::fs::read_to_string(path).expect("read expected");
        let mut expected: Value = serde_json::from_str(&text).expect("expected file is JSON");
        let actual = actual(&expected);
        let matches = actual
            .as_object()
            .expect("object")
            .iter()
            .all(|(key, value)| expected.get(key) == Some(value));
        if matches {
            continue;
        }
        if bless {
            for (key, value) in actual.as_object().expect("object") {
                expected[key] = value.clone();
            }
            let pretty = serde_json::to_string_pretty(&expected).expect("pretty") + "\n";
            std::fs::write(path, pretty).expect("write expected");
        } else {
            failures.push(format!(
                "{}:\n  expected {}\n  actual   {}",
                path.display(),
                json!({ "events": expected.get("events"), "response": expected.get("response"), "error": expected.get("error") }),
                actual
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_recorded_body_has_an_expected_output() {
    let recorded = fixtures().join("recorded");
    let mut missing = Vec::new();
    for entry in std::fs::read_dir(&recorded).expect("recorded fixtures") {
        let path = entry.expect("entry").path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        if let Some(case) = name.strip_suffix(".body") {
            let expected = fixtures()
                .join("recorded-expected")
                .join(format!("{case}.expected.json"));
            if !expected.exists() {
                missing.push(case.to_owned());
            }
        }
    }
    assert!(
        missing.is_empty(),
        "recorded cases without expected output: {missing:?}"
    );
}

/// Encoder goldens: `encoded/events.json` through each dialect's stream encoder must give
/// exactly the bytes in `encoded/<dialect>.<sse|ndjson>` (the framing clients see; these files
/// were checked by hand against each API's documented event sequence, and with the official
/// `openai` and `anthropic` Python SDKs' stream accumulators). Then `fail()` after one text
/// delta must give `encoded/<dialect>.fail.<ext>`.
#[test]
fn encoders_write_the_golden_bytes() {
    let dir = fixtures().join("encoded");
    let events: Vec<clawgate_wire::Event> =
        serde_json::from_str(&std::fs::read_to_string(dir.join("events.json")).expect("events"))
            .expect("events parse");
    let bless = std::env::var_os("CLAWGATE_BLESS").is_some();
    let mut failures = Vec::new();
    for (name, dialect, ext) in [
        ("openai_chat", Dialect::Chat, "sse"),
        ("openai_responses", Dialect::Responses, "sse"),
        ("anthropic", Dialect::Anthropic, "sse"),
        ("ollama", Dialect::Ollama, "ndjson"),
    ] {
        let full = crate::support::encode_stream(dialect, "resp_abc", "m1", &events);
        let mut encoder = dialect.encoder("resp_abc", "m1");
        let mut frames = encoder.encode(&events[0]);
        frames.extend(encoder.encode(&clawgate_wire::Event::TextDelta { text: "par".into() }));
        frames.extend(encoder.fail("upstream went away", "overloaded"));
        frames.extend(encoder.finish());
        let failed = crate::support::frames_to_bytes(dialect, &frames);
        for (file, bytes) in [
            (format!("{name}.{ext}"), full),
            (format!("{name}.fail.{ext}"), failed),
        ] {
            let path = dir.join(&file);
            let expected = std::fs::read(&path).unwrap_or_default();
            if expected == bytes {
                continue;
            }
            if bless {
                std::fs::write(&path, &bytes).expect("write golden");
            } else {
                failures.push(format!(
                    "{file} differs:\n--- expected\n{}\n--- actual\n{}",
                    String::from_utf8_lossy(&expected),
                    String::from_utf8_lossy(&bytes)
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
