//! One row of `sessions.json` in OpenClaw's shape. Fields this crate does not model are kept
//! verbatim, so a state dir shared with OpenClaw loses nothing.

use serde::{Deserialize, Serialize};

/// One row of `sessions.json` (the model-relevant subset of OpenClaw's `SessionEntry`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionEntry {
    pub session_id: String,
    /// Transcript file name, relative to the sessions folder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_file: Option<String>,
    #[serde(default)]
    pub session_started_at: u64,
    #[serde(default)]
    pub last_interaction_at: u64,
    #[serde(default)]
    pub updated_at: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_override: Option<String>,
    /// `"user"` for `/model`; clawgate never writes `"auto"` (fallback is turn-local).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_override_source: Option<String>,
    #[serde(default)]
    pub input_tokens: u64,
    #[serde(default)]
    pub output_tokens: u64,
    #[serde(default)]
    pub total_tokens: u64,
    /// Best-effort size of the context sent last (reported, else estimated).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_tokens: Option<u64>,
    #[serde(default)]
    pub compaction_count: u32,
    /// When the last pre-compaction memory flush ran (epoch ms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_flush_at: Option<u64>,
    /// `compaction_count` at the last memory flush: one flush per compaction cycle.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_flush_compaction_count: Option<u32>,
    /// `"on"` or `"off"`; absent means the agent default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_level: Option<String>,
    /// The fallback model the user was last told about (notice de-duplication).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fallback_notice_model: Option<String>,
    /// Fields this crate does not model, kept verbatim.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl SessionEntry {
    pub fn reasoning_on(&self, default: bool) -> bool {
        match self.reasoning_level.as_deref() {
            Some("on") | Some("stream") => true,
            Some(_) => false,
            None => default,
        }
    }
}
