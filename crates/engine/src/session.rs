//! One loaded model and its context, living on the engine thread: prompt rendering,
//! tokenization, the context-overflow check, prompt evaluation with KV-cache prefix reuse,
//! and the token loop that streams canonical events.
//!
//! Prefix reuse: the tokens already in the KV cache are remembered; a new prompt that starts
//! with them (the next turn of the same conversation) only evaluates what is new. Prompt
//! processing is the slow part on a CPU (~200 tok/s here), so an agent turn over a long
//! session would otherwise re-read the whole transcript every time.
//!
//! Sliding-window models (gemma 2/3) get llama.cpp's small window-sized cache for their
//! sliding layers instead of a full-size one: at the demo model's 32k window that is ~480 MB
//! less memory, more for bigger gemmas. That cache forgets positions older than the window,
//! so a cached prefix is reused when the new prompt only appends to it (the next agent turn),
//! or when the positions the window needs are still there; otherwise the prompt is evaluated
//! from the start.

use std::num::NonZeroU32;
use std::sync::Arc;

use clawgate_providers::ProviderError;
use clawgate_wire::{Event, Request, StopReason, Usage};
use llama_cpp_2::context::LlamaContext;
use llama_cpp_2::context::params::LlamaContextParams;
use llama_cpp_2::llama_backend::LlamaBackend;
use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::model::params::LlamaModelParams;
use llama_cpp_2::model::{LlamaChatMessage, LlamaChatTemplate, LlamaModel};
use llama_cpp_2::sampling::LlamaSampler;
use llama_cpp_2::token::LlamaToken;

use crate::prompt::conversation_turns;
use crate::templates::{BuiltinTemplate, ChatTurn, TurnRole};
use crate::text_stream::{ScanOutcome, StopScanner, Utf8Assembler};
use crate::worker::{GenerateJob, Job, SharedState};
use crate::{
    DEFAULT_TEMPERATURE, EngineError, EngineModelSpec, LoadObserver, ModelInfo, TemplateSource,
};

/// Prompt tokens evaluated per llama.cpp decode call.
const PROMPT_BATCH: u32 = 512;

pub(crate) fn load_model(
    backend: &LlamaBackend,
    spec: &EngineModelSpec,
    observer: Option<&Arc<dyn LoadObserver>>,
) -> Result<LlamaModel, EngineError> {
    if !spec.path.is_file() {
        return Err(EngineError::ModelFileMissing {
            path: spec.path.display().to_string(),
        });
    }
    let mut params = LlamaModelParams::default();
    if let Some(observer) = observer {
        observer.on_load_start(&spec.path);
        let observer = Arc::clone(observer);
        params = params.with_progress_callback(move |fraction| {
            observer.on_load_progress(fraction);
            true
        });
    }
    LlamaModel::load_from_file(backend, &spec.path, &params).map_err(|e| EngineError::Load {
        path: spec.path.display().to_string(),
        reason: format!("{e} (is it a valid GGUF file?)"),
    })
}

/// How prompts are rendered for this model.
enum PromptTemplate {
    /// Applied by llama.cpp (`llama_chat_apply_template`).
    Llama(LlamaChatTemplate),
    Builtin(BuiltinTemplate),
}

pub(crate) struct Session<'m> {
    model: &'m LlamaModel,
    ctx: LlamaContext<'m>,
    batch: LlamaBatch<'static>,
    template: PromptTemplate,
    /// Tokens whose keys and values are in the KV cache, in position order.
    cached: Vec<LlamaToken>,
    /// Control tokens that open a new chat turn: sampling one ends the answer like an
    /// end-of-generation token (a base or badly tuned model otherwise goes on to write the
    /// user's next turn itself).
    turn_starts: Vec<LlamaToken>,
    /// `<arch>.attention.sliding_window`, for models with sliding-window layers.
    sliding_window: Option<usize>,
    spec: &'m EngineModelSpec,
    shared: &'m SharedState,
    info: ModelInfo,
}

