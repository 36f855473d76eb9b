//! Test support: a reqwest client, request bodies per dialect, and a small SSE/NDJSON reader
//! (written here, not borrowed from the wire crate, so these tests check the mock alone).

#![allow(dead_code)]

use std::time::Duration;

use mock_upstream::MockServer;
use serde_json::{Value, json};

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
}

pub async fn post(mock: &MockServer, path: &str, body: &Value) -> reqwest::Response {
    client()
        .post(format!("{}{path}", mock.base_url()))
        .json(body)
        .send()
        .await
        .unwrap()
}

pub async fn post_json(mock: &MockServer, path: &str, body: &Value) -> (u16, Value) {
    let r = post(mock, path, body).await;
    let status = r.status().as_u16();
    (status, r.json().await.unwrap())
}

pub async fn get_json(mock: &MockServer, path: &str) -> (u16, Value) {
    let r = client()
        .get(format!("{}{path}", mock.base_url()))
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap())
}

/// One SSE event.
#[derive(Debug, Clone, PartialEq)]
pub struct Sse {
    pub event: Option<String>,
    pub data: String,
}

impl Sse {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.data).unwrap_or_else(|e| panic!("{e}: {}", self.data))
    }
}

pub fn parse_sse(text: &str) -> Vec<Sse> {
    text.split("\n\n")
        .filter(|block| !block.trim().is_empty())
        .map(|block| {
            let mut event = None;
            let mut data = String::new();
            for line in block.lines() {
                if let Some(e) = line.strip_prefix("event: ") {
                    event = Some(e.to_owned());
                } else if let Some(d) = line.strip_prefix("data: ") {
                    data.push_str(d);
                } else {
                    panic!("unexpected SSE line: {line:?}");
                }
            }
            Sse { event, data }
        })
        .collect()
}

pub fn parse_ndjson(text: &str) -> Vec<Value> {
    text.lines()
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Streams the body and returns it as text.
pub async fn stream_text(mock: &MockServer, path: &str, body: &Value) -> (u16, String, String) {
    let r = post(mock, path, body).await;
    let status = r.status().as_u16();
    let ct = r
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, ct, r.text().await.unwrap())
}

pub fn weather_tool_chat() -> Value {
    json!({"type": "function", "function": {"name": "get_weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                       "required": ["city"]}}})
}

pub fn chat(stream: bool) -> Value {
    json!({"model": "mock-model", "stream": stream,
           "messages": [{"role": "system", "content": "be brief"},
                        {"role": "user", "content": "hello there"}]})
}

pub fn responses(stream: bool) -> Value {
    json!({"model": "mock-model", "stream": stream, "input": "hello there"})
}

pub fn anthropic(stream: bool) -> Value {
    json!({"model": "mock-model", "stream": stream, "max_tokens": 100,
           "messages": [{"role": "user", "content": [{"type": "text", "text": "hello there"}]}]})
}

pub fn ollama(stream: bool) -> Value {
    json!({"model": "mock-model", "stream": stream,
           "messages": [{"role": "user", "content": "hello there"}]})
}
