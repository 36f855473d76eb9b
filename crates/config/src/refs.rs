//! Model references: `provider/model[@profile]`, split on the first `/` only, with OpenClaw's
//! provider-id normalisation.

use std::fmt;

use serde::Serialize;

/// Trims, lower-cases and maps OpenClaw's provider-id aliases (spec §1.2).
pub fn normalize_provider_id(raw: &str) -> String {
    let id = raw.trim().to_lowercase();
    match id.as_str() {
        "z.ai" | "z-ai" => "zai".into(),
        "opencode-zen" => "opencode".into(),
        "qwen" => "qwen-portal".into(),
        "kimi-code" => "kimi-coding".into(),
        "bedrock" | "aws-bedrock" => "amazon-bedrock".into(),
        "bytedance" | "doubao" => "volcengine".into(),
        "llama-cpp" | "llama.cpp" => "llamacpp".into(),
        "lm-studio" => "lmstudio".into(),
        _ => id,
    }
}

/// A canonical `provider/model` pair.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct ModelRef {
    pub provider: String,
    pub model: String,
}

impl ModelRef {
    pub fn new(provider: &str, model: &str) -> Self {
        Self {
            provider: normalize_provider_id(provider),
            model: model.trim().to_string(),
        }
    }

    /// Canonical key `provider/model`.
    pub fn key(&self) -> String {
        format!("{}/{}", self.provider, self.model)
    }
}

impl fmt::Display for ModelRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.provider, self.model)
    }
}

/// A user-written ref split into its parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedRef {
    /// `Some` when the text had a `/`.
    pub reference: Option<ModelRef>,
    /// The text without the `@profile` suffix (for alias / bare-id lookups).
    pub text: String,
    /// A trailing `@profile` (auth profile selection), kept separately.
    pub profile: Option<String>,
}

/// Parses `provider/model[@profile]` or a bare id / alias.
///
/// The `@profile` suffix is recognised only after the last `/` and when non-empty, so
/// `anthropic/claude-x@anthropic:work` keeps `anthropic:work` as the profile.
pub fn parse_ref(raw: &str) -> ParsedRef {
    let trimmed = raw.trim();
    let last_slash = trimmed.rfind('/').map_or(0, |i| i + 1);
    let (text, profile) = match trimmed[last_slash..].rfind('@') {
        Some(at) if at > 0 && last_slash + at + 1 < trimmed.len() => {
            let at = last_slash + at;
            (&trimmed[..at], Some(trimmed[at + 1..].trim().to_string()))
        }
        _ => (trimmed, None),
    };
    let reference = text.split_once('/').and_then(|(p, m)| {
        let r = ModelRef::new(p, m);
        (!r.provider.is_empty() && !r.model.is_empty()).then_some(r)
    });
    ParsedRef {
        reference,
        text: text.to_string(),
        profile,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_on_first_slash_only() {
        let p = parse_ref("openrouter/moonshotai/kimi-k2");
        assert_eq!(
            p.reference,
            Some(ModelRef::new("openrouter", "moonshotai/kimi-k2"))
        );
        assert_eq!(p.profile, None);
    }

    #[test]
    fn normalises_provider_ids() {
        assert_eq!(
            parse_ref(" Z.AI/glm-4.6").reference.unwrap().key(),
            "zai/glm-4.6"
        );
        assert_eq!(normalize_provider_id("AWS-Bedrock"), "amazon-bedrock");
        assert_eq!(normalize_provider_id("doubao"), "volcengine");
        assert_eq!(normalize_provider_id("kimi-code"), "kimi-coding");
        assert_eq!(normalize_provider_id("qwen"), "qwen-portal");
        assert_eq!(normalize_provider_id("opencode-zen"), "opencode");
        assert_eq!(normalize_provider_id("OpenAI"), "openai");
    }

    #[test]
    fn keeps_profile_separately() {
        let p = parse_ref("anthropic/claude-opus-4-6@anthropic:work");
        assert_eq!(p.reference.unwrap().model, "claude-opus-4-6");
        assert_eq!(p.profile.as_deref(), Some("anthropic:work"));
        assert_eq!(p.text, "anthropic/claude-opus-4-6");
        let bare = parse_ref("Sonnet@me");
        assert_eq!(bare.reference, None);
        assert_eq!(
            (bare.text.as_str(), bare.profile.as_deref()),
            ("Sonnet", Some("me"))
        );
    }

    #[test]
    fn rejects_empty_parts() {
        assert_eq!(parse_ref("/x").reference, None);
        assert_eq!(parse_ref("x/").reference, None);
        assert_eq!(parse_ref("trailing@").profile, None);
    }
}