impl<'m> Session<'m> {
    pub fn new(
        backend: &LlamaBackend,
        model: &'m LlamaModel,
        spec: &'m EngineModelSpec,
        shared: &'m SharedState,
    ) -> Result<Self, EngineError> {
        let load_error = |reason: String| EngineError::Load {
            path: spec.path.display().to_string(),
            reason,
        };
        let architecture = model
            .meta_val_str("general.architecture")
            .unwrap_or_else(|_| "unknown".to_owned());
        let train_ctx = model.n_ctx_train();
        let n_ctx = spec.context_window.filter(|n| *n > 0).unwrap_or(train_ctx);
        let threads = spec.effective_threads();
        let threads_i32 = i32::try_from(threads).unwrap_or(i32::MAX);
        let params = LlamaContextParams::default()
            .with_n_ctx(NonZeroU32::new(n_ctx))
            .with_n_batch(PROMPT_BATCH.min(n_ctx.max(1)))
            .with_n_threads(threads_i32)
            .with_n_threads_batch(threads_i32)
            .with_swa_full(false);
        let ctx = model
            .new_context(backend, params)
            .map_err(|e| load_error(format!("cannot create a context of {n_ctx} tokens: {e}")))?;
        let (template, source) = choose_template(model, spec, &architecture).map_err(load_error)?;
        let info = ModelInfo {
            id: spec.id.clone(),
            path: spec.path.clone(),
            architecture,
            context_window: ctx.n_ctx(),
            train_context_window: train_ctx,
            parameters: model.n_params(),
            size_bytes: model.size(),
            threads,
            template: source,
        };
        let batch_size = usize::try_from(ctx.n_batch()).unwrap_or(512);
        Ok(Self {
            model,
            ctx,
            batch: LlamaBatch::new(batch_size, 1),
            template,
            cached: Vec::new(),
            turn_starts: turn_start_tokens(model),
            sliding_window: model
                .meta_val_str(&format!("{}.attention.sliding_window", info.architecture))
                .ok()
                .and_then(|v| v.trim().parse().ok())
                .filter(|n: &usize| *n > 0),
            spec,
            shared,
            info,
        })
    }

    pub fn info(&self) -> &ModelInfo {
        &self.info
    }

    pub fn handle(&mut self, job: Job) {
        match job {
            Job::Warm { reply } => drop(reply.send(Ok(self.info.clone()))),
            Job::Generate(job) => self.generate(*job),
        }
    }

    fn generate(&mut self, job: GenerateJob) {
        if job.admitted.is_closed() {
            // The caller stopped waiting while the request sat in the queue.
            SharedState::bump(&self.shared.requests_cancelled, 1);
            return;
        }
        let prompt = match self.tokenize_request(&job.request) {
            Ok(prompt) => prompt,
            Err(err) => {
                drop(job.admitted.send(Err(err)));
                return;
            }
        };
        if job.admitted.send(Ok(())).is_err() {
            SharedState::bump(&self.shared.requests_cancelled, 1);
            return;
        }
        SharedState::bump(&self.shared.requests_started, 1);
        let events = job.events;
        match self.run(&job.request, &prompt, &events) {
            Ok(()) => SharedState::bump(&self.shared.requests_finished, 1),
            Err(Ended::Cancelled) => SharedState::bump(&self.shared.requests_cancelled, 1),
            Err(Ended::Failed(err)) => {
                tracing::warn!(error = %err, "embedded generation failed");
                // Positions may be half-written: start the next request from a clean cache.
                self.ctx.clear_kv_cache();
                self.cached.clear();
                drop(events.blocking_send(Err(ProviderError::from(err))));
            }
        }
    }

