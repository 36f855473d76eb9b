//! Candidate chain building (spec §3.5).

use clawgate_router::{CandidateChain, CandidateRef};

use crate::fake::cand;

fn keys(chain: &CandidateChain) -> Vec<String> {
    chain.candidates().iter().map(CandidateRef::key).collect()
}

#[test]
fn parse_splits_on_the_first_slash_only() {
    let r = cand("openrouter/moonshotai/kimi-k2");
    assert_eq!(r.provider, "openrouter");
    assert_eq!(r.model, "moonshotai/kimi-k2");
    assert_eq!(r.to_string(), "openrouter/moonshotai/kimi-k2");
    assert_eq!(CandidateRef::parse("no-slash"), None);
    assert_eq!(CandidateRef::parse("/model"), None);
    assert_eq!(CandidateRef::parse("provider/"), None);
}

#[test]
fn primary_then_fallbacks_then_settle_back_on_primary_deduplicated() {
    let primary = cand("local/qwen");
    let fallbacks = [
        cand("hosted/sonnet"),
        cand("local/qwen"),
        cand("hosted/sonnet"),
        cand("or/kimi"),
    ];
    let chain = CandidateChain::build(&primary, &fallbacks, None, None);
    // the primary is already first, so settling back adds nothing; duplicates collapse
    assert_eq!(keys(&chain), ["local/qwen", "hosted/sonnet", "or/kimi"]);
}

#[test]
fn requested_model_first_and_primary_appended_last_to_settle_back() {
    let primary = cand("local/qwen");
    let fallbacks = [cand("local/llama"), cand("hosted/sonnet")];
    let requested = cand("local/gemma");
    let chain = CandidateChain::build(&primary, &fallbacks, Some(&requested), None);
    assert_eq!(
        keys(&chain),
        ["local/gemma", "local/llama", "hosted/sonnet", "local/qwen"]
    );
}

#[test]
fn requested_from_another_provider_not_in_fallbacks_drops_configured_fallbacks() {
    let primary = cand("local/qwen");
    let fallbacks = [cand("hosted/sonnet")];
    let requested = cand("openai/gpt-5");
    let chain = CandidateChain::build(&primary, &fallbacks, Some(&requested), None);
    assert_eq!(keys(&chain), ["openai/gpt-5", "local/qwen"]);
}

#[test]
fn requested_model_that_is_itself_a_fallback_keeps_the_fallbacks() {
    let primary = cand("local/qwen");
    let fallbacks = [cand("hosted/sonnet"), cand("or/kimi")];
    let requested = cand("hosted/sonnet");
    let chain = CandidateChain::build(&primary, &fallbacks, Some(&requested), None);
    assert_eq!(keys(&chain), ["hosted/sonnet", "or/kimi", "local/qwen"]);
}

#[test]
fn override_list_replaces_fallbacks_and_does_not_settle_back() {
    let primary = cand("local/qwen");
    let fallbacks = [cand("hosted/sonnet")];
    let requested = cand("local/gemma");
    let over = [cand("or/kimi"), cand("local/gemma")];
    let chain = CandidateChain::build(&primary, &fallbacks, Some(&requested), Some(&over));
    assert_eq!(keys(&chain), ["local/gemma", "or/kimi"]);
}

#[test]
fn explicit_empty_override_means_fallbacks_off() {
    let primary = cand("local/qwen");
    let fallbacks = [cand("hosted/sonnet")];
    let strict = CandidateChain::build(&primary, &fallbacks, None, Some(&[]));
    assert_eq!(keys(&strict), ["local/qwen"]);
    let requested = cand("hosted/opus");
    let strict = CandidateChain::build(&primary, &fallbacks, Some(&requested), Some(&[]));
    assert_eq!(keys(&strict), ["hosted/opus"]);
    assert_eq!(CandidateChain::strict(cand("a/b")).len(), 1);
}

#[test]
fn starting_at_resumes_from_a_candidate() {
    let chain = CandidateChain::from_refs([cand("a/1"), cand("b/2"), cand("c/3")]);
    assert_eq!(keys(&chain.starting_at(&cand("b/2"))), ["b/2", "c/3"]);
    assert_eq!(
        keys(&chain.starting_at(&cand("z/9"))),
        ["a/1", "b/2", "c/3"]
    );
    assert_eq!(chain.to_string(), "a/1 -> b/2 -> c/3");
    assert_eq!(chain.head(), Some(&cand("a/1")));
}
