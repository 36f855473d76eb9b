//! Where each dialect's requests go, and what kind of server a base URL points at. OpenClaw's
//! base-URL conventions differ per api (Anthropic's omit `/v1`, Ollama's are native roots),
//! and users paste them both ways, so every join here tolerates a trailing `/` and an extra or
//! missing `/v1` instead of doubling it.

use std::net::IpAddr;

/// Default base URLs when config leaves `baseUrl` empty.
pub const OPENAI_DEFAULT_BASE: &str = "https://api.openai.com/v1";
pub const ANTHROPIC_DEFAULT_BASE: &str = "https://api.anthropic.com";
pub const OLLAMA_DEFAULT_BASE: &str = "http://127.0.0.1:11434";

/// Provider ids OpenClaw registers as bundled local servers.
const LOCAL_PROVIDER_IDS: &[&str] = &["ollama", "lmstudio", "vllm", "sglang", "llama-cpp"];

fn trimmed(base: &str) -> &str {
    base.trim().trim_end_matches('/')
}

/// `(base without its query, "?query" or "")`: a path is appended before the query, so
/// `https://h/v1?key=x` + `/chat/completions` is `https://h/v1/chat/completions?key=x`. A
/// fragment is never sent, so it is dropped.
fn split_query(base: &str) -> (&str, &str) {
    let base = base.trim();
    let base = base.split_once('#').map_or(base, |(before, _)| before);
    match base.find('?') {
        Some(q) => (trimmed(&base[..q]), &base[q..]),
        None => (trimmed(base), ""),
    }
}

/// `{base}{path}` with the base's query (if any) kept at the end; `default` when `base` is
/// empty.
fn join(base: &str, default: &str, path: &str) -> String {
    let (root, query) = split_query(base);
    let root = if root.is_empty() { default } else { root };
    format!("{root}{path}{query}")
}

fn strip_v1(base: &str) -> &str {
    base.strip_suffix("/v1").unwrap_or(base)
}

/// `POST {base}/chat/completions`.
pub fn chat_completions_url(base: &str) -> String {
    join(base, OPENAI_DEFAULT_BASE, "/chat/completions")
}

/// `POST {base}/responses`.
pub fn responses_url(base: &str) -> String {
    join(base, OPENAI_DEFAULT_BASE, "/responses")
}

/// `POST {base}/embeddings`.
pub fn embeddings_url(base: &str) -> String {
    join(base, OPENAI_DEFAULT_BASE, "/embeddings")
}

/// `GET {base}/models` (OpenAI-compatible discovery).
pub fn openai_models_url(base: &str) -> String {
    join(base, OPENAI_DEFAULT_BASE, "/models")
}

/// `{root}/v1{path}` for Anthropic: OpenClaw's base URLs omit `/v1`, but a pasted `…/v1` must
/// not become `/v1/v1/messages`.
fn anthropic_url(base: &str, path: &str) -> String {
    let (root, query) = split_query(base);
    let root = strip_v1(if root.is_empty() {
        ANTHROPIC_DEFAULT_BASE
    } else {
        root
    });
    format!("{root}/v1{path}{query}")
}

/// `POST {root}/v1/messages`.
pub fn anthropic_messages_url(base: &str) -> String {
    anthropic_url(base, "/messages")
}

/// `GET {root}/v1/models`.
pub fn anthropic_models_url(base: &str) -> String {
    anthropic_url(base, "/models")
}

/// `{root}{path}` on Ollama's native root: the base without a trailing `/` or `/v1` (its
/// query kept at the end).
pub fn ollama_url(base: &str, path: &str) -> String {
    let (root, query) = split_query(base);
    let root = strip_v1(if root.is_empty() {
        OLLAMA_DEFAULT_BASE
    } else {
        root
    });
    format!("{root}{path}{query}")
}

/// `scheme://host:port` of a base URL (LM Studio's native API lives at the origin).
pub fn origin(base: &str) -> Option<String> {
    let url = crate::parsed_url::parse(trimmed(base))?;
    let origin = url.origin();
    origin.is_tuple().then(|| origin.ascii_serialization())
}

/// What `answer` says of the base URL's host (lowercase already: the URL parser normalises
/// it), without brackets around an IPv6 address; `None` without a host.
fn with_host<T>(base: &str, answer: impl FnOnce(&str) -> T) -> Option<T> {
    let url = crate::parsed_url::parse(trimmed(base))?;
    let host = url.host_str()?;
    Some(answer(host.trim_start_matches('[').trim_end_matches(']')))
}

/// True when the base URL is OpenAI's own API (empty base = OpenAI). OpenAI-only fields
/// (`store`, developer role, `max_completion_tokens`) go only there.
pub fn is_openai_native(base: &str) -> bool {
    if trimmed(base).is_empty() {
        return true;
    }
    with_host(base, |host| host == "api.openai.com").unwrap_or(false)
}