    /// Renders and tokenizes the request and checks that it leaves room for output.
    fn tokenize_request(&self, request: &Request) -> Result<Vec<LlamaToken>, EngineError> {
        let turns = conversation_turns(request)?;
        let text = self.render(&turns)?;
        let vocab = self.model.vocab();
        let mut tokens = vocab.tokenize(text.as_bytes(), true, true);
        // A template that writes BOS itself, plus the tokenizer's, would double it.
        if tokens.len() >= 2 && tokens[0] == vocab.bos() && tokens[1] == vocab.bos() {
            tokens.remove(0);
        }
        if tokens.is_empty() {
            return Err(EngineError::Template(
                "the prompt rendered to no tokens".into(),
            ));
        }
        let limit = u64::from(self.ctx.n_ctx());
        let prompt_tokens = tokens.len() as u64;
        if prompt_tokens + 1 > limit {
            return Err(EngineError::ContextOverflow {
                prompt_tokens,
                limit,
            });
        }
        Ok(tokens)
    }

    fn render(&self, turns: &[ChatTurn]) -> Result<String, EngineError> {
        match &self.template {
            PromptTemplate::Builtin(builtin) => Ok(builtin.render(turns)),
            PromptTemplate::Llama(template) => apply_llama_template(self.model, template, turns),
        }
    }

    /// Streams `Started`, text deltas, `Usage`, `Finished`.
    fn run(
        &mut self,
        request: &Request,
        prompt: &[LlamaToken],
        events: &EventSender,
    ) -> Result<(), Ended> {
        send(
            events,
            Event::Started {
                id: format!("llamacpp-{}", uuid::Uuid::new_v4().simple()),
                model: self.spec.id.clone(),
            },
        )?;
        let mut logits_at = self.evaluate_prompt(prompt, events)?;
        let vocab = self.model.vocab();
        let n_ctx = self.ctx.n_ctx() as usize;
        let max_tokens = u64::from(request.max_tokens.unwrap_or(self.spec.max_tokens));
        let mut sampler = sampler_for(request);
        let mut utf8 = Utf8Assembler::new();
        let mut stops = StopScanner::new(&request.stop);
        let mut piece = Vec::new();
        let mut generated: u64 = 0;
        let mut hit_stop_sequence = false;
        let mut stop_reason = loop {
            if generated >= max_tokens {
                break StopReason::Length;
            }
            if events.is_closed() {
                return Err(Ended::Cancelled);
            }
            let token = sampler.sample(&self.ctx, logits_at);
            if vocab.is_eog(token) || self.turn_starts.contains(&token) {
                break StopReason::Stop;
            }
            generated += 1;
            SharedState::bump(&self.shared.tokens_generated, 1);
            piece.clear();
            vocab.token_to_piece_into(token, &mut piece, false, None);
            let text = utf8.push(&piece);
            match stops.push(&text) {
                ScanOutcome::Continue(text) => send_text(events, text)?,
                ScanOutcome::Stopped(text) => {
                    send_text(events, text)?;
                    hit_stop_sequence = true;
                    break StopReason::Stop;
                }
            }
            if generated >= max_tokens {
                // No need to evaluate a token nothing will follow.
                break StopReason::Length;
            }
            if self.cached.len() >= n_ctx {
                break StopReason::Length;
            }
            self.decode_one(token)?;
            logits_at = 0;
        };
        if !hit_stop_sequence {
            // Release what was held back: a truncated character, a partial stop match.
            let tail = utf8.finish();
            match stops.push(&tail) {
                ScanOutcome::Continue(text) => {
                    send_text(events, text)?;
                    send_text(events, stops.finish())?;
                }
                ScanOutcome::Stopped(text) => {
                    send_text(events, text)?;
                    stop_reason = StopReason::Stop;
                }
            }
        }
        send(
            events,
            Event::Usage {
                usage: Usage {
                    input_tokens: Some(prompt.len() as u64),
                    output_tokens: Some(generated),
                    ..Usage::default()
                },
            },
        )?;
        send(events, Event::Finished { stop_reason })
    }

