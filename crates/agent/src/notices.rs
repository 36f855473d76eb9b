//! One-line operational notices about fallbacks, de-duplicated per state change: the user hears
//! once that a fallback answered, and once when the primary answers again. The state (which
//! fallback the user was last told about) lives in the session row, so a restart does not
//! repeat a notice.

use crate::model_client::FallbackInfo;

/// Update `told` (the fallback model last announced) for one answer; returns the notice to
/// show, if the state changed.
pub fn fallback_notice(
    told: &mut Option<String>,
    answered_by: &str,
    fallback: Option<&FallbackInfo>,
) -> Option<String> {
    match fallback {
        Some(info) => {
            if told.as_deref() == Some(answered_by) {
                return None;
            }
            *told = Some(answered_by.to_string());
            Some(format!(
                "↪ fallback: {answered_by} answered (primary {}: {})",
                info.primary, info.reason
            ))
        }
        None => {
            let was = told.take()?;
            Some(format!(
                "↪ primary back: {answered_by} answered again (was {was})"
            ))
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn notices_once_per_state_change() {
        let info = FallbackInfo {
            primary: "ollama/qwen3".into(),
            reason: "network refused".into(),
            ..FallbackInfo::default()
        };
        let mut told = None;
        let first = fallback_notice(&mut told, "anthropic/claude", Some(&info));
        assert_eq!(
            first.as_deref(),
            Some("↪ fallback: anthropic/claude answered (primary ollama/qwen3: network refused)")
        );
        assert_eq!(
            fallback_notice(&mut told, "anthropic/claude", Some(&info)),
            None
        );
        let other = fallback_notice(&mut told, "openai/gpt", Some(&info));
        assert!(other.is_some_and(|n| n.contains("openai/gpt")));
        let back = fallback_notice(&mut told, "ollama/qwen3", None);
        assert_eq!(
            back.as_deref(),
            Some("↪ primary back: ollama/qwen3 answered again (was openai/gpt)")
        );
        assert_eq!(fallback_notice(&mut told, "ollama/qwen3", None), None);
    }
}