/// True when the upstream is on this machine or the local network, or is one of OpenClaw's
/// bundled local providers. Local servers get local defaults (usage in streaming on).
pub fn is_local(provider_id: &str, base: &str) -> bool {
    if LOCAL_PROVIDER_IDS.contains(&provider_id) {
        return true;
    }
    with_host(base, |host| {
        if host == "localhost" || host.ends_with(".localhost") || host.ends_with(".local") {
            return true;
        }
        match host.parse::<IpAddr>() {
            Ok(IpAddr::V4(v4)) => v4.is_loopback() || v4.is_private() || v4.is_link_local(),
            Ok(IpAddr::V6(v6)) => {
                v6.is_loopback() || (v6.segments()[0] & 0xfe00) == 0xfc00 // unique local
            }
            Err(_) => false,
        }
    })
    .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anthropic_accepts_base_with_or_without_v1() {
        for base in [
            "https://api.anthropic.com",
            "https://api.anthropic.com/",
            "https://api.anthropic.com/v1",
            "https://api.anthropic.com/v1/",
            "",
        ] {
            assert_eq!(
                anthropic_messages_url(base),
                "https://api.anthropic.com/v1/messages",
                "{base}"
            );
        }
        assert_eq!(
            anthropic_messages_url("http://127.0.0.1:9000/proxy"),
            "http://127.0.0.1:9000/proxy/v1/messages"
        );
    }

    #[test]
    fn openai_paths_join_without_double_slash() {
        assert_eq!(
            chat_completions_url("http://127.0.0.1:1234/v1/"),
            "http://127.0.0.1:1234/v1/chat/completions"
        );
        assert_eq!(responses_url(""), "https://api.openai.com/v1/responses");
        assert_eq!(openai_models_url("http://h:1/v1"), "http://h:1/v1/models");
    }

    #[test]
    fn ollama_urls_drop_trailing_v1() {
        assert_eq!(
            ollama_url("http://127.0.0.1:11434/v1/", "/api/chat"),
            "http://127.0.0.1:11434/api/chat"
        );
        assert_eq!(
            ollama_url("http://127.0.0.1:11434", "/api/tags"),
            "http://127.0.0.1:11434/api/tags"
        );
        assert_eq!(
            ollama_url("", "/api/chat"),
            format!("{OLLAMA_DEFAULT_BASE}/api/chat")
        );
    }

    #[test]
    fn paths_go_before_the_query_of_a_base_url() {
        assert_eq!(
            chat_completions_url("https://h/v1?key=x"),
            "https://h/v1/chat/completions?key=x"
        );
        assert_eq!(
            chat_completions_url("https://h/v1/?key=x&api-version=2024-06-01#frag"),
            "https://h/v1/chat/completions?key=x&api-version=2024-06-01"
        );
        assert_eq!(
            responses_url("https://h/v1?key=x"),
            "https://h/v1/responses?key=x"
        );
        assert_eq!(
            openai_models_url("https://h/v1?k=1"),
            "https://h/v1/models?k=1"
        );
        assert_eq!(
            anthropic_messages_url("https://h/v1?key=x"),
            "https://h/v1/messages?key=x"
        );
        assert_eq!(
            ollama_url("http://h:11434/v1?key=x", "/api/chat"),
            "http://h:11434/api/chat?key=x"
        );
    }

    #[test]
    fn origin_keeps_scheme_host_port() {
        assert_eq!(
            origin("http://localhost:1234/v1").as_deref(),
            Some("http://localhost:1234")
        );
        assert_eq!(
            origin("https://example.com/api/v1").as_deref(),
            Some("https://example.com")
        );
        assert_eq!(
            origin("http://[::1]:8080/v1").as_deref(),
            Some("http://[::1]:8080")
        );
    }

    #[test]
    fn server_kinds() {
        assert!(is_openai_native("https://api.openai.com/v1"));
        // Hosts are compared as the URL parser normalises them (lowercase).
        assert!(is_openai_native("https://API.OpenAI.com/v1"));
        assert!(is_openai_native(""));
        assert!(!is_openai_native("https://openrouter.ai/api/v1"));
        assert!(is_local("custom", "http://127.0.0.1:8000/v1"));
        assert!(is_local("custom", "http://[::1]:8000/v1"));
        assert!(is_local("custom", "http://192.168.1.20:8000/v1"));
        assert!(is_local("custom", "http://localhost:1234/v1"));
        assert!(is_local("custom", "http://LocalHost:1234/v1"));
        assert!(is_local("custom", "http://Studio.Local:1234/v1"));
        assert!(is_local("lmstudio", "http://gpu-box:1234/v1"));
        assert!(!is_local("custom", "https://openrouter.ai/api/v1"));
        assert!(!is_local("custom", "not a url"));
    }
}
