//! The context budget: how many tokens a model's window holds, how much of it is kept free for
//! the answer, when to compact, how much recent history to keep verbatim, and a token estimate
//! that learns from what servers report.
//!
//! Rules (also in `docs/compaction.md`):
//! - window = config row → discovered → `default_context_window` (the config registry's
//!   `DEFAULT_CONTEXT_WINDOW`, 200 000, one constant for both); then capped by
//!   `contextTokens` when that is lower. Below `min_context_window` (16 000) the model is refused.
//! - reserve = min(model maxTokens, max(reserveTokens, reserveTokensFloor), window / 4), and at
//!   least min(1024, window / 4). A 16K model thus keeps 3/4 of its window for history.
//! - output cap sent = min(model maxTokens, reserve), so prompt + cap never exceeds the window
//!   (vLLM rejects requests where it would).
//! - prompt budget = window − reserve; compaction after a turn when the context passes
//!   prompt budget − min(prompt budget / 10, 8192).
//! - keep recent = min(keepRecentTokens, 40 % of the prompt budget).
//! - summary cap = min(output cap, max(512, prompt budget / 6)).

use std::collections::HashMap;

use clawgate_config::registry::{DEFAULT_CONTEXT_WINDOW, DEFAULT_MAX_TOKENS};

use crate::error::AgentError;

/// What the context budget needs to know about one model: its window (configured or
/// discovered), its output cap and whether it runs locally (from the config registry or
/// discovery). Named apart from `clawgate_providers::ModelInfo`, the provider's model row.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ModelLimits {
    /// Canonical ref, `provider/model`.
    pub model_ref: String,
    /// `models.providers[p].models[id].contextWindow` from config.
    pub context_window: Option<u64>,
    /// What discovery or the built-in catalog says.
    pub discovered_context_window: Option<u64>,
    pub max_tokens: Option<u32>,
    /// Served by a local provider (LM Studio, vLLM, llama.cpp, Ollama, in-process engine).
    pub is_local: bool,
    /// The row's `input` includes `"image"`.
    pub accepts_images: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BudgetSettings {
    pub default_context_window: u64,
    /// `agents.defaults.contextTokens`: caps every window when lower.
    pub context_tokens_cap: Option<u64>,
    /// `agents.defaults.minContextWindow`.
    pub min_context_window: u64,
    pub reserve_tokens: u64,
    /// `compaction.reserveTokensFloor`; 0 disables.
    pub reserve_tokens_floor: u64,
    pub keep_recent_tokens: u64,
    /// Output cap when the model row has no `maxTokens`.
    pub default_max_tokens: u32,
}

impl Default for BudgetSettings {
    fn default() -> Self {
        BudgetSettings {
            default_context_window: DEFAULT_CONTEXT_WINDOW,
            context_tokens_cap: None,
            min_context_window: 16_000,
            reserve_tokens: 16_384,
            reserve_tokens_floor: 20_000,
            keep_recent_tokens: 20_000,
            // The registry's default row `maxTokens` (8 192) fits in u32.
            default_max_tokens: DEFAULT_MAX_TOKENS as u32,
        }
    }
}

const MIN_RESERVE: u64 = 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContextBudget {
    pub window: u64,
    pub reserve: u64,
    /// `max_tokens` put on requests.
    pub output_cap: u32,
    /// Most tokens a prompt may have.
    pub prompt_budget: u64,
    /// Compact after a turn once the context is above this.
    pub threshold: u64,
    pub keep_recent: u64,
    pub summary_cap: u32,
}

impl ContextBudget {
    pub fn resolve(info: &ModelLimits, settings: &BudgetSettings) -> Result<Self, AgentError> {
        let mut window = info
            .context_window
            .or(info.discovered_context_window)
            .unwrap_or(settings.default_context_window);
        if let Some(cap) = settings.context_tokens_cap {
            window = window.min(cap);
        }
        if window < settings.min_context_window {
            return Err(AgentError::ContextWindowTooSmall {
                model: info.model_ref.clone(),
                window,
                min: settings.min_context_window,
            });
        }
        let model_max = u64::from(info.max_tokens.unwrap_or(settings.default_max_tokens));
        let wanted = settings.reserve_tokens.max(settings.reserve_tokens_floor);
        let quarter = window / 4;
        let reserve = model_max
            .min(wanted)
            .min(quarter)
            .max(MIN_RESERVE.min(quarter))
            .max(1);
        let output_cap = model_max.min(reserve).max(1);
        let prompt_budget = window - reserve;
        let threshold = prompt_budget - (prompt_budget / 10).min(8192);
        let keep_recent = settings.keep_recent_tokens.min(prompt_budget * 2 / 5);
        let summary_cap = u64::from(u32::try_from(output_cap).unwrap_or(u32::MAX))
            .min((prompt_budget / 6).max(512));
        Ok(ContextBudget {
            window,
            reserve,
            output_cap: u32::try_from(output_cap).unwrap_or(u32::MAX),
            prompt_budget,
            threshold,
            keep_recent,
            summary_cap: u32::try_from(summary_cap).unwrap_or(u32::MAX),
        })
    }
}

/// Per-model calibration of the shared estimate (`clawgate_wire::token_estimate`) from the input
/// tokens servers report.
#[derive(Debug, Clone, Default)]
pub struct TokenEstimator {
    ratios: HashMap<String, f64>,
}

