//! Ollama's `/api/chat` and `/api/generate` in front of every upstream dialect: NDJSON
//! streaming by default, one JSON object with `stream: false`, Ollama's error shape and
//! statuses, tool calls in Ollama's shape, an agent target, failover, reasoning only ever in
//! `thinking`, and each request field's effect on the upstream request.

use mock_upstream::{Fault, Script};
use serde_json::{Value, json};

use crate::support::{Harness, MODEL, Setup, dead_port, provider_entry};

/// Each line of an NDJSON body, parsed (every line must be one JSON object).
pub fn ndjson(body: &str) -> Vec<Value> {
    assert!(body.ends_with('\n'), "NDJSON ends with a newline: {body:?}");
    body.lines()
        .map(|line| {
            serde_json::from_str(line).unwrap_or_else(|e| panic!("line {line:?} is not JSON: {e}"))
        })
        .collect()
}

/// The answer text of Ollama stream lines (`message.content` or `response`).
pub fn streamed_text(lines: &[Value]) -> String {
    lines
        .iter()
        .filter_map(|l| {
            l["message"]["content"]
                .as_str()
                .or_else(|| l["response"].as_str())
        })
        .collect()
}

pub fn chat(model: &str, prompt: &str) -> Value {
    json!({ "model": model, "messages": [{ "role": "user", "content": prompt }] })
}

/// The timing and count fields of a final object, all present and consistent.
fn assert_final_fields(last: &Value) {
    assert_eq!(last["done"], true, "{last}");
    for field in [
        "total_duration",
        "load_duration",
        "prompt_eval_duration",
        "eval_duration",
    ] {
        assert!(last[field].is_u64(), "{field} in {last}");
    }
    let total = last["total_duration"].as_u64().unwrap();
    assert!(total > 0, "{last}");
    assert!(
        last["prompt_eval_duration"].as_u64().unwrap() + last["eval_duration"].as_u64().unwrap()
            <= total,
        "{last}"
    );
    assert!(last["prompt_eval_count"].is_u64(), "{last}");
    assert!(last["eval_count"].is_u64(), "{last}");
    let created = last["created_at"].as_str().unwrap();
    assert!(
        created.ends_with('Z') && !created.starts_with("1970"),
        "{created}"
    );
}

#[tokio::test]
async fn chat_streams_ndjson_by_default_from_every_upstream_dialect() {
    let h = Harness::start().await;
    for upstream in ["chatup", "respup", "anthup", "ollup"] {
        let model = format!("{upstream}/{MODEL}");
        let r = h.post("/api/chat", &chat(&model, "hi")).await;
        assert_eq!(r.status(), 200, "{upstream}");
        assert_eq!(r.headers()["content-type"], "application/x-ndjson");
        assert_eq!(r.headers()["x-clawgate-model"], model.as_str());
        let lines = ndjson(&r.text().await.unwrap());
        assert!(lines.len() >= 2, "{upstream}: {lines:?}");
        assert_eq!(streamed_text(&lines), "mock answer to: hi", "{upstream}");
        for line in &lines[..lines.len() - 1] {
            assert_eq!(line["done"], false, "{line}");
            assert_eq!(line["model"], model.as_str());
            assert_eq!(line["message"]["role"], "assistant");
        }
        let last = lines.last().unwrap();
        assert_eq!(last["done_reason"], "stop", "{upstream}: {last}");
        assert_eq!(last["message"]["content"], "");
        assert_final_fields(last);
    }
}

#[tokio::test]
async fn chat_without_streaming_is_one_object() {
    let h = Harness::start().await;
    let mut body = chat("fast", "hi");
    body["stream"] = false.into();
    let r = h.post("/api/chat", &body).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/json");
    assert_eq!(r.headers()["x-clawgate-model"], "chatup/mock-model");
    let answer: Value = r.json().await.unwrap();
    assert_eq!(answer["model"], "chatup/mock-model");
    assert_eq!(
        answer["message"],
        json!({ "role": "assistant", "content": "mock answer to: hi" })
    );
    assert_eq!(answer["done_reason"], "stop");
    assert_final_fields(&answer);
}

