//! What one request produces: determinism, event order, output limits, stop sequences.

use clawgate_wire::{Event, StopReason};

use crate::common::{MODEL_ID, fresh_provider, request, run, shared_provider};

const PROMPT: &str = "Write a list of the planets of the solar system.";

#[tokio::test]
async fn temperature_zero_is_deterministic_and_reuses_the_cached_prompt() {
    let provider = fresh_provider();
    let first = run(&provider, request(PROMPT, 24)).await;
    let evaluated_once = provider.stats().prompt_tokens_evaluated;
    let second = run(&provider, request(PROMPT, 24)).await;
    let evaluated_twice = provider.stats().prompt_tokens_evaluated;

    assert!(!first.text.is_empty(), "no text generated");
    assert_eq!(first.text, second.text);
    assert_eq!(evaluated_once, first.usage.input_tokens.unwrap());
    // The second run found the whole prompt in the KV cache and re-read only its last token.
    assert_eq!(evaluated_twice - evaluated_once, 1);
    // And a different engine, whose cache holds other requests, agrees too.
    let third = run(shared_provider(), request(PROMPT, 24)).await;
    assert_eq!(first.text, third.text);
}

#[tokio::test]
async fn seeded_sampling_repeats_and_the_seed_matters() {
    let provider = shared_provider();
    let sampled = |seed| {
        let mut req = request(PROMPT, 24);
        req.temperature = Some(1.0);
        req.seed = Some(seed);
        req
    };
    let a = run(provider, sampled(7)).await;
    let b = run(provider, sampled(7)).await;
    assert_eq!(a.text, b.text, "same seed, different text");
    let mut differs = false;
    for seed in [8, 9, 10] {
        if run(provider, sampled(seed)).await.text != a.text {
            differs = true;
            break;
        }
    }
    assert!(
        differs,
        "four seeds at temperature 1 all gave the same 24 tokens"
    );
}

#[tokio::test]
async fn stream_is_started_deltas_usage_finished() {
    let out = run(shared_provider(), request(PROMPT, 12)).await;
    let Some(Event::Started { id, model }) = out.events.first() else {
        panic!("first event is not Started: {:?}", out.events.first());
    };
    assert!(!id.is_empty());
    assert_eq!(model, MODEL_ID);
    let n = out.events.len();
    assert!(
        matches!(out.events[n - 2], Event::Usage { .. }),
        "{:?}",
        out.events
    );
    assert!(matches!(out.events[n - 1], Event::Finished { .. }));
    let middle = &out.events[1..n - 2];
    assert!(!middle.is_empty());
    assert!(
        middle
            .iter()
            .all(|e| matches!(e, Event::TextDelta { text } if !text.is_empty())),
        "only non-empty text deltas between Started and Usage: {middle:?}"
    );
    assert!(out.usage.input_tokens.unwrap() > 5);
    assert!(out.usage.output_tokens.unwrap() >= 1);
}

#[tokio::test]
async fn max_tokens_ends_with_length_after_exactly_n_tokens() {
    for n in [1, 7] {
        let out = run(shared_provider(), request(PROMPT, n)).await;
        assert_eq!(out.stop_reason, StopReason::Length, "max_tokens {n}");
        assert_eq!(out.usage.output_tokens, Some(u64::from(n)));
    }
}

#[tokio::test]
async fn stop_sequence_cuts_the_text_before_it() {
    let provider = shared_provider();
    let full = run(provider, request(PROMPT, 32)).await.text;
    // Pick a stop sequence from the middle of the greedy answer (not at its start), so the
    // expected output is known without assuming anything about the model's words.
    let chars: Vec<(usize, char)> = full.char_indices().collect();
    assert!(
        chars.len() >= 8,
        "answer too short to pick a stop from: {full:?}"
    );
    let from = chars[chars.len() / 2].0;
    let to = chars
        .get(chars.len() / 2 + 3)
        .map_or(full.len(), |(i, _)| *i);
    let stop = full[from..to].to_owned();
    let expected = &full[..full.find(&stop).unwrap()];

    let mut req = request(PROMPT, 32);
    req.stop = vec!["a stop that never occurs \u{2603}".into(), stop.clone()];
    let out = run(provider, req).await;
    assert_eq!(out.stop_reason, StopReason::Stop);
    assert_eq!(out.text, expected, "stop {stop:?}");
    assert!(!out.text.contains(&stop));
}

fn numbered_sentences(count: usize) -> String {
    (0..count)
        .map(|i| format!("The quick brown fox jumps over the lazy dog number {i}."))
        .collect::<Vec<_>>()
        .join(" ")
}

/// gemma 3 has sliding-window layers (window 512) whose cache keeps only about the window
/// plus one batch of recent positions. After a 1,200-token prompt the oldest positions are
/// gone from it, so a prompt that shares only the first ~400 tokens must not reuse them: it
/// is evaluated in full and answers exactly like an engine with a clean cache.
#[tokio::test]
async fn a_cut_deeper_than_the_sliding_window_is_evaluated_in_full() {
    let provider = clawgate_engine::LlamaCppProvider::new(
        "embedded",
        crate::common::demo_spec().with_context_window(2048),
    );
    let long = run(&provider, request(&numbered_sentences(90), 4)).await;
    assert!(long.usage.input_tokens.unwrap() > 1100);

    let short_prompt = numbered_sentences(30);
    let before = provider.stats().prompt_tokens_evaluated;
    let short = run(&provider, request(&short_prompt, 16)).await;
    let evaluated = provider.stats().prompt_tokens_evaluated - before;
    assert_eq!(
        evaluated,
        short.usage.input_tokens.unwrap(),
        "the ~400-token shared prefix was reused although the sliding window lost it"
    );
    let reference = run(shared_provider(), request(&short_prompt, 16)).await;
    assert_eq!(short.text, reference.text);

    // Appending to what is cached (the next turn) still reuses it, window or not.
    let before = provider.stats().prompt_tokens_evaluated;
    let again = run(&provider, request(&short_prompt, 16)).await;
    assert_eq!(provider.stats().prompt_tokens_evaluated - before, 1);
    assert_eq!(again.text, reference.text);
}
