//! Tool calls through the gateway: tools declared in each inbound dialect reach the upstream,
//! and the upstream's call comes back in the inbound dialect's shape, streamed and not.

use mock_upstream::Script;
use serde_json::{Value, json};

use crate::support::{Harness, INBOUNDS, Inbound, MODEL, SseEvent, parse_sse};

pub fn with_tools(inbound: Inbound, mut body: Value) -> Value {
    let parameters = json!({
        "type": "object",
        "properties": { "city": { "type": "string" } },
        "required": ["city"],
    });
    body["tools"] = match inbound {
        Inbound::Chat => json!([{ "type": "function", "function": {
            "name": "get_weather", "description": "Weather for a city", "parameters": parameters,
        }}]),
        Inbound::Responses => json!([{
            "type": "function", "name": "get_weather", "description": "Weather for a city",
            "parameters": parameters,
        }]),
        Inbound::Messages => json!([{
            "name": "get_weather", "description": "Weather for a city", "input_schema": parameters,
        }]),
    };
    body
}

/// (name, arguments JSON, stop signal) of a non-streamed answer.
pub fn call_of(inbound: Inbound, body: &Value) -> (String, Value, String) {
    match inbound {
        Inbound::Chat => {
            let call = &body["choices"][0]["message"]["tool_calls"][0];
            (
                call["function"]["name"].as_str().unwrap().to_string(),
                serde_json::from_str(call["function"]["arguments"].as_str().unwrap()).unwrap(),
                body["choices"][0]["finish_reason"]
                    .as_str()
                    .unwrap()
                    .to_string(),
            )
        }
        Inbound::Responses => {
            let call = body["output"]
                .as_array()
                .unwrap()
                .iter()
                .find(|i| i["type"] == "function_call")
                .unwrap_or_else(|| panic!("no function_call item: {body}"));
            (
                call["name"].as_str().unwrap().to_string(),
                serde_json::from_str(call["arguments"].as_str().unwrap()).unwrap(),
                body["status"].as_str().unwrap().to_string(),
            )
        }
        Inbound::Messages => {
            let call = body["content"]
                .as_array()
                .unwrap()
                .iter()
                .find(|b| b["type"] == "tool_use")
                .unwrap_or_else(|| panic!("no tool_use block: {body}"));
            (
                call["name"].as_str().unwrap().to_string(),
                call["input"].clone(),
                body["stop_reason"].as_str().unwrap().to_string(),
            )
        }
    }
}

/// (name, arguments JSON) of a streamed answer.
pub fn streamed_call_of(inbound: Inbound, events: &[SseEvent]) -> (String, Value) {
    let datas: Vec<Value> = events
        .iter()
        .filter(|e| e.data != "[DONE]")
        .map(SseEvent::json)
        .collect();
    let mut name = String::new();
    let mut arguments = String::new();
    for d in &datas {
        match inbound {
            Inbound::Chat => {
                let call = &d["choices"][0]["delta"]["tool_calls"][0];
                if let Some(n) = call["function"]["name"].as_str() {
                    name.push_str(n);
                }
                if let Some(a) = call["function"]["arguments"].as_str() {
                    arguments.push_str(a);
                }
            }
            Inbound::Responses => {
                if d["type"] == "response.output_item.added" && d["item"]["type"] == "function_call"
                {
                    name = d["item"]["name"].as_str().unwrap().to_string();
                }
                if d["type"] == "response.function_call_arguments.delta" {
                    arguments.push_str(d["delta"].as_str().unwrap());
                }
            }
            Inbound::Messages => {
                if d["type"] == "content_block_start" && d["content_block"]["type"] == "tool_use" {
                    name = d["content_block"]["name"].as_str().unwrap().to_string();
                }
                if d["delta"]["type"] == "input_json_delta" {
                    arguments.push_str(d["delta"]["partial_json"].as_str().unwrap());
                }
            }
        }
    }
    let arguments = serde_json::from_str(&arguments)
        .unwrap_or_else(|e| panic!("{inbound:?}: arguments {arguments:?} ({e})"));
    (name, arguments)
}

#[tokio::test]
async fn tool_calls_come_back_in_each_dialect() {
    let harness = Harness::start().await;
    for upstream in ["chatup", "anthup", "respup"] {
        for inbound in INBOUNDS {
            for stream in [false, true] {
                harness.mock.push_script(
                    Script::default().with_tool_call("get_weather", json!({ "city": "Paris" })),
                );
                let model = format!("{upstream}/{MODEL}");
                let body = with_tools(inbound, inbound.body(&model, "weather in Paris?", stream));
                let response = harness.post(inbound.path(), &body).await;
                assert_eq!(response.status(), 200, "{inbound:?} {upstream} {stream}");
                let text = response.text().await.unwrap();
                let case = format!("{inbound:?} via {upstream}, stream {stream}");
                if stream {
                    let (name, arguments) = streamed_call_of(inbound, &parse_sse(&text));
                    assert_eq!(name, "get_weather", "{case}");
                    assert_eq!(arguments, json!({ "city": "Paris" }), "{case}");
                } else {
                    let body: Value = serde_json::from_str(&text).unwrap();
                    let (name, arguments, stop) = call_of(inbound, &body);
                    assert_eq!(name, "get_weather", "{case}");
                    assert_eq!(arguments, json!({ "city": "Paris" }), "{case}");
                    let expected = match inbound {
                        Inbound::Chat => "tool_calls",
                        Inbound::Responses => "completed",
                        Inbound::Messages => "tool_use",
                    };
                    assert_eq!(stop, expected, "{case}");
                }
                let upstream_request = harness.mock.requests().pop().unwrap();
                let sent = upstream_request.body.to_string();
                assert!(
                    sent.contains("get_weather"),
                    "{case}: tools reach upstream: {sent}"
                );
            }
        }
    }
}

#[tokio::test]
async fn tool_results_are_forwarded_to_the_upstream() {
    let harness = Harness::start().await;
    let body = json!({
        "model": format!("anthup/{MODEL}"),
        "messages": [
            { "role": "user", "content": "weather in Paris?" },
            { "role": "assistant", "content": null, "tool_calls": [{
                "id": "call_1", "type": "function",
                "function": { "name": "get_weather", "arguments": "{\"city\":\"Paris\"}" },
            }]},
            { "role": "tool", "tool_call_id": "call_1", "content": "sunny, 21C" },
        ],
    });
    let response = harness
        .post("/v1/chat/completions", &with_tools(Inbound::Chat, body))
        .await;
    assert_eq!(response.status(), 200);
    let upstream = harness.mock.requests().pop().unwrap();
    assert_eq!(upstream.path, "/v1/messages");
    let sent = upstream.body.to_string();
    assert!(
        sent.contains("tool_result") && sent.contains("sunny, 21C"),
        "{sent}"
    );
    assert!(sent.contains("call_1"), "{sent}");
}
