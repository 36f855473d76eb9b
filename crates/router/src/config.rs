//! Router settings: per-provider timeouts (with different defaults for local and hosted
//! providers), the primary-probe policy, the retry cap, and how much of an uncommitted
//! stream (reasoning, unfinished tool calls) is held back and for which models reasoning is
//! forwarded at once. Plain data with defaults; the runtime fills it from `clawgate.json`.

use std::collections::BTreeSet;
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

/// How a candidate's reasoning travels before its answer starts (`docs/failover.md`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReasoningStream {
    /// Held back like the rest of the uncommitted stream, so a candidate that only reasons and
    /// then fails or ends empty can still fail over.
    #[default]
    Hold,
    /// Forwarded at once: the first reasoning commits the stream (no failover after it).
    Immediate,
}

impl ReasoningStream {
    /// `hold` / `immediate`, as in the config and the request header.
    pub fn as_str(self) -> &'static str {
        match self {
            ReasoningStream::Hold => "hold",
            ReasoningStream::Immediate => "immediate",
        }
    }
}

/// The most an attempt may hold back before its stream commits anyway: content that does not
/// commit (reasoning, tool calls before the finish, whitespace-only text) beyond either
/// limit is forwarded, and the router gives up the right to fail over. Bounds the memory one
/// held stream can take; keeps a very long reasoning from waiting for ever.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct HoldLimits {
    /// Bytes of held text (reasoning, tool-call names and arguments, whitespace text).
    pub max_bytes: usize,
    /// Held events of any kind.
    pub max_events: usize,
}

impl Default for HoldLimits {
    fn default() -> Self {
        Self {
            max_bytes: 256 * 1024,
            max_events: 16 * 1024,
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
    /// How much uncommitted content one attempt may hold back.
    pub hold: HoldLimits,
    /// Candidates (`provider/model`) whose reasoning is forwarded at once
    /// ([`ReasoningStream::Immediate`]); a call's own choice overrides this.
    pub immediate_reasoning: BTreeSet<String>,
}

impl Default for RouterConfig {
    fn default() -> Self {
        Self {
            local_timeouts: Timeouts::local(),
            hosted_timeouts: Timeouts::hosted(),
            probe: ProbePolicy::default(),
            max_same_candidate_retries: 1,
            hold: HoldLimits::default(),
            immediate_reasoning: BTreeSet::new(),
        }
    }
}
