//! `web_fetch`: GET an http(s) URL with a timeout and a size cap. The body is untrusted: it is
//! returned wrapped in boundary markers with its source (see [`crate::untrusted`]).

use async_trait::async_trait;
use clawgate_wire::ToolSpec;
use futures::StreamExt;
use serde_json::{Value, json};

use super::{Tool, ToolContext, ToolOutput, schema, str_arg};
use crate::untrusted::wrap_untrusted;

#[derive(Debug, Clone, Copy)]
pub struct WebFetchTool;

#[async_trait]
impl Tool for WebFetchTool {
    fn spec(&self) -> ToolSpec {
        ToolSpec {
            name: "web_fetch".into(),
            description: Some(
                "Fetch a web page (http or https) and return its text. The content is untrusted."
                    .into(),
            ),
            parameters: schema(json!({"url": {"type": "string"}}), &["url"]),
        }
    }

    async fn run(&self, args: Value, ctx: &ToolContext) -> ToolOutput {
        let url = match str_arg(&args, "url") {
            Ok(u) => u.trim(),
            Err(e) => return e,
        };
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return ToolOutput::error("only http and https URLs can be fetched");
        }
        let client = match reqwest::Client::builder()
            .timeout(ctx.settings.web_fetch_timeout)
            .redirect(reqwest::redirect::Policy::limited(5))
            .build()
        {
            Ok(c) => c,
            Err(e) => return ToolOutput::error(format!("http client: {e}")),
        };
        let response = match client.get(url).send().await {
            Ok(r) => r,
            Err(e) => return ToolOutput::error(format!("fetch {url}: {e}")),
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
        let mut text = String::from_utf8_lossy(&body).into_owned();
        if total > cap {
            text.push_str(&format!("\n[content truncated at {cap} bytes]"));
        }
        let status_line = status.as_u16().to_string();
        let wrapped = wrap_untrusted(
            &text,
            "Web Fetch",
            &[
                ("URL", url),
                ("Status", status_line.as_str()),
                ("Content-Type", content_type.as_str()),
            ],
            true,
        );
        ToolOutput {
            content: wrapped,
            is_error: !status.is_success(),
        }
    }
}
