//! Which prompt format a loaded model gets: the demo base model's transcript, a GGUF's own
//! embedded template (a copy of the demo file with `tokenizer.chat_template` written into its
//! metadata), and a spec template overriding both; bad spec templates fail the load clearly.

use clawgate_engine::{LlamaCppProvider, TemplateSource};
use clawgate_providers::FailureKind;
use clawgate_wire::StopReason;

use crate::common::{demo_gguf, demo_spec, fresh_provider, request, run, try_run};
use crate::gguf_patch::with_chat_template;

/// ChatML with a trip wire: a user turn saying `trip` makes the render fail with a message
/// only this template has, which proves requests are rendered through it.
fn trip_template(tag: &str) -> String {
    format!(
        "{{% for m in messages %}}{{% if m.content == 'trip' %}}{{{{ raise_exception('{tag} \
         template tripped') }}}}{{% endif %}}<|im_start|>{{{{ m.role }}}}\n{{{{ m.content }}}}\
         <|im_end|>\n{{% endfor %}}{{% if tools %}}<tool_call>{{% endif %}}\
         {{% if add_generation_prompt %}}<|im_start|>assistant\n{{% endif %}}"
    )
}

#[tokio::test]
async fn the_demo_model_is_a_base_model_answering_in_a_transcript() {
    let provider = fresh_provider();
    let info = provider.warm().await.unwrap();
    assert_eq!(info.template, TemplateSource::Transcript);
    assert!(info.base_model);
    assert_eq!(info.tool_call_format, "generic");
    let out = run(&provider, request("Write one sentence about the sea.", 60)).await;
    assert!(!out.text.is_empty());
    // The transcript's turn markers end the answer and are never part of it.
    assert!(!out.text.contains("User:"), "{:?}", out.text);
    assert!(!out.text.contains("Assistant:"), "{:?}", out.text);
    assert!(!out.text.starts_with(char::is_whitespace), "{:?}", out.text);
}

#[tokio::test]
async fn a_ggufs_embedded_template_is_picked_up() {
    let dir = tempfile::tempdir().unwrap();
    let patched = dir.path().join("with-template.gguf");
    with_chat_template(&demo_gguf(), &patched, &trip_template("gguf"));
    let mut spec = demo_spec();
    spec.path = patched;
    let provider = LlamaCppProvider::new("embedded", spec);
    let info = provider.warm().await.unwrap();
    assert_eq!(info.template, TemplateSource::Gguf);
    assert!(!info.base_model);
    assert_eq!(info.tool_call_format, "hermes");

    let out = run(&provider, request("Say hi", 4)).await;
    assert_eq!(out.stop_reason, StopReason::Length);
    let err = try_run(&provider, request("trip", 4)).await.unwrap_err();
    assert_eq!(err.kind, FailureKind::Format);
    assert!(
        err.message.contains("gguf template tripped"),
        "{}",
        err.message
    );

    // A spec template wins over the file's own.
    let mut spec = demo_spec().with_chat_template(trip_template("inline"));
    spec.path = dir.path().join("with-template.gguf");
    let provider = LlamaCppProvider::new("embedded", spec);
    assert_eq!(
        provider.warm().await.unwrap().template,
        TemplateSource::Spec("inline".into())
    );
    let err = try_run(&provider, request("trip", 4)).await.unwrap_err();
    assert!(
        err.message.contains("inline template tripped"),
        "{}",
        err.message
    );
}

#[tokio::test]
async fn spec_templates_by_file_and_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("chat.jinja");
    std::fs::write(&file, trip_template("file")).unwrap();
    let provider = LlamaCppProvider::new("embedded", demo_spec().with_chat_template_file(&file));
    let info = provider.warm().await.unwrap();
    assert_eq!(
        info.template,
        TemplateSource::Spec(file.display().to_string())
    );
    let err = try_run(&provider, request("trip", 4)).await.unwrap_err();
    assert!(
        err.message.contains("file template tripped"),
        "{}",
        err.message
    );

    let provider = LlamaCppProvider::new("embedded", demo_spec().with_chat_template("chatml"));
    let info = provider.warm().await.unwrap();
    assert_eq!(info.template, TemplateSource::Builtin("chatml".into()));
    assert!(!info.base_model);

    // `transcript` names the base-model prompt explicitly.
    let provider = LlamaCppProvider::new("embedded", demo_spec().with_chat_template("transcript"));
    assert!(provider.warm().await.unwrap().base_model);
}

#[tokio::test]
async fn bad_spec_templates_fail_the_load_with_the_reason() {
    let cases = [
        ("no-such-template", "not a built-in template"),
        ("{% if %}", "line 1"),
        // Renders nothing for any conversation it is probed with: still compiles and loads.
    ];
    for (template, expected) in cases {
        let provider = LlamaCppProvider::new("embedded", demo_spec().with_chat_template(template));
        let err = provider.warm().await.unwrap_err();
        assert_eq!(err.kind, FailureKind::ServerError, "{template}");
        assert!(
            err.message.contains(expected),
            "{template}: {}",
            err.message
        );
    }
    let provider = LlamaCppProvider::new(
        "embedded",
        demo_spec().with_chat_template_file("/nonexistent/chat.jinja"),
    );
    let err = provider.warm().await.unwrap_err();
    assert!(err.message.contains("cannot read it"), "{}", err.message);
}