    /// Evaluates the prompt, reusing the cached prefix. Returns the batch index whose logits
    /// the first output token is sampled from.
    fn evaluate_prompt(
        &mut self,
        prompt: &[LlamaToken],
        events: &EventSender,
    ) -> Result<i32, Ended> {
        let common = self
            .cached
            .iter()
            .zip(prompt)
            .take_while(|(a, b)| a == b)
            .count();
        // At least the last prompt token is evaluated again: its logits start the answer.
        let mut keep = common.min(prompt.len() - 1);
        if keep < self.cached.len() {
            let removed = self.window_survives_cut(keep)
                && u32::try_from(keep)
                    .ok()
                    .and_then(|p0| self.ctx.clear_kv_cache_seq(Some(0), Some(p0), None).ok())
                    == Some(true);
            if !removed {
                self.ctx.clear_kv_cache();
                keep = 0;
            }
            self.cached.truncate(keep);
        }
        let chunk_size = self.batch_capacity();
        let mut logits_at = 0;
        for chunk in prompt[keep..].chunks(chunk_size) {
            if events.is_closed() {
                return Err(Ended::Cancelled);
            }
            self.batch.clear();
            let start = self.cached.len();
            for (offset, token) in chunk.iter().enumerate() {
                let pos = start + offset;
                let last = pos == prompt.len() - 1;
                self.batch
                    .add(*token, position(pos)?, &[0], last)
                    .map_err(|e| failed(format!("batch: {e}")))?;
            }
            self.ctx
                .decode(&mut self.batch)
                .map_err(|e| failed(format!("prompt decode: {e}")))?;
            self.cached.extend_from_slice(chunk);
            SharedState::bump(&self.shared.prompt_tokens_evaluated, chunk.len() as u64);
            logits_at = self.batch.n_tokens() - 1;
        }
        Ok(logits_at)
    }

    /// Whether evaluation can resume at position `keep` after dropping the positions from
    /// there on: the sliding-window cache must still hold the `window` positions before it.
    fn window_survives_cut(&self, keep: usize) -> bool {
        let Some(window) = self.sliding_window else {
            return true;
        };
        let oldest = self.ctx.kv_cache_seq_pos_min(0);
        usize::try_from(oldest).is_ok_and(|oldest| oldest <= keep.saturating_sub(window))
    }

    fn decode_one(&mut self, token: LlamaToken) -> Result<(), Ended> {
        self.batch.clear();
        let pos = position(self.cached.len())?;
        self.batch
            .add(token, pos, &[0], true)
            .map_err(|e| failed(format!("batch: {e}")))?;
        self.ctx
            .decode(&mut self.batch)
            .map_err(|e| failed(format!("decode: {e}")))?;
        self.cached.push(token);
        Ok(())
    }

    fn batch_capacity(&self) -> usize {
        usize::try_from(self.ctx.n_batch()).unwrap_or(1).max(1)
    }
}

type EventSender = tokio::sync::mpsc::Sender<Result<Event, ProviderError>>;

/// Why a generation ended early.
enum Ended {
    /// The client went away (the stream was dropped).
    Cancelled,
    Failed(EngineError),
}

fn failed(reason: String) -> Ended {
    Ended::Failed(EngineError::Inference(reason))
}

fn position(pos: usize) -> Result<i32, Ended> {
    i32::try_from(pos).map_err(|_| failed(format!("position {pos} out of range")))
}

/// Blocking send from the engine thread; an error means the client dropped the stream.
fn send(events: &EventSender, event: Event) -> Result<(), Ended> {
    events
        .blocking_send(Ok(event))
        .map_err(|_| Ended::Cancelled)
}

fn send_text(events: &EventSender, text: String) -> Result<(), Ended> {
    if text.is_empty() {
        return Ok(());
    }
    send(events, Event::TextDelta { text })
}

