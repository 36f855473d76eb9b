//! clawgate-router: one logical model call across the candidate chain: attempts, timeouts,
//! first-event commit, the cooldown store, probes and fallback notices.
//!
//! Must not know about: sessions, tools.