#[tokio::test]
async fn generate_maps_prompt_and_system_both_ways() {
    let h = Harness::start().await;
    let model = format!("ollup/{MODEL}");
    let body = json!({ "model": model, "prompt": "why is the sky blue?", "system": "be brief",
                       "stream": false });
    let r = h.post("/api/generate", &body).await;
    assert_eq!(r.status(), 200);
    let answer: Value = r.json().await.unwrap();
    assert_eq!(answer["response"], "mock answer to: why is the sky blue?");
    assert!(answer.get("message").is_none(), "{answer}");
    assert_final_fields(&answer);
    let sent = h.mock.requests().pop().unwrap();
    assert_eq!(sent.path, "/api/chat");
    assert_eq!(
        sent.body["messages"],
        json!([{ "role": "system", "content": "be brief" },
               { "role": "user", "content": "why is the sky blue?" }])
    );

    let r = h
        .post(
            "/api/generate",
            &json!({ "model": "fast", "prompt": "stream it" }),
        )
        .await;
    assert_eq!(r.headers()["content-type"], "application/x-ndjson");
    let lines = ndjson(&r.text().await.unwrap());
    assert_eq!(streamed_text(&lines), "mock answer to: stream it");
    assert!(lines.iter().all(|l| l.get("message").is_none()));
    assert_eq!(lines.last().unwrap()["done_reason"], "stop");
    assert_final_fields(lines.last().unwrap());
}