/// Temperature 0 decodes greedily; otherwise top-p (when asked), temperature, then a seeded
/// draw. Without a seed llama.cpp picks a random one (`LLAMA_DEFAULT_SEED`).
fn sampler_for(request: &Request) -> LlamaSampler {
    let temperature = request.temperature.unwrap_or(DEFAULT_TEMPERATURE);
    if temperature <= 0.0 {
        return LlamaSampler::greedy();
    }
    let seed = request.seed.map_or(u32::MAX, |seed| seed as u32);
    let mut chain = Vec::new();
    if let Some(top_p) = request.top_p.filter(|p| *p > 0.0 && *p < 1.0) {
        chain.push(LlamaSampler::top_p(top_p, 1));
    }
    chain.push(LlamaSampler::temp(temperature));
    chain.push(LlamaSampler::dist(seed));
    LlamaSampler::chain_simple(chain)
}

/// Spec template, else the GGUF's (if llama.cpp can apply it), else the built-in table.
fn choose_template(
    model: &LlamaModel,
    spec: &EngineModelSpec,
    architecture: &str,
) -> Result<(PromptTemplate, TemplateSource), String> {
    if let Some(name) = spec.chat_template.as_deref() {
        if let Some(builtin) = BuiltinTemplate::from_name(name) {
            return Ok((
                PromptTemplate::Builtin(builtin),
                TemplateSource::Builtin(builtin.name().to_owned()),
            ));
        }
        let template = LlamaChatTemplate::new(name).map_err(|e| format!("chat_template: {e}"))?;
        if apply_llama_template(model, &template, &probe_turns()).is_err() {
            return Err(format!(
                "chat_template `{name}` is neither a built-in name ({}) nor a template \
                 llama.cpp recognises",
                builtin_names()
            ));
        }
        return Ok((
            PromptTemplate::Llama(template),
            TemplateSource::Spec(name.to_owned()),
        ));
    }
    if let Ok(template) = model.chat_template(None) {
        if apply_llama_template(model, &template, &probe_turns()).is_ok() {
            return Ok((PromptTemplate::Llama(template), TemplateSource::Gguf));
        }
        tracing::warn!(
            architecture,
            "the GGUF chat template is not one llama.cpp can apply; using the built-in table"
        );
    }
    let has_llama3_headers = model
        .vocab()
        .tokenize(b"<|start_header_id|>", false, true)
        .len()
        == 1;
    let builtin = BuiltinTemplate::for_architecture(architecture, has_llama3_headers)
        .unwrap_or_else(|| {
            tracing::warn!(
                architecture,
                "no built-in chat template for this architecture; using chatml"
            );
            BuiltinTemplate::ChatMl
        });
    Ok((
        PromptTemplate::Builtin(builtin),
        TemplateSource::Builtin(builtin.name().to_owned()),
    ))
}

/// The vocabulary's single control tokens for the turn-start markers of known templates.
fn turn_start_tokens(model: &LlamaModel) -> Vec<LlamaToken> {
    let vocab = model.vocab();
    BuiltinTemplate::TURN_START_MARKERS
        .iter()
        .filter_map(
            |marker| match vocab.tokenize(marker.as_bytes(), false, true)[..] {
                [token] if vocab.is_control(token) => Some(token),
                _ => None,
            },
        )
        .collect()
}

fn builtin_names() -> String {
    BuiltinTemplate::ALL
        .iter()
        .map(|t| t.name())
        .collect::<Vec<_>>()
        .join(", ")
}

fn probe_turns() -> Vec<ChatTurn> {
    vec![
        ChatTurn::new(TurnRole::System, "s"),
        ChatTurn::new(TurnRole::User, "u"),
    ]
}

fn apply_llama_template(
    model: &LlamaModel,
    template: &LlamaChatTemplate,
    turns: &[ChatTurn],
) -> Result<String, EngineError> {
    let messages = turns
        .iter()
        .map(|turn| LlamaChatMessage::new(turn.role.as_str().to_owned(), turn.text.clone()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| EngineError::Template(e.to_string()))?;
    model
        .apply_chat_template(template, &messages, true)
        .map_err(|e| EngineError::Template(e.to_string()))
}
