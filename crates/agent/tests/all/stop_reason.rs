//! A turn cut short by the model's output limit reports `Length`; a finished one `Stop`, also
//! after tool rounds.

use clawgate_agent::{TurnOptions, main_session_key};
use clawgate_wire::{Event, Role, StopReason};

use crate::fake::{FakeModel, Scripted, model, runtime};

fn text_then(stop: StopReason) -> Scripted {
    Scripted::Events(vec![
        Event::Started {
            id: "r".into(),
            model: "m".into(),
        },
        Event::TextDelta {
            text: "the answer was cut".into(),
        },
        Event::Finished { stop_reason: stop },
    ])
}

#[tokio::test]
async fn an_answer_cut_by_the_output_limit_reports_length() {
    let dir = tempfile::tempdir().unwrap();
    let fake = FakeModel::new("p/m", None, |r| match r.messages.last().unwrap().role {
        Role::User if crate::fake::message_text(r.messages.last().unwrap()).contains("tool") => {
            Scripted::ToolCall {
                id: "c1".into(),
                name: "ls".into(),
                arguments: "{}".into(),
            }
        }
        _ if crate::fake::request_text(r).contains("complete") => text_then(StopReason::Stop),
        _ => text_then(StopReason::Length),
    });
    let rt = runtime(dir.path(), fake, model("p/m", 32_000), |_| {});
    let key = main_session_key("main");
    let cut = rt
        .run_turn(&key, "long essay", TurnOptions::default())
        .await
        .unwrap();
    assert_eq!(cut.stop_reason, StopReason::Length);
    assert_eq!(cut.reply.as_deref(), Some("the answer was cut"));
    let after_tools = rt
        .run_turn(&key, "use a tool first", TurnOptions::default())
        .await
        .unwrap();
    assert_eq!(after_tools.tool_calls.len(), 1);
    assert_eq!(after_tools.stop_reason, StopReason::Length);
    let whole = rt
        .run_turn(&key, "a complete one", TurnOptions::default())
        .await
        .unwrap();
    assert_eq!(whole.stop_reason, StopReason::Stop);
}
