//! `agents.defaults.imageModel`: an image sent to a model that takes none is described by the
//! image model (with the image model's own fallbacks) and the description replaces it; a model
//! that takes images, or an agent without an image model, gets the image itself.

use clawgate_agent::{ImageModelSettings, ModelLimits, TurnInput, TurnOptions, main_session_key};
use clawgate_wire::{ContentBlock, ImageSource, Request};

use crate::fake::{FakeModel, Scripted, message_text, model, runtime};

fn image() -> ContentBlock {
    ContentBlock::Image {
        source: ImageSource::Base64 {
            media_type: "image/png".into(),
            data: "iVBORw0KGgo=".into(),
        },
    }
}

fn has_image(r: &Request) -> bool {
    r.messages
        .iter()
        .flat_map(|m| &m.content)
        .any(|b| matches!(b, ContentBlock::Image { .. }))
}

fn script(r: &Request) -> Scripted {
    if r.model == "p/vision" {
        Scripted::Text("A red bicycle leaning on a wall; a sign reads \"NO PARKING\".".into())
    } else {
        Scripted::Text("answered".into())
    }
}

async fn turn_with_image(
    info: ModelLimits,
    image_model: Option<ImageModelSettings>,
) -> std::sync::Arc<FakeModel> {
    let dir = tempfile::tempdir().unwrap();
    let fake = FakeModel::new("p/vision", None, script);
    let rt = runtime(dir.path(), fake.clone(), info, |s| {
        s.image_model = image_model
    });
    let input = TurnInput::Blocks(vec![
        ContentBlock::Text {
            text: "what is in this picture?".into(),
        },
        image(),
    ]);
    let out = rt
        .run_turn(&main_session_key("main"), input, TurnOptions::default())
        .await
        .unwrap();
    assert_eq!(out.reply.as_deref(), Some("answered"));
    fake
}

fn vision() -> Option<ImageModelSettings> {
    Some(ImageModelSettings {
        primary: "p/vision".into(),
        fallbacks: vec!["p/vision-backup".into()],
    })
}

#[tokio::test]
async fn a_text_model_gets_the_image_models_description() {
    let fake = turn_with_image(model("p/text", 32_000), vision()).await;
    let sent = fake.main_requests();
    assert_eq!(sent.len(), 2);
    let describe = &sent[0];
    assert_eq!(describe.model, "p/vision");
    assert!(has_image(describe));
    assert!(message_text(&describe.messages[0]).contains("what is in this picture?"));
    assert_eq!(
        fake.fallback_lists.lock().unwrap().clone(),
        [vec!["p/vision-backup".to_string()]]
    );
    let answer = &sent[1];
    assert_eq!(answer.model, "p/text");
    assert!(!has_image(answer), "the text model never gets the image");
    let user = message_text(answer.messages.last().unwrap());
    assert!(user.contains("what is in this picture?"));
    assert!(user.contains(
        "[image 1, described by p/vision because p/text takes no images]\nA red bicycle"
    ));
}

#[tokio::test]
async fn a_model_that_takes_images_or_no_image_model_gets_the_image() {
    let seeing = ModelLimits {
        accepts_images: true,
        ..model("p/seeing", 32_000)
    };
    for (info, image_model) in [(seeing, vision()), (model("p/text", 32_000), None)] {
        let fake = turn_with_image(info.clone(), image_model).await;
        let sent = fake.main_requests();
        assert_eq!(sent.len(), 1, "{}", info.model_ref);
        assert_eq!(sent[0].model, info.model_ref);
        assert!(has_image(&sent[0]));
        assert!(fake.fallback_lists.lock().unwrap().is_empty());
    }
}
