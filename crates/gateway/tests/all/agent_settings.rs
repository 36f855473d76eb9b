//! Agent settings seen on the wire, through the whole stack (config → runtime → agent →
//! router → mock upstream): an answer cut by the output limit reports `length` in every inbound
//! dialect; `tools.alsoAllow` and `tools.maxRounds` shape what the upstream gets; the run timeout ends a slow turn with a 504; an image for a text-only model
//! is described by `agents.defaults.imageModel` (its fallbacks included).

use mock_upstream::{Fault, Script};
use serde_json::{Value, json};

use crate::support::{Harness, INBOUNDS, Inbound, MODEL, Setup, parse_sse, provider_entry};

/// Agents with write/edit/exec are served only with a gateway token.
const AGENT_TOKEN: &str = "gw-agent-settings-token-5678";

/// The names of the tools an upstream request offered.
fn offered(body: &Value) -> Vec<String> {
    body["tools"]
        .as_array()
        .map(|tools| {
            tools
                .iter()
                .filter_map(|t| {
                    t["function"]["name"]
                        .as_str()
                        .or(t["name"].as_str())
                        .map(str::to_string)
                })
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn an_agent_turn_cut_by_the_output_limit_reports_length_in_every_dialect() {
    // A model row with maxTokens 2: the agent asks for 2 tokens and the mock (one piece per
    // token) stops at the cap.
    let mock = crate::support::mock().await;
    let short = provider_entry("shortup", "openai-completions", &mock.openai_base_url())
        .replace("maxTokens: 1024", "maxTokens: 2");
    let setup = Setup {
        primary: format!("shortup/{MODEL}"),
        extra_providers: short,
        token: Some(AGENT_TOKEN.into()),
        ..Setup::default()
    };
    let h = Harness::with_mock(mock, setup).await;
    for inbound in INBOUNDS {
        let r = h
            .post(
                inbound.path(),
                &inbound.body("clawgate/main", "write a long essay", false),
            )
            .await;
        let body: Value = r.json().await.unwrap();
        match inbound {
            Inbound::Chat => assert_eq!(body["choices"][0]["finish_reason"], "length", "{body}"),
            Inbound::Responses => {
                assert_eq!(body["status"], "incomplete", "{body}");
                assert_eq!(body["incomplete_details"]["reason"], "max_output_tokens");
            }
            Inbound::Messages => assert_eq!(body["stop_reason"], "max_tokens", "{body}"),
        }
        let r = h
            .post(
                inbound.path(),
                &inbound.body("clawgate/main", "write a long essay", true),
            )
            .await;
        let raw = r.text().await.unwrap();
        let events = parse_sse(&raw);
        let data: Vec<Value> = events
            .iter()
            .filter(|e| e.data != "[DONE]")
            .map(|e| e.json())
            .collect();
        match inbound {
            Inbound::Chat => {
                let finishes: Vec<&Value> = data
                    .iter()
                    .filter_map(|d| d["choices"][0].get("finish_reason"))
                    .filter(|f| !f.is_null())
                    .collect();
                assert_eq!(finishes, [&json!("length")], "{raw}");
            }
            Inbound::Responses => {
                let last = data.last().unwrap();
                assert_eq!(last["type"], "response.incomplete", "{raw}");
                assert_eq!(
                    last["response"]["incomplete_details"]["reason"],
                    "max_output_tokens"
                );
            }
            Inbound::Messages => {
                let delta = data.iter().find(|d| d["type"] == "message_delta").unwrap();
                assert_eq!(delta["delta"]["stop_reason"], "max_tokens", "{raw}");
            }
        }
    }
    // A whole answer still reports `stop`.
    let h = Harness::with(Setup {
        token: Some(AGENT_TOKEN.into()),
        ..Setup::default()
    })
    .await;
    let r = h
        .post(
            "/v1/chat/completions",
            &Inbound::Chat.body("clawgate/main", "hi", false),
        )
        .await;
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["choices"][0]["finish_reason"], "stop", "{body}");
}

const AGENTS: &str = r#"list: [
    { id: "main", default: true },
    { id: "reader", tools: { profile: "minimal", alsoAllow: ["read", "ls"] } },
    { id: "brief", tools: { profile: "coding", maxRounds: 2 } },
  ],"#;

async fn agents_harness() -> Harness {
    Harness::with(Setup {
        extra_agents: AGENTS.into(),
        token: Some(AGENT_TOKEN.into()),
        ..Setup::default()
    })
    .await
}

#[tokio::test]
async fn also_allow_gives_a_minimal_agent_exactly_those_tools() {
    let h = agents_harness().await;
    let r = h
        .post(
            "/v1/chat/completions",
            &Inbound::Chat.body("clawgate/reader", "hi", false),
        )
        .await;
    assert_eq!(r.status(), 200);
    let upstream = h.mock.requests().pop().unwrap();
    assert_eq!(offered(&upstream.body), ["read", "ls"]);
    let r = h
        .post(
            "/v1/chat/completions",
            &Inbound::Chat.body("clawgate/main", "hi", false),
        )
        .await;
    assert_eq!(r.status(), 200);
    let upstream = h.mock.requests().pop().unwrap();
    assert!(offered(&upstream.body).contains(&"write".to_string()));
}

#[tokio::test]
async fn max_rounds_caps_the_tool_loop() {
    let h = agents_harness().await;
    h.mock
        .push_scripts(Script::default().with_tool_call("ls", json!({})), 6);
    let r = h
        .post(
            "/v1/chat/completions",
            &Inbound::Chat.body("clawgate/brief", "look around", false),
        )
        .await;
    assert_eq!(r.status(), 200);
    let calls = h
        .mock
        .requests()
        .iter()
        .filter(|r| r.path == "/v1/chat/completions")
        .count();
    assert_eq!(
        calls, 2,
        "tools.maxRounds: 2 model calls, then the loop stops"
    );
}

#[tokio::test]
async fn the_run_timeout_ends_a_slow_agent_turn_with_a_504() {
    let h = Harness::with(Setup {
        extra_defaults: "timeoutSeconds: 1,".into(),
        token: Some(AGENT_TOKEN.into()),
        ..Setup::default()
    })
    .await;
    h.mock.push_script(Script::fault(Fault::HangBeforeHeaders));
    let r = h
        .post(
            "/v1/chat/completions",
            &Inbound::Chat.body("clawgate/main", "slow", false),
        )
        .await;
    assert_eq!(r.status(), 504);
    let body: Value = r.json().await.unwrap();
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.starts_with("Agent turn timed out after 1 s (agents.defaults.timeoutSeconds)"),
        "{body}"
    );
}

