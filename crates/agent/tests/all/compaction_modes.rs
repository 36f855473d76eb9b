//! `compaction.identifierPolicy` and `compaction.mode`: the summary request carries the
//! identifier rule of the policy; in safeguard mode it asks for OpenClaw's required sections,
//! a summary failing the quality check is asked for again with its problems named, and when no
//! attempt passes the compaction fails and the history stays as it was.

use clawgate_agent::session::EntryBody;
use clawgate_agent::{
    CompactionMode, IdentifierPolicy, QualityGuard, SAFEGUARD_SUMMARY_PROMPT, SUMMARY_PROMPT,
    TurnOptions, main_session_key,
};
use clawgate_wire::Request;

use crate::fake::{FakeModel, Scripted, message_text, model, runtime};
use crate::run_timeout::transcript;

const PATH: &str = "/srv/app/config.yaml";

fn history() -> Vec<String> {
    (0..3)
        .map(|n| {
            format!(
                "part {n}: edit {PATH} and deploy the billing service. {}",
                "more detail follows here. ".repeat(300)
            )
        })
        .collect()
}

async fn compact_with(
    adjust: impl FnOnce(&mut clawgate_agent::AgentSettings),
    script: impl Fn(&Request) -> Scripted + Send + Sync + 'static,
) -> (
    tempfile::TempDir,
    std::sync::Arc<FakeModel>,
    Result<String, String>,
) {
    let dir = tempfile::tempdir().unwrap();
    let fake = FakeModel::new("p/m", None, script);
    let rt = runtime(dir.path(), fake.clone(), model("p/m", 16_384), |s| {
        s.compaction.memory_flush.enabled = false;
        adjust(s);
    });
    let key = main_session_key("main");
    for text in history() {
        rt.run_turn(&key, text, TurnOptions::default())
            .await
            .unwrap();
    }
    let result = rt
        .run_turn(&key, "/compact", TurnOptions::default())
        .await
        .map(|o| o.reply.unwrap_or_default())
        .map_err(|e| e.to_string());
    (dir, fake, result)
}

fn summary_systems(fake: &FakeModel) -> Vec<String> {
    fake.requests()
        .into_iter()
        .filter_map(|r| r.request.system)
        .filter(|s| s.starts_with(SUMMARY_PROMPT) || s.starts_with(SAFEGUARD_SUMMARY_PROMPT))
        .collect()
}

fn plain(_: &Request) -> Scripted {
    Scripted::Text("ok".into())
}

#[tokio::test]
async fn the_identifier_policy_decides_the_rule_in_the_summary_prompt() {
    let cases = [
        (
            IdentifierPolicy::Strict,
            "copy every identifier exactly as it was written",
        ),
        (
            IdentifierPolicy::Off,
            "they need not be copied character for character",
        ),
        (
            IdentifierPolicy::Custom("Keep ticket numbers; drop hashes.".into()),
            "follow this policy set by the operator:\nKeep ticket numbers; drop hashes.",
        ),
    ];
    for (policy, rule) in cases {
        let (_dir, fake, result) =
            compact_with(|s| s.compaction.identifiers = policy.clone(), plain).await;
        assert!(result.unwrap().starts_with("Compacted:"));
        let systems = summary_systems(&fake);
        assert!(!systems.is_empty());
        for system in &systems {
            assert!(system.contains(rule), "{policy:?}: {system}");
        }
        let others = [
            "exactly as it was written",
            "character for character",
            "set by the operator",
        ];
        let foreign = others
            .iter()
            .filter(|o| !rule.contains(*o))
            .any(|o| systems[0].contains(o));
        assert!(!foreign, "{policy:?} carries another policy's rule");
    }
}

const GOOD: &str = "## Decisions\nKeep the plan.\n## Open TODOs\nDeploy.\n## Constraints/Rules\n\
                    None.\n## Pending user asks\n\"edit and deploy the billing service\"\n\
                    ## Exact identifiers\n/srv/app/config.yaml\n";

fn safeguard_script(fix_on_retry: bool) -> impl Fn(&Request) -> Scripted + Send + Sync {
    move |r: &Request| {
        let system = r.system.as_deref().unwrap_or("");
        if !system.starts_with(SAFEGUARD_SUMMARY_PROMPT) {
            return Scripted::Text("ok".into());
        }
        let retry = message_text(r.messages.last().unwrap()).contains("<rejected_summary>");
        if retry && fix_on_retry {
            Scripted::Text(GOOD.into())
        } else {
            Scripted::Text("## Decisions\nsomething was decided\n".into())
        }
    }
}

fn safeguard(s: &mut clawgate_agent::AgentSettings) {
    s.compaction.mode = CompactionMode::Safeguard;
}

#[tokio::test]
async fn safeguard_asks_again_with_the_problems_and_keeps_a_passing_summary() {
    let (dir, fake, result) = compact_with(safeguard, safeguard_script(true)).await;
    assert!(result.unwrap().starts_with("Compacted:"));
    let summaries: Vec<Request> = fake
        .requests()
        .into_iter()
        .map(|r| r.request)
        .filter(|r| {
            r.system
                .as_deref()
                .is_some_and(|s| s.starts_with(SAFEGUARD_SUMMARY_PROMPT))
        })
        .collect();
    assert_eq!(summaries.len(), 2);
    let retry = message_text(summaries[1].messages.last().unwrap());
    assert!(
        retry.contains("section \"## Open TODOs\" is missing"),
        "{retry}"
    );
    assert!(retry.contains(&format!("identifiers not kept exactly: {PATH}")));
    assert!(retry.contains("the latest user request is not reflected"));
    let written: Vec<String> = transcript(dir.path())
        .entries
        .iter()
        .filter_map(|e| match &e.body {
            EntryBody::Compaction(c) => Some(c.summary.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(written, [GOOD.trim().to_string()]);
}

#[tokio::test]
async fn safeguard_fails_the_compaction_when_no_attempt_passes() {
    let (dir, fake, result) = compact_with(
        |s| {
            safeguard(s);
            s.compaction.quality_guard = QualityGuard {
                enabled: true,
                max_retries: 2,
            };
        },
        safeguard_script(false),
    )
    .await;
    let error = result.unwrap_err();
    assert!(
        error.starts_with("Compaction failed: the summary did not pass the safeguard quality check (section \"## Open TODOs\" is missing"),
        "{error}"
    );
    assert!(error.ends_with("the history is kept as it was"));
    assert_eq!(
        summary_systems(&fake).len(),
        3,
        "one attempt and two retries"
    );
    assert!(
        !transcript(dir.path())
            .entries
            .iter()
            .any(|e| matches!(e.body, EntryBody::Compaction(_)))
    );
}

#[tokio::test]
async fn without_the_quality_guard_safeguard_keeps_the_first_summary() {
    let (_dir, fake, result) = compact_with(
        |s| {
            safeguard(s);
            s.compaction.quality_guard.enabled = false;
        },
        safeguard_script(false),
    )
    .await;
    assert!(result.unwrap().starts_with("Compacted:"));
    assert_eq!(summary_systems(&fake).len(), 1);
}