/// Bounds of the learned ratio (reported / estimated): 0.25 covers very wordy English under a
/// large vocabulary, 4.0 covers CJK text under a small one.
const RATIO_MIN: f64 = 0.25;
const RATIO_MAX: f64 = 4.0;

impl TokenEstimator {
    pub fn ratio(&self, model_ref: &str) -> f64 {
        self.ratios.get(model_ref).copied().unwrap_or(1.0)
    }

    pub fn calibrated(&self, model_ref: &str, raw: u64) -> u64 {
        (raw as f64 * self.ratio(model_ref)).ceil() as u64
    }

    /// Learn from one call: `raw` was our estimate of the prompt, `reported` the server's count.
    /// The first sample is taken as is; later ones are smoothed, faster upward than downward,
    /// because underestimating costs an overflow round trip and overestimating only compacts
    /// a little early.
    pub fn observe(&mut self, model_ref: &str, raw: u64, reported: u64) {
        if raw == 0 || reported == 0 {
            return;
        }
        let sample = (reported as f64 / raw as f64).clamp(RATIO_MIN, RATIO_MAX);
        let next = match self.ratios.get(model_ref) {
            None => sample,
            Some(&old) if sample > old => 0.5 * old + 0.5 * sample,
            Some(&old) => 0.8 * old + 0.2 * sample,
        };
        self.ratios
            .insert(model_ref.to_string(), next.clamp(RATIO_MIN, RATIO_MAX));
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn info(window: Option<u64>, max: Option<u32>) -> ModelLimits {
        ModelLimits {
            model_ref: "p/m".into(),
            context_window: window,
            max_tokens: max,
            ..ModelLimits::default()
        }
    }

    #[test]
    fn small_window_keeps_three_quarters_for_history() {
        let b =
            ContextBudget::resolve(&info(Some(16_384), None), &BudgetSettings::default()).unwrap();
        assert_eq!(b.window, 16_384);
        assert_eq!(b.reserve, 4_096);
        assert_eq!(b.output_cap, 4_096);
        assert_eq!(b.prompt_budget, 12_288);
        assert_eq!(b.keep_recent, 4_915);
        assert!(b.threshold < b.prompt_budget);
        assert_eq!(b.summary_cap, 2_048);
    }

    #[test]
    fn large_window_reserve_follows_max_tokens_and_floor() {
        let s = BudgetSettings::default();
        let b = ContextBudget::resolve(&info(Some(200_000), Some(64_000)), &s).unwrap();
        assert_eq!(b.reserve, 20_000, "floor raises 16384 to 20000");
        let b = ContextBudget::resolve(&info(Some(200_000), Some(4_096)), &s).unwrap();
        assert_eq!(b.reserve, 4_096);
        assert_eq!(b.keep_recent, 20_000);
    }

    #[test]
    fn configured_reserve_floor_and_keep_recent_are_used() {
        let mut s = BudgetSettings {
            reserve_tokens: 30_000,
            reserve_tokens_floor: 10_000,
            keep_recent_tokens: 7_000,
            ..BudgetSettings::default()
        };
        let big = info(Some(200_000), Some(64_000));
        let b = ContextBudget::resolve(&big, &s).unwrap();
        assert_eq!((b.reserve, b.prompt_budget), (30_000, 170_000));
        assert_eq!(b.keep_recent, 7_000);
        s.reserve_tokens_floor = 40_000;
        assert_eq!(ContextBudget::resolve(&big, &s).unwrap().reserve, 40_000);
    }

    #[test]
    fn resolution_order_and_cap() {
        let mut s = BudgetSettings::default();
        let mut i = info(None, None);
        i.discovered_context_window = Some(32_768);
        assert_eq!(ContextBudget::resolve(&i, &s).unwrap().window, 32_768);
        i.context_window = Some(65_536);
        assert_eq!(ContextBudget::resolve(&i, &s).unwrap().window, 65_536);
        s.context_tokens_cap = Some(20_000);
        assert_eq!(ContextBudget::resolve(&i, &s).unwrap().window, 20_000);
        let none = info(None, None);
        s.context_tokens_cap = None;
        assert_eq!(ContextBudget::resolve(&none, &s).unwrap().window, 200_000);
    }

    #[test]
    fn guard_refuses_tiny_windows_and_is_configurable() {
        let mut s = BudgetSettings::default();
        let err = ContextBudget::resolve(&info(Some(4_096), None), &s).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Model context window too small (4096 tokens). Minimum is 16000."
        );
        s.min_context_window = 4_000;
        let b = ContextBudget::resolve(&info(Some(4_096), None), &s).unwrap();
        assert_eq!(b.reserve, 1_024);
        assert_eq!(b.prompt_budget, 3_072);
    }

    #[test]
    fn estimator_learns_and_stays_bounded() {
        let mut e = TokenEstimator::default();
        assert_eq!(e.calibrated("m", 100), 100);
        e.observe("m", 100, 133);
        assert!((e.ratio("m") - 1.33).abs() < 1e-9);
        e.observe("m", 100, 100);
        assert!(e.ratio("m") < 1.33 && e.ratio("m") > 1.2);
        e.observe("m", 1, 1_000_000);
        assert!(e.ratio("m") <= RATIO_MAX);
        assert_eq!(e.ratio("other"), 1.0);
    }
}