#[tokio::test]
async fn an_image_for_a_text_model_is_described_by_the_image_model_chain() {
    let h = Harness::with(Setup {
        extra_defaults: format!(
            r#"imageModel: {{ primary: "anthup/{MODEL}", fallbacks: ["respup/{MODEL}"] }},"#
        ),
        token: Some(AGENT_TOKEN.into()),
        ..Setup::default()
    })
    .await;
    // The image model's primary fails: its own fallback (not the agent's) describes.
    h.mock.push_script(Script {
        when_path: Some("/v1/messages".into()),
        ..Script::fault(Fault::Status500)
    });
    let body = json!({
        "model": "clawgate/main",
        "messages": [{ "role": "user", "content": [
            { "type": "text", "text": "what is on this picture?" },
            { "type": "image_url", "image_url": { "url": "data:image/png;base64,iVBORw0KGgo=" } },
        ]}],
    });
    let r = h.post("/v1/chat/completions", &body).await;
    assert_eq!(r.status(), 200);
    let requests = h.mock.requests();
    let paths: Vec<&str> = requests.iter().map(|r| r.path.as_str()).collect();
    assert_eq!(
        paths,
        ["/v1/messages", "/v1/responses", "/v1/chat/completions"]
    );
    assert!(
        requests[1].body.to_string().contains("iVBORw0KGgo="),
        "the image went to the image model"
    );
    let main = requests[2].body["messages"].to_string();
    assert!(
        !main.contains("iVBORw0KGgo="),
        "the text model never gets the image: {main}"
    );
    assert!(
        main.contains(&format!(
            "[image 1, described by respup/{MODEL} because chatup/{MODEL} takes no images]"
        )),
        "{main}"
    );
    assert!(main.contains("mock answer to:"), "{main}");
}
