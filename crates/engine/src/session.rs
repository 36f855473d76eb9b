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
use llama_cpp_2::model::LlamaModel;
use llama_cpp_2::model::params::LlamaModelParams;
use llama_cpp_2::sampling::LlamaSampler;
use llama_cpp_2::token::LlamaToken;

use crate::answer::AnswerAssembler;
use crate::prompt_plan::{
    PreparedPrompt, PromptTemplate, SpecialTokens, ToolPlan, base_model_tools_notice,
    prepare_prompt,
};
use crate::sampling::sampler_for;
use crate::templates::BuiltinTemplate;
use crate::tool_calls::format::ToolCallFormat;
use crate::worker::{GenerateJob, Job, SharedState};
use crate::{EngineError, EngineModelSpec, FlashAttention, LoadObserver, ModelInfo};

/// Prompt tokens evaluated per llama.cpp decode call when the spec sets no batch size.
const DEFAULT_BATCH: u32 = 512;

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
    let gpu_layers = spec.gpu_layers.unwrap_or(0);
    if gpu_layers > 0 && !backend.supports_gpu_offload() {
        tracing::warn!(
            gpu_layers,
            "gpuLayers is ignored: this build of clawgate has no GPU backend (see \
             docs/embedded-engine.md, GPU builds)"
        );
    }
    let mut params = LlamaModelParams::default()
        .with_n_gpu_layers(gpu_layers)
        .with_use_mmap(spec.mmap)
        .with_use_mlock(spec.mlock);
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