#[tokio::test]
async fn errors_are_ollama_shaped_with_ollama_statuses() {
    let h = Harness::start().await;
    let r = h.post("/api/chat", &chat("nope/never", "hi")).await;
    assert_eq!(r.status(), 404);
    let body: Value = r.json().await.unwrap();
    assert!(
        body["error"].as_str().unwrap().contains("nope/never"),
        "{body}"
    );
    assert_eq!(body.as_object().unwrap().len(), 1, "only `error`: {body}");

    let r = h
        .http
        .post(h.url("/api/chat"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let body: Value = r.json().await.unwrap();
    assert!(body["error"].as_str().unwrap().contains("not valid JSON"));

    let fim = json!({ "model": "fast", "prompt": "def f(", "suffix": "return 1" });
    let r = h.post("/api/generate", &fim).await;
    assert_eq!(r.status(), 400);
    let message = r.json::<Value>().await.unwrap()["error"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(message.contains("$.suffix"), "{message}");

    // Every candidate failing before the answer started: 502.
    h.mock.push_script(Script::fault(Fault::Status500));
    let r = h
        .http
        .post(h.url("/api/chat"))
        .header("x-clawgate-fallbacks", "none")
        .json(&chat(&format!("respup/{MODEL}"), "hi"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 502);
    assert!(r.json::<Value>().await.unwrap()["error"].is_string());

    // A failure after the stream started ends it with an `error` line.
    h.mock.push_script(Script::fault(Fault::ErrorInStream));
    let r = h.post("/api/chat", &chat("fast", "hi")).await;
    assert_eq!(r.status(), 200);
    let lines = ndjson(&r.text().await.unwrap());
    assert!(!streamed_text(&lines).is_empty(), "{lines:?}");
    let last = lines.last().unwrap();
    assert!(
        last["error"].as_str().is_some_and(|e| !e.is_empty()),
        "{last}"
    );
    assert!(lines.iter().all(|l| l["done"] != true), "{lines:?}");
}

#[tokio::test]
async fn a_missing_token_is_401_in_ollama_shape() {
    let h = Harness::with(Setup {
        token: Some("gw-secret".into()),
        ..Setup::default()
    })
    .await;
    let r = h
        .http
        .post(h.url("/api/chat"))
        .json(&chat("fast", "hi"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let body: Value = r.json().await.unwrap();
    assert!(body["error"].as_str().unwrap().contains("token"), "{body}");
    assert_eq!(h.post("/api/chat", &chat("fast", "hi")).await.status(), 200);
}

fn weather_tools() -> Value {
    json!([{ "type": "function", "function": {
        "name": "get_weather", "description": "Weather for a city",
        "parameters": { "type": "object", "properties": { "city": { "type": "string" } },
                        "required": ["city"] },
    }}])
}

#[tokio::test]
async fn tool_calls_go_both_ways_in_ollamas_shape() {
    let h = Harness::start().await;
    for upstream in ["chatup", "anthup", "ollup"] {
        for stream in [false, true] {
            h.mock.push_script(
                Script::default().with_tool_call("get_weather", json!({ "city": "Paris" })),
            );
            let mut body = chat(&format!("{upstream}/{MODEL}"), "weather in Paris?");
            body["tools"] = weather_tools();
            body["stream"] = stream.into();
            let r = h.post("/api/chat", &body).await;
            assert_eq!(r.status(), 200, "{upstream}");
            let text = r.text().await.unwrap();
            let objects = if stream {
                ndjson(&text)
            } else {
                vec![serde_json::from_str(&text).unwrap()]
            };
            let calls: Vec<&Value> = objects
                .iter()
                .filter_map(|o| o["message"]["tool_calls"].as_array())
                .flatten()
                .collect();
            assert_eq!(calls.len(), 1, "{upstream} stream={stream}: {text}");
            assert_eq!(calls[0]["function"]["name"], "get_weather");
            assert_eq!(
                calls[0]["function"]["arguments"],
                json!({ "city": "Paris" })
            );
            assert_eq!(objects.last().unwrap()["done_reason"], "stop");
            // The upstream got the tool in its own dialect.
            let sent = h.mock.requests().pop().unwrap();
            assert!(sent.body["tools"].to_string().contains("get_weather"));
        }
    }
    // The result goes back as a `tool` message named by `tool_name`.
    let body = json!({ "model": format!("chatup/{MODEL}"), "stream": false, "tools": weather_tools(),
        "messages": [
            { "role": "user", "content": "weather in Paris?" },
            { "role": "assistant", "content": "", "tool_calls": [
                { "function": { "name": "get_weather", "arguments": { "city": "Paris" } } }] },
            { "role": "tool", "tool_name": "get_weather", "content": "18 degrees" },
        ] });
    let r = h.post("/api/chat", &body).await;
    assert_eq!(r.status(), 200);
    let sent = h.mock.requests().pop().unwrap();
    let messages = sent.body["messages"].as_array().unwrap();
    let call_id = messages[1]["tool_calls"][0]["id"].as_str().unwrap();
    assert_eq!(
        messages[1]["tool_calls"][0]["function"]["name"],
        "get_weather"
    );
    assert_eq!(messages[2]["role"], "tool");
    assert_eq!(messages[2]["tool_call_id"], call_id);
    assert_eq!(messages[2]["content"], "18 degrees");
}

#[tokio::test]
async fn an_agent_target_answers_in_ollamas_shape() {
    let h = Harness::start().await;
    h.mock.push_scripts(
        Script::default().with_reasoning("private agent thoughts"),
        2,
    );
    let mut body = chat("clawgate/main", "hello agent");
    body["stream"] = false.into();
    let r = h.post("/api/chat", &body).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-clawgate-agent"], "main");
    let answer: Value = r.json().await.unwrap();
    assert_eq!(answer["model"], "clawgate/main");
    assert!(
        answer["message"]["content"]
            .as_str()
            .unwrap()
            .contains("hello agent"),
        "{answer}"
    );
    assert!(answer["message"].get("thinking").is_none(), "{answer}");
    assert_final_fields(&answer);

    let r = h
        .post(
            "/api/generate",
            &json!({ "model": "clawgate/main", "prompt": "streamed agent" }),
        )
        .await;
    assert_eq!(r.status(), 200);
    let raw = r.text().await.unwrap();
    assert!(!raw.contains("private agent thoughts"), "{raw}");
    let lines = ndjson(&raw);
    assert!(streamed_text(&lines).contains("streamed agent"), "{raw}");
    assert_final_fields(lines.last().unwrap());
}

#[tokio::test]
async fn a_fallback_answers_when_the_primary_refuses_connections() {
    let dead = format!("http://127.0.0.1:{}/v1", dead_port());
    let h = Harness::with(Setup {
        primary: format!("deadup/{MODEL}"),
        fallbacks: vec![format!("anthup/{MODEL}")],
        extra_providers: provider_entry("deadup", "openai-completions", &dead),
        ..Setup::default()
    })
    .await;
    for stream in [false, true] {
        let mut body = chat(&format!("deadup/{MODEL}"), "hi");
        body["stream"] = stream.into();
        let r = h.post("/api/chat", &body).await;
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["x-clawgate-model"], "anthup/mock-model");
        assert_eq!(r.headers()["x-clawgate-fallback"], "true");
        let text = r.text().await.unwrap();
        let answer = if stream {
            streamed_text(&ndjson(&text))
        } else {
            serde_json::from_str::<Value>(&text).unwrap()["message"]["content"]
                .as_str()
                .unwrap()
                .to_string()
        };
        assert_eq!(answer, "mock answer to: hi");
    }
    assert!(
        h.mock.requests().iter().all(|r| r.path == "/v1/messages"),
        "the fallback is the Anthropic upstream"
    );
}

#[tokio::test]
async fn reasoning_is_only_ever_thinking_never_content() {
    let h = Harness::start().await;
    for upstream in ["chatup", "anthup", "ollup"] {
        for stream in [false, true] {
            h.mock
                .push_script(Script::text("the answer").with_reasoning("secret thoughts"));
            let mut body = chat(&format!("{upstream}/{MODEL}"), "think");
            body["stream"] = stream.into();
            body["think"] = true.into();
            let text = h.post("/api/chat", &body).await.text().await.unwrap();
            let objects = if stream {
                ndjson(&text)
            } else {
                vec![serde_json::from_str(&text).unwrap()]
            };
            let content = streamed_text(&objects);
            let thinking: String = objects
                .iter()
                .filter_map(|o| o["message"]["thinking"].as_str())
                .collect();
            assert_eq!(content, "the answer", "{upstream} stream={stream}: {text}");
            assert_eq!(thinking, "secret thoughts", "{upstream} stream={stream}");
        }
    }
    // `think: false`: whatever the upstream reasons anyway is not sent at all.
    for (path, stream) in [("/api/chat", true), ("/api/generate", false)] {
        h.mock
            .push_script(Script::text("plain").with_reasoning("secret thoughts"));
        let body = json!({ "model": "fast", "messages": [{ "role": "user", "content": "x" }],
                           "prompt": "x", "think": false, "stream": stream });
        let text = h.post(path, &body).await.text().await.unwrap();
        assert!(!text.contains("secret thoughts"), "{path}: {text}");
        assert!(!text.contains("thinking"), "{path}: {text}");
        let answer = if stream {
            streamed_text(&ndjson(&text))
        } else {
            streamed_text(&[serde_json::from_str(&text).unwrap()])
        };
        assert_eq!(answer, "plain", "{path}: {text}");
    }
}

#[tokio::test]
async fn options_format_and_images_reach_the_upstream() {
    let h = Harness::start().await;
    let schema = json!({ "type": "object", "properties": { "age": { "type": "integer" } },
                         "required": ["age"] });
    let image = "iVBORw0KGgoAAAANSUhEUg";
    let body = |model: &str| {
        json!({
            "model": model, "stream": false, "format": schema, "think": "low",
            "keep_alive": "10m",
            "messages": [{ "role": "user", "content": "how old?", "images": [image] }],
            "options": { "temperature": 0.25, "num_ctx": 4096, "num_predict": 33,
                         "stop": ["END"], "seed": 9, "top_p": 0.5, "top_k": 7 },
        })
    };
    let r = h.post("/api/chat", &body(&format!("ollup/{MODEL}"))).await;
    assert_eq!(r.status(), 200);
    let sent = h.mock.requests().pop().unwrap().body;
    assert_eq!(sent["format"], schema);
    assert_eq!(
        sent["options"],
        json!({ "num_ctx": 4096, "num_predict": 33, "temperature": 0.25, "top_p": 0.5,
                "top_k": 7, "seed": 9, "stop": ["END"] })
    );
    assert_eq!(sent["messages"][0]["images"], json!([image]));

    let r = h.post("/api/chat", &body(&format!("chatup/{MODEL}"))).await;
    assert_eq!(r.status(), 200);
    let sent = h.mock.requests().pop().unwrap().body;
    assert_eq!(sent["response_format"]["type"], "json_schema");
    assert_eq!(sent["response_format"]["json_schema"]["schema"], schema);
    assert_eq!(sent["max_tokens"], 33);
    assert_eq!(sent["temperature"], 0.25);
    assert_eq!(sent["top_p"], 0.5);
    assert_eq!(sent["top_k"], 7);
    assert_eq!(sent["seed"], 9);
    assert_eq!(sent["stop"], json!(["END"]));
    assert_eq!(sent["reasoning_effort"], "low");
    assert!(sent.get("options").is_none() && sent.get("keep_alive").is_none());
    let parts = sent["messages"][0]["content"].as_array().unwrap();
    assert_eq!(
        parts[1]["image_url"]["url"],
        format!("data:image/png;base64,{image}")
    );

    // JSON mode.
    let mut json_mode = chat(&format!("respup/{MODEL}"), "json please");
    json_mode["format"] = "json".into();
    json_mode["stream"] = false.into();
    assert_eq!(h.post("/api/chat", &json_mode).await.status(), 200);
    let sent = h.mock.requests().pop().unwrap().body;
    assert_eq!(sent["text"]["format"], json!({ "type": "json_object" }));
}

#[tokio::test]
async fn a_curl_style_body_is_served_but_not_from_a_web_page() {
    // `curl -d '{…}'`, as Ollama's docs show it, sends a form content type.
    let h = Harness::start().await;
    let body = json!({ "model": format!("chatup/{MODEL}"), "prompt": "hi", "stream": false });
    let r = h
        .http
        .post(h.url("/api/generate"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    // The same from a page of the gateway's own origin is held to the JSON rule.
    let origin = format!("http://{}", h.gateway.local_addr());
    let r = h
        .http
        .post(h.url("/api/generate"))
        .header("content-type", "text/plain")
        .header("origin", origin)
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 415);
}
