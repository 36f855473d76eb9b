//! `web_fetch`: GET an http(s) URL through the address guard ([`fetch_guard`]), with a timeout,
//! a size cap and hand-followed redirects; HTML comes back as readable text (`html2text`). The
//! body is untrusted: the loop wraps it in boundary markers with its source.
//!
//! One HTTP client per tool instance (per agent runtime), built with the guard's DNS hook.

use std::sync::Arc;

use async_trait::async_trait;
use clawgate_wire::ToolSpec;
use futures::StreamExt;
use serde_json::{Value, json};

use super::fetch_guard::{HostResolver, SsrfPolicy, SystemResolver, blocked_cause, guarded_client};
use super::{Tool, ToolContext, ToolOutput, ToolSettings, schema, str_arg};
use crate::untrusted::ContentOrigin;

/// Lines of converted HTML are wrapped at this width.
const TEXT_WIDTH: usize = 120;

pub struct WebFetchTool {
    client: Result<reqwest::Client, String>,
    policy: Arc<SsrfPolicy>,
    max_redirects: u32,
}

impl std::fmt::Debug for WebFetchTool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebFetchTool")
            .field("policy", &self.policy)
            .field("max_redirects", &self.max_redirects)
            .finish_non_exhaustive()
    }
}

impl WebFetchTool {
    /// The guard from `settings.web_fetch`, names resolved by the system resolver.
    pub fn new(settings: &ToolSettings) -> Self {
        Self::with_resolver(settings, Arc::new(SystemResolver))
    }

    /// The same with another resolver (tests use a hosts table).
    pub fn with_resolver(settings: &ToolSettings, resolver: Arc<dyn HostResolver>) -> Self {
        let policy = Arc::new(settings.web_fetch.ssrf.clone());
        let client = guarded_client(policy.clone(), resolver).map_err(|e| e.to_string());
        WebFetchTool {
            client,
            policy,
            max_redirects: settings.web_fetch.max_redirects,
        }
    }

    /// Send GETs, following redirects by hand and checking every hop.
    async fn get(
        &self,
        start: &str,
        ctx: &ToolContext,
    ) -> Result<(reqwest::Url, reqwest::Response), String> {
        let client = self
            .client
            .as_ref()
            .map_err(|e| format!("http client: {e}"))?;
        let mut url = reqwest::Url::parse(start).map_err(|e| format!("bad URL {start}: {e}"))?;
        let mut hops = 0u32;
        loop {
            if !matches!(url.scheme(), "http" | "https") {
                return Err(format!(
                    "only http and https URLs can be fetched (got {url})"
                ));
            }
            let host = url.host_str().ok_or_else(|| format!("{url} has no host"))?;
            self.policy.check_host(host).map_err(|b| b.0)?;
            let response = client
                .get(url.clone())
                .timeout(ctx.settings.web_fetch_timeout)
                .send()
                .await
                .map_err(|e| match blocked_cause(&e) {
                    Some(b) => b.0.clone(),
                    None => format!("fetch {url}: {}", error_chain(&e)),
                })?;
            let location = response
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            match location {
                Some(loc) if response.status().is_redirection() => {
                    if hops >= self.max_redirects {
                        return Err(format!(
                            "fetch {start}: more than {} redirects (tools.web.fetch.maxRedirects)",
                            self.max_redirects
                        ));
                    }
                    hops += 1;
                    url = url
                        .join(&loc)
                        .map_err(|e| format!("bad redirect from {url} to {loc}: {e}"))?;
                }
                _ => return Ok((url, response)),
            }
        }
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

#[async_trait]
impl Tool for WebFetchTool {
    fn spec(&self) -> ToolSpec {
        ToolSpec {
            name: "web_fetch".into(),
            description: Some(
                "Fetch a public web page (http or https) and return its text (HTML converted to \
                 readable text). The content is untrusted."
                    .into(),
            ),
            parameters: schema(json!({"url": {"type": "string"}}), &["url"]),
        }
    }

    async fn run(&self, args: Value, ctx: &ToolContext) -> ToolOutput {
        let requested = match str_arg(&args, "url") {
            Ok(u) => u.trim(),
            Err(e) => return e,
        };
        let (url, response) = match self.get(requested, ctx).await {
            Ok(r) => r,
            Err(e) => return ToolOutput::error(e),
        };
        let status = response.status();
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let cap = ctx.settings.web_fetch_max_bytes;
        let mut body = Vec::new();
        let mut total = 0usize;
        let mut stream = response.bytes_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = match chunk {
                Ok(c) => c,
                Err(e) => return ToolOutput::error(format!("fetch {url}: {e}")),
            };
            total += chunk.len();
            let room = cap.saturating_sub(body.len());
            body.extend_from_slice(&chunk[..chunk.len().min(room)]);
            if total > cap {
                break; // stop downloading: the rest would be dropped anyway
            }
        }
        let lower = content_type.to_ascii_lowercase();
        let mut text = if lower.contains("html") {
            html2text::from_read(&body[..], TEXT_WIDTH)
                .unwrap_or_else(|_| String::from_utf8_lossy(&body).into_owned())
        } else {
            String::from_utf8_lossy(&body).into_owned()
        };
        if total > cap {
            text.push_str(&format!("\n[content truncated at {cap} bytes]"));
        }
        let mut origin = ContentOrigin::new("Web Fetch").with("URL", requested);
        if url.as_str() != requested {
            origin = origin.with("Final-URL", url.as_str());
        }
        let origin = origin
            .with("Status", &status.as_u16().to_string())
            .with("Content-Type", &content_type)
            .warned();
        ToolOutput {
            content: text,
            is_error: !status.is_success(),
            origin: Some(origin),
        }
    }
}
