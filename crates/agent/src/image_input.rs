//! Images for a model that takes none (`agents.defaults.imageModel`, OpenClaw's image
//! understanding): when a turn's input has images and the turn's model row has no `image`
//! input, each image is described by the image model (its own fallbacks, not the agent's) and
//! the description replaces it in the user message, so the text model answers from it. The
//! prompt is `prompts/image-description.md`. Without an image model nothing changes (the image
//! is sent as it is). An image the image models cannot describe becomes a note saying so, and
//! the turn goes on.

use clawgate_wire::{ContentBlock, Event, Message, Request, Role, ToolChoice};
use futures::StreamExt;

use crate::budget::ModelLimits;
use crate::deadline::Deadline;
use crate::error::AgentError;
use crate::model_client::ModelCallError;
use crate::runtime::AgentRuntime;
use crate::turn::TurnState;

/// What the image model is asked.
pub const IMAGE_DESCRIPTION_PROMPT: &str = include_str!("../prompts/image-description.md");

/// Longest description asked for, in tokens.
const DESCRIPTION_MAX_TOKENS: u32 = 1024;

/// `agents.defaults.imageModel`: a model ref or alias and its own fallbacks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageModelSettings {
    pub primary: String,
    pub fallbacks: Vec<String>,
}

impl AgentRuntime {
    /// `content` as the turn's model gets it: unchanged, or with each image replaced by the
    /// image model's description of it.
    pub(crate) async fn describe_images(
        &self,
        content: Vec<ContentBlock>,
        info: &ModelLimits,
        deadline: &Deadline,
        state: &mut TurnState,
    ) -> Result<Vec<ContentBlock>, AgentError> {
        let Some(image_model) = &self.settings.image_model else {
            return Ok(content);
        };
        let has_images = content
            .iter()
            .any(|b| matches!(b, ContentBlock::Image { .. }));
        if info.accepts_images || !has_images {
            return Ok(content);
        }
        let user_text: String = content
            .iter()
            .filter_map(|b| match b {
                ContentBlock::Text { text } => Some(text.as_str()),
                _ => None,
            })
            .collect::<Vec<_>>()
            .join("\n");
        let mut out = Vec::with_capacity(content.len());
        let mut n = 0;
        for block in content {
            if !matches!(block, ContentBlock::Image { .. }) {
                out.push(block);
                continue;
            }
            n += 1;
            let mut prompt = IMAGE_DESCRIPTION_PROMPT.trim().to_string();
            if !user_text.trim().is_empty() {
                prompt.push_str(&format!("\n\nThe user's message:\n{}", user_text.trim()));
            }
            let request = Request {
                model: image_model.primary.clone(),
                messages: vec![Message {
                    role: Role::User,
                    content: vec![ContentBlock::Text { text: prompt }, block],
                }],
                tool_choice: ToolChoice::None,
                max_tokens: Some(DESCRIPTION_MAX_TOKENS),
                stream: true,
                ..Request::default()
            };
            let described = deadline
                .run(self.describe_one(request, &image_model.fallbacks))
                .await
                .map_err(|_| AgentError::TurnTimeout {
                    seconds: deadline.seconds(),
                })?;
            let text = match described {
                Ok((model, description)) => format!(
                    "[image {n}, described by {model} because {} takes no images]\n{}",
                    info.model_ref,
                    description.trim()
                ),
                Err(ModelCallError::Aborted) => return Err(AgentError::Aborted),
                Err(e) => {
                    state.notice(format!(
                        "image {n} could not be described by the image model ({}): {e}",
                        image_model.primary
                    ));
                    format!(
                        "[image {n} left out: {} takes no images and the image model failed]",
                        info.model_ref
                    )
                }
            };
            out.push(ContentBlock::Text { text });
        }
        Ok(out)
    }

    /// One description: the answering model and its text.
    async fn describe_one(
        &self,
        request: Request,
        fallbacks: &[String],
    ) -> Result<(String, String), ModelCallError> {
        let mut reply = self.client.call_with_fallbacks(request, fallbacks).await?;
        let mut text = String::new();
        while let Some(event) = reply.events.next().await {
            if let Event::TextDelta { text: t } = event? {
                text.push_str(&t);
            }
        }
        let text = clawgate_wire::reasoning_tags::split_reasoning_tags(&text).1;
        if text.trim().is_empty() {
            return Err(ModelCallError::Failed(format!(
                "{} returned an empty description",
                reply.model_ref
            )));
        }
        Ok((reply.model_ref, text))
    }
}
