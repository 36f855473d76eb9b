//! clawgate-agent: sessions and transcripts, the context budget, compaction, pruning, the tool
//! loop, tool policy, untrusted-content wrapping and the delivery filter.
//!
//! Must not know about: the HTTP server.
