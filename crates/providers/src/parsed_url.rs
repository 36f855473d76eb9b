//! Upstream URLs parsed once per distinct text, for the whole process. A base URL is fixed by
//! config, but the request path asked about it on every call (where to send it, whether it is
//! OpenAI's own API, whether it is local, whether it is an Ollama port), and `Url::parse` with
//! its IDNA host processing was 5% of the gateway's CPU per request in the profile of
//! `BENCHMARKS.md`. Texts that fail to parse are remembered too (as `None`). A kept URL is
//! shared (`Arc`): asking costs no copy of it.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, RwLock};

use reqwest::Url;

/// Distinct texts kept; past this many (URLs built from request data) the rest are parsed per
/// call.
const KEPT_MAX: usize = 1024;

static PARSED: LazyLock<RwLock<HashMap<String, Option<Arc<Url>>>>> = LazyLock::new(RwLock::default);

/// `Url::parse(text)`, remembered.
pub fn parse(text: &str) -> Option<Arc<Url>> {
    if let Some(known) = PARSED
        .read()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .get(text)
    {
        return known.clone();
    }
    let parsed = Url::parse(text).ok().map(Arc::new);
    let mut kept = PARSED
        .write()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if kept.len() < KEPT_MAX {
        kept.insert(text.to_string(), parsed.clone());
    }
    parsed
}

/// Whether `text` is remembered (tests).
#[cfg(test)]
pub(crate) fn is_kept(text: &str) -> bool {
    PARSED
        .read()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .contains_key(text)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_url_parses_once_and_comes_back_unchanged() {
        let text = "http://127.0.0.1:9/parsed-url-test/v1?key=x";
        assert!(!is_kept(text));
        assert_eq!(parse(text).unwrap().as_str(), text);
        assert!(is_kept(text));
        assert_eq!(parse(text).unwrap().as_str(), text);
        assert!(parse("not a url (parsed-url test)").is_none());
        assert!(parse("not a url (parsed-url test)").is_none());
    }
}