pub(crate) struct Session<'m> {
    model: &'m LlamaModel,
    ctx: LlamaContext<'m>,
    batch: LlamaBatch<'static>,
    template: PromptTemplate,
    tokens: SpecialTokens,
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
        let n_batch = spec
            .batch_size
            .filter(|n| *n > 0)
            .unwrap_or(DEFAULT_BATCH)
            .min(n_ctx.max(1));
        let params = LlamaContextParams::default()
            .with_n_ctx(NonZeroU32::new(n_ctx))
            .with_n_batch(n_batch)
            .with_n_ubatch(n_batch)
            .with_n_threads(threads_i32)
            .with_n_threads_batch(threads_i32)
            .with_flash_attention_policy(match spec.flash_attention {
                FlashAttention::Auto => llama_cpp_sys_2::LLAMA_FLASH_ATTN_TYPE_AUTO,
                FlashAttention::Enabled => llama_cpp_sys_2::LLAMA_FLASH_ATTN_TYPE_ENABLED,
                FlashAttention::Disabled => llama_cpp_sys_2::LLAMA_FLASH_ATTN_TYPE_DISABLED,
            })
            .with_swa_full(false);
        let ctx = model
            .new_context(backend, params)
            .map_err(|e| load_error(format!("cannot create a context of {n_ctx} tokens: {e}")))?;
        let tokens = special_tokens(model);
        let (template, source) =
            crate::template_choice::choose_template(model, spec, &architecture, &tokens)
                .map_err(load_error)?;
        let info = ModelInfo {
            id: spec.id.clone(),
            path: spec.path.clone(),
            architecture,
            context_window: ctx.n_ctx(),
            train_context_window: train_ctx,
            parameters: model.n_params(),
            size_bytes: model.size(),
            threads,
            batch_size: ctx.n_batch(),
            gpu_layers: if backend.supports_gpu_offload() {
                spec.gpu_layers.unwrap_or(0).min(model.n_layer() + 1)
            } else {
                0
            },
            devices: llama_cpp_2::list_llama_ggml_backend_devices()
                .into_iter()
                .map(|d| format!("{} ({})", d.name, d.backend))
                .collect(),
            flash_attention: spec.flash_attention,
            mmap: spec.mmap && llama_cpp_2::mmap_supported(),
            locked_bytes: spec.mlock.then(crate::memory::locked_bytes).flatten(),
            base_model: matches!(template, PromptTemplate::Transcript),
            tool_call_format: template.tool_format().name().to_owned(),
            template: source,
            sampling: spec.sampling,
        };
        let batch_size = usize::try_from(ctx.n_batch()).unwrap_or(512);
        Ok(Self {
            model,
            ctx,
            batch: LlamaBatch::new(batch_size, 1),
            template,
            tokens,
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
        let ready = self.prepare(&job.request).and_then(|(prompt, tokens)| {
            let sampler = sampler_for(
                self.model,
                &job.request,
                &self.spec.sampling,
                &prompt.tools,
                &tokens,
            )?;
            Ok((prompt, tokens, sampler))
        });
        let (prompt, tokens, sampler) = match ready {
            Ok(ready) => ready,
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
        match self.run(&job.request, &prompt, &tokens, sampler, &events) {
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
    fn prepare(&self, request: &Request) -> Result<(PreparedPrompt, Vec<LlamaToken>), EngineError> {
        let prompt = prepare_prompt(
            request,
            &self.template,
            &self.tokens,
            &jiff::ZonedDateTime::now(),
        )?;
        let vocab = self.model.vocab();
        let mut tokens = vocab.tokenize(prompt.text.as_bytes(), true, true);
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
        Ok((prompt, tokens))
    }

    /// Streams `Started`, text/reasoning/tool-call deltas, `Usage`, `Finished`.
    fn run(
        &mut self,
        request: &Request,
        prompt: &PreparedPrompt,
        tokens: &[LlamaToken],
        mut sampler: LlamaSampler,
        events: &EventSender,
    ) -> Result<(), Ended> {
        send(
            events,
            Event::Started {
                id: format!("llamacpp-{}", uuid::Uuid::new_v4().simple()),
                model: self.spec.id.clone(),
            },
        )?;
        if prompt.tools == ToolPlan::BaseModelAnswersInText {
            let text = base_model_tools_notice(&self.spec.id);
            tracing::warn!(model = %self.spec.id, "{text}");
            send(events, Event::Notice { text })?;
        }
        let mut logits_at = self.evaluate_prompt(tokens, events)?;
        let vocab = self.model.vocab();
        let n_ctx = self.ctx.n_ctx() as usize;
        let max_tokens = u64::from(request.max_tokens.unwrap_or(self.spec.max_tokens));
        let mut answer = AnswerAssembler::new(
            &prompt.tools,
            &request.tools,
            &request.stop,
            &prompt.stops,
            prompt.trim_leading_blank,
        );
        // Markup tokens (`<|channel|>`, `[TOOL_CALLS]`) must reach the parsers as text.
        let special = self.template.tool_format() == ToolCallFormat::Harmony
            || matches!(
                prompt.tools,
                ToolPlan::Offered { .. } | ToolPlan::Forced { .. }
            );
        let mut piece = Vec::new();
        let mut generated: u64 = 0;
        let reason = loop {
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
            vocab.token_to_piece_into(token, &mut piece, special, None);
            for event in answer.push(&piece) {
                send(events, event)?;
            }
            if answer.stopped() {
                break StopReason::Stop;
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
        let end = answer.finish(reason).map_err(Ended::Failed)?;
        for event in end.events {
            send(events, event)?;
        }
        send(
            events,
            Event::Usage {
                usage: Usage {
                    input_tokens: Some(tokens.len() as u64),
                    output_tokens: Some(generated),
                    ..Usage::default()
                },
            },
        )?;
        send(
            events,
            Event::Finished {
                stop_reason: end.stop_reason,
            },
        )
    }

    /// Evaluates the prompt, reusing the cached prefix. Returns the batch index whose logits
    /// the first output token is sampled from (always 0: the last token is decoded alone).
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
        // Everything but the last token in batches, then the last token alone: its logits
        // start the answer, and computing them in a batch of one whether or not the rest was
        // cached keeps greedy output identical across cache reuse (batch shapes change the
        // float rounding of llama.cpp's matrix kernels).
        let (body, last) = prompt.split_at(prompt.len() - 1);
        let chunk_size = self.batch_capacity();
        for chunk in body[keep.min(body.len())..].chunks(chunk_size) {
            self.decode_prompt_chunk(chunk, false, events)?;
        }
        self.decode_prompt_chunk(last, true, events)?;
        Ok(0)
    }

    fn decode_prompt_chunk(
        &mut self,
        chunk: &[LlamaToken],
        logits_for_last: bool,
        events: &EventSender,
    ) -> Result<(), Ended> {
        if events.is_closed() {
            return Err(Ended::Cancelled);
        }
        self.batch.clear();
        let start = self.cached.len();
        for (offset, token) in chunk.iter().enumerate() {
            let logits = logits_for_last && offset == chunk.len() - 1;
            self.batch
                .add(*token, position(start + offset)?, &[0], logits)
                .map_err(|e| failed(format!("batch: {e}")))?;
        }
        self.ctx
            .decode(&mut self.batch)
            .map_err(|e| failed(format!("prompt decode: {e}")))?;
        self.cached.extend_from_slice(chunk);
        SharedState::bump(&self.shared.prompt_tokens_evaluated, chunk.len() as u64);
        Ok(())
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

/// BOS and EOS as text, for templates' `bos_token` and `eos_token`.
fn special_tokens(model: &LlamaModel) -> SpecialTokens {
    let vocab = model.vocab();
    let text = |token: LlamaToken| {
        String::from_utf8_lossy(&vocab.token_to_piece(token, true, None)).into_owned()
    };
    SpecialTokens {
        bos: text(vocab.bos()),
        eos: text(vocab.eos()),
    }
}
