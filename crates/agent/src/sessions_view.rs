//! Read-only views of an agent's sessions for `clawgate sessions list|show|export`: they read
//! `sessions.json` and the transcript from disk and take no lock, so they work while a chat or
//! gateway holds the session open.

use std::path::PathBuf;

use clawgate_wire::{ContentBlock, Role};

use crate::error::AgentError;
use crate::runtime::AgentRuntime;
use crate::session::{
    EntryBody, LoadedTranscript, SessionEntry, SessionStore, entry_transcript_path, load_transcript,
};

/// One row of a session list; serialised in camelCase (`sessions list --json`, the gateway's
/// `GET /clawgate/v1/sessions`).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionSummary {
    pub key: String,
    pub session_id: String,
    pub updated_at: u64,
    pub model_override: Option<String>,
    pub total_tokens: u64,
    pub context_tokens: Option<u64>,
    pub compaction_count: u32,
}

#[derive(Debug, Clone)]
pub struct SessionView {
    pub key: String,
    pub entry: SessionEntry,
    pub transcript_path: PathBuf,
    pub transcript: LoadedTranscript,
}

impl SessionView {
    /// The model of the newest assistant message on the active branch.
    pub fn last_model(&self) -> Option<String> {
        self.transcript
            .active_branch()
            .iter()
            .rev()
            .find_map(|e| match &e.body {
                EntryBody::Message(m) if m.role == Role::Assistant => m.model.clone(),
                _ => None,
            })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// The transcript file as it is on disk.
    Jsonl,
    /// A readable Markdown rendering of the active branch.
    Markdown,
}

/// The runtime's views first wait for its queued index changes, then read the files on the
/// blocking pool (the same read the CLI does).
impl AgentRuntime {
    async fn read_store<T, F>(&self, read: F) -> Result<T, AgentError>
    where
        T: Send + 'static,
        F: FnOnce(&SessionStore) -> Result<T, AgentError> + Send + 'static,
    {
        self.flush_sessions().await?;
        let store = self.store().clone();
        tokio::task::spawn_blocking(move || read(&store))
            .await
            .map_err(|e| AgentError::io(PathBuf::from("sessions"), std::io::Error::other(e)))?
    }

    /// All sessions of this agent, most recently updated first.
    pub async fn list_sessions(&self) -> Result<Vec<SessionSummary>, AgentError> {
        self.read_store(SessionStore::list).await
    }

    /// A session by key, or by session id.
    pub async fn show_session(&self, key_or_id: &str) -> Result<SessionView, AgentError> {
        let key = key_or_id.to_string();
        self.read_store(move |s| s.show(&key)).await
    }

    pub async fn export_session(
        &self,
        key_or_id: &str,
        format: ExportFormat,
    ) -> Result<String, AgentError> {
        let key = key_or_id.to_string();
        self.read_store(move |s| s.export(&key, format)).await
    }
}

/// The same views without a runtime (no model client needed), e.g. for `clawgate sessions`:
/// `SessionStore::for_agent(state_dir, agent_id).list()`.
impl SessionStore {
    /// All sessions, most recently updated first.
    pub fn list(&self) -> Result<Vec<SessionSummary>, AgentError> {
        let mut out: Vec<SessionSummary> = self
            .load()?
            .into_iter()
            .map(|(key, e)| SessionSummary {
                key,
                session_id: e.session_id,
                updated_at: e.updated_at,
                model_override: e.model_override,
                total_tokens: e.total_tokens,
                context_tokens: e.context_tokens,
                compaction_count: e.compaction_count,
            })
            .collect();
        out.sort_by(|a, b| b.updated_at.cmp(&a.updated_at).then(a.key.cmp(&b.key)));
        Ok(out)
    }

    /// A session by key, or by session id.
    pub fn show(&self, key_or_id: &str) -> Result<SessionView, AgentError> {
        let all = self.load()?;
        let (key, entry) = all
            .iter()
            .find(|(k, _)| k.as_str() == key_or_id)
            .or_else(|| all.iter().find(|(_, e)| e.session_id == key_or_id))
            .map(|(k, e)| (k.clone(), e.clone()))
            .ok_or_else(|| AgentError::UnknownSession(key_or_id.to_string()))?;
        let path = entry_transcript_path(self.dir(), &entry);
        let transcript = load_transcript(&path).map_err(|e| match e {
            AgentError::Io { source, .. } => self.io(&path, source),
            other => other,
        })?;
        Ok(SessionView {
            key,
            entry,
            transcript_path: path,
            transcript,
        })
    }

    pub fn export(&self, key_or_id: &str, format: ExportFormat) -> Result<String, AgentError> {
        let view = self.show(key_or_id)?;
        match format {
            ExportFormat::Jsonl => std::fs::read(&view.transcript_path)
                .map(|b| String::from_utf8_lossy(&b).into_owned())
                .map_err(|e| AgentError::io(&view.transcript_path, e)),
            ExportFormat::Markdown => Ok(render_markdown(&view)),
        }
    }
}

fn render_markdown(view: &SessionView) -> String {
    let mut out = format!(
        "# Session {}\n\nSession id `{}`",
        view.key, view.entry.session_id
    );
    if let Some(h) = &view.transcript.header {
        out.push_str(&format!(", started {}", h.timestamp));
    }
    out.push_str("\n\n");
    for entry in view.transcript.active_branch() {
        match &entry.body {
            EntryBody::Message(m) => {
                let who = match m.role {
                    Role::User => "User",
                    Role::Assistant => "Assistant",
                    Role::Tool => "Tool",
                };
                out.push_str(&format!("## {who} · {}\n\n", entry.timestamp));
                for block in &m.content {
                    match block {
                        ContentBlock::Text { text } => {
                            out.push_str(text.trim());
                            out.push_str("\n\n");
                        }
                        ContentBlock::Reasoning { text, .. } => {
                            for line in text.trim().lines() {
                                out.push_str("> ");
                                out.push_str(line);
                                out.push('\n');
                            }
                            out.push('\n');
                        }
                        ContentBlock::Image { .. } => out.push_str("*[image]*\n\n"),
                        ContentBlock::ToolCall {
                            name, arguments, ..
                        } => {
                            out.push_str(&format!("Tool call `{name}` `{arguments}`\n\n"));
                        }
                        ContentBlock::ToolResult {
                            name,
                            content,
                            is_error,
                            ..
                        } => {
                            let name = name.as_deref().unwrap_or("tool");
                            let flag = if *is_error { " (error)" } else { "" };
                            out.push_str(&format!("Result of `{name}`{flag}:\n\n````\n"));
                            out.push_str(content.trim_end());
                            out.push_str("\n````\n\n");
                        }
                    }
                }
            }
            EntryBody::Compaction(c) => {
                out.push_str(&format!(
                    "## Compaction · {} (~{} tokens before)\n\n",
                    entry.timestamp, c.tokens_before
                ));
                out.push_str(c.summary.trim());
                out.push_str("\n\n");
            }
            EntryBody::Other(_) => {}
        }
    }
    out
}
