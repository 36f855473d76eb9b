//! Router settings: per-provider timeouts (with different defaults for local and hosted
//! providers), the primary-probe policy and the retry cap. Plain data with defaults; the
//! config crate fills it from `clawgate.json`.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Time limits for one attempt against one provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Timeouts {
    /// TCP/TLS connect (enforced by the provider's HTTP client via `CallContext`).
    pub connect: Duration,
    /// From the start of the attempt to its first content event (text, reasoning or tool
    /// call). Generous for local servers, which may still be loading the model or prefilling
    /// a long prompt.
    pub first_event: Duration,
    /// Longest gap between two events once the stream is committed.
    pub idle: Duration,
    /// The whole attempt, first byte to last.
    pub total: Duration,
}

impl Timeouts {
    /// Defaults for servers on this machine or the LAN (LM Studio, Ollama, vLLM, llama.cpp).
    pub const fn local() -> Self {
        Self {
            connect: Duration::from_secs(5),
            first_event: Duration::from_secs(120),
            idle: Duration::from_secs(60),
            total: Duration::from_secs(600),
        }
    }

    /// Defaults for hosted APIs (Anthropic, OpenAI, OpenRouter).
    pub const fn hosted() -> Self {
        Self {
            connect: Duration::from_secs(10),
            first_event: Duration::from_secs(30),
            idle: Duration::from_secs(30),
            total: Duration::from_secs(600),
        }
    }
}

/// When the head of a chain is probed while it is cooling down (spec §3.6).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ProbePolicy {
    /// Probe when the remaining cooldown is at most this long...
    pub window: Duration,
    /// ...or at most this fraction of the whole cooldown, whichever window is larger.
    pub window_fraction: f64,
    /// At most one attempt per provider this often while it cools down (the failure that
    /// started the cooldown counts as an attempt).
    pub throttle: Duration,
}

impl Default for ProbePolicy {
    fn default() -> Self {
        Self {
            window: Duration::from_secs(120),
            window_fraction: 0.1,
            throttle: Duration::from_secs(30),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RouterConfig {
    /// Timeouts for providers marked local, unless the provider sets its own.
    pub local_timeouts: Timeouts,
    /// Timeouts for hosted providers, unless the provider sets its own.
    pub hosted_timeouts: Timeouts,
    pub probe: ProbePolicy,
    /// Upper bound on same-candidate retries, whatever the decision table says (0 disables them).
    pub max_same_candidate_retries: u8,
}

impl Default for RouterConfig {
    fn default() -> Self {
        Self {
            local_timeouts: Timeouts::local(),
            hosted_timeouts: Timeouts::hosted(),
            probe: ProbePolicy::default(),
            max_same_candidate_retries: 1,
        }
    }
}
