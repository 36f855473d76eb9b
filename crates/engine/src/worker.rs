//! The engine thread and the handle the async side talks to it through.
//!
//! One OS thread owns the model and its context for the provider's lifetime: llama.cpp calls
//! are blocking and the context is not shareable, and keeping both on one thread's stack
//! sidesteps the model/context borrow without self-referential structs. Jobs arrive on a
//! channel and run one at a time, in order, so a second request waits in the queue and never
//! cuts off the first. The thread starts on first use (or `warm()`), loads the GGUF, and
//! exits when the provider is dropped (its job sender closes).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, mpsc};

use clawgate_providers::{EventStream, ProviderError};
use clawgate_wire::{Event, Request};
use llama_cpp_2::llama_backend::LlamaBackend;
use tokio::sync::{mpsc as async_mpsc, oneshot};

use crate::session::Session;
use crate::{EngineError, EngineModelSpec, EngineStats, LoadObserver, ModelInfo};

/// Events buffered per request before the engine waits for the client to read (backpressure:
/// a slow client slows generation instead of piling up text).
const EVENT_BUFFER: usize = 32;

pub(crate) enum Job {
    Warm {
        reply: oneshot::Sender<Result<ModelInfo, EngineError>>,
    },
    Generate(Box<GenerateJob>),
}

pub(crate) struct GenerateJob {
    pub request: Request,
    /// Answered once the prompt is rendered, tokenized and known to fit (or not).
    pub admitted: oneshot::Sender<Result<(), EngineError>>,
    pub events: async_mpsc::Sender<Result<Event, ProviderError>>,
}

impl Job {
    fn fail(self, err: EngineError) {
        // The caller may be gone already; nothing to tell then.
        match self {
            Job::Warm { reply } => drop(reply.send(Err(err))),
            Job::Generate(job) => drop(job.admitted.send(Err(err))),
        }
    }
}

/// State both sides read: the loaded model's description and the counters.
#[derive(Default)]
pub(crate) struct SharedState {
    info: Mutex<Option<ModelInfo>>,
    pub loads: AtomicU64,
    pub requests_started: AtomicU64,
    pub requests_finished: AtomicU64,
    pub requests_cancelled: AtomicU64,
    pub tokens_generated: AtomicU64,
    pub prompt_tokens_evaluated: AtomicU64,
}

impl SharedState {
    fn info_slot(&self) -> MutexGuard<'_, Option<ModelInfo>> {
        // A panic while holding this lock cannot leave the Option half-written.
        self.info
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn set_info(&self, info: Option<ModelInfo>) {
        *self.info_slot() = info;
    }

    pub fn info(&self) -> Option<ModelInfo> {
        self.info_slot().clone()
    }

    pub fn bump(counter: &AtomicU64, by: u64) {
        counter.fetch_add(by, Ordering::Relaxed);
    }

    fn stats(&self) -> EngineStats {
        let read = |c: &AtomicU64| c.load(Ordering::Relaxed);
        EngineStats {
            loads: read(&self.loads),
            requests_started: read(&self.requests_started),
            requests_finished: read(&self.requests_finished),
            requests_cancelled: read(&self.requests_cancelled),
            tokens_generated: read(&self.tokens_generated),
            prompt_tokens_evaluated: read(&self.prompt_tokens_evaluated),
        }
    }
}

/// The async side's handle on the engine thread.
pub(crate) struct EngineHandle {
    spec: Arc<EngineModelSpec>,
    observer: Option<Arc<dyn LoadObserver>>,
    jobs: Mutex<Option<mpsc::Sender<Job>>>,
    shared: Arc<SharedState>,
}

impl EngineHandle {
    pub fn new(spec: EngineModelSpec) -> Self {
        Self {
            spec: Arc::new(spec),
            observer: None,
            jobs: Mutex::new(None),
            shared: Arc::new(SharedState::default()),
        }
    }

    pub fn set_observer(&mut self, observer: Arc<dyn LoadObserver>) {
        self.observer = Some(observer);
    }

    pub fn spec(&self) -> &EngineModelSpec {
        &self.spec
    }

    pub fn model_info(&self) -> Option<ModelInfo> {
        self.shared.info()
    }

    pub fn stats(&self) -> EngineStats {
        self.shared.stats()
    }

    pub async fn warm(&self) -> Result<ModelInfo, EngineError> {
        self.check_file()?;
        let (reply, answer) = oneshot::channel();
        self.submit(Job::Warm { reply })?;
        answer.await.map_err(|_| EngineError::EngineStopped)?
    }

    /// Queues the request and waits until the engine admits it (its turn came and the prompt
    /// fits), so prompt errors are returned before any event, like an HTTP 400.
    pub async fn start(&self, request: Request) -> Result<EventStream, EngineError> {
        if !request.model.is_empty() && request.model != self.spec.id {
            return Err(EngineError::UnknownModel {
                requested: request.model,
                served: self.spec.id.clone(),
            });
        }
        self.check_file()?;
        let (admitted, admission) = oneshot::channel();
        let (events, mut receiver) = async_mpsc::channel(EVENT_BUFFER);
        self.submit(Job::Generate(Box::new(GenerateJob {
            request,
            admitted,
            events,
        })))?;
        admission.await.map_err(|_| EngineError::EngineStopped)??;
        // Dropping this stream drops `receiver`; the engine sees the channel closed at its
        // next token and stops.
        let stream = futures::stream::poll_fn(move |cx| receiver.poll_recv(cx));
        Ok(Box::pin(stream))
    }

    /// A missing file is reported at call time (not only at load), so a router falls back.
    /// Once loaded, the model stays in memory even if the file goes away.
    fn check_file(&self) -> Result<(), EngineError> {
        if self.shared.info().is_none() && !self.spec.path.is_file() {
            return Err(EngineError::ModelFileMissing {
                path: self.spec.path.display().to_string(),
            });
        }
        Ok(())
    }

    fn submit(&self, job: Job) -> Result<(), EngineError> {
        let mut slot = self.jobs.lock().unwrap_or_else(|p| p.into_inner());
        let job = match slot.as_ref() {
            Some(sender) => match sender.send(job) {
                Ok(()) => return Ok(()),
                // The thread is gone (it panicked); start a fresh one below.
                Err(mpsc::SendError(job)) => job,
            },
            None => job,
        };
        let (sender, receiver) = mpsc::channel();
        let spec = Arc::clone(&self.spec);
        let observer = self.observer.clone();
        let shared = Arc::clone(&self.shared);
        std::thread::Builder::new()
            .name(format!("clawgate-engine-{}", self.spec.id))
            .spawn(move || run_engine(&spec, observer.as_ref(), &shared, &receiver))
            .map_err(|e| EngineError::Inference(format!("cannot start the engine thread: {e}")))?;
        sender.send(job).map_err(|_| EngineError::EngineStopped)?;
        *slot = Some(sender);
        Ok(())
    }
}

/// Set (to anything but `0`) to route llama.cpp's own log lines into `tracing` (target
/// `llama-cpp-2`).
pub(crate) const LLAMA_LOG_ENV: &str = "CLAWGATE_LLAMA_LOG";

/// llama.cpp's backend is process-wide and may be initialised once.
fn backend() -> Result<&'static LlamaBackend, EngineError> {
    static BACKEND: OnceLock<Result<LlamaBackend, String>> = OnceLock::new();
    BACKEND
        .get_or_init(|| {
            let mut backend = LlamaBackend::init().map_err(|e| e.to_string())?;
            // llama.cpp prints dozens of lines per load to stderr, and its tracing bridge
            // bypasses per-target filters, so it is silent unless asked for.
            if std::env::var_os(LLAMA_LOG_ENV).is_some_and(|v| !v.is_empty() && v != "0") {
                llama_cpp_2::send_logs_to_tracing(llama_cpp_2::LogOptions::default());
            } else {
                backend.void_logs();
            }
            Ok(backend)
        })
        .as_ref()
        .map_err(|reason| EngineError::Inference(format!("llama.cpp backend init: {reason}")))
}

fn run_engine(
    spec: &EngineModelSpec,
    observer: Option<&Arc<dyn LoadObserver>>,
    shared: &SharedState,
    jobs: &mpsc::Receiver<Job>,
) {
    let backend = match backend() {
        Ok(backend) => backend,
        Err(err) => {
            for job in jobs.iter() {
                job.fail(err.clone());
            }
            return;
        }
    };
    // Until a load succeeds, each job triggers a (re)try: the file may appear later.
    while let Ok(first) = jobs.recv() {
        if let Job::Generate(job) = &first
            && job.admitted.is_closed()
        {
            SharedState::bump(&shared.requests_cancelled, 1);
            continue;
        }
        let model = match crate::session::load_model(backend, spec, observer) {
            Ok(model) => model,
            Err(err) => {
                notify_load_failed(observer, &err);
                first.fail(err);
                continue;
            }
        };
        let mut session = match Session::new(backend, &model, spec, shared) {
            Ok(session) => session,
            Err(err) => {
                notify_load_failed(observer, &err);
                first.fail(err);
                continue;
            }
        };
        SharedState::bump(&shared.loads, 1);
        shared.set_info(Some(session.info().clone()));
        if let Some(observer) = observer {
            observer.on_load_done(Ok(session.info()));
        }
        session.handle(first);
        for job in jobs.iter() {
            session.handle(job);
        }
        shared.set_info(None);
        return;
    }
}

fn notify_load_failed(observer: Option<&Arc<dyn LoadObserver>>, err: &EngineError) {
    tracing::warn!(error = %err, "embedded model load failed");
    if let Some(observer) = observer {
        observer.on_load_done(Err(&err.to_string()));
    }
}

/// `<arch>.context_length` from a GGUF header, without loading the weights.
pub(crate) fn gguf_context_length(path: &std::path::Path) -> Option<u64> {
    // GGUF value types (gguf.h): only integer types are read, other types would abort.
    const UINT32: u32 = 4;
    const INT32: u32 = 5;
    const UINT64: u32 = 10;
    let gguf = llama_cpp_2::gguf::GgufContext::from_file(path)?;
    let arch_key = gguf.find_key("general.architecture");
    if arch_key < 0 {
        return None;
    }
    let arch = gguf.val_str(arch_key)?.to_owned();
    let key = gguf.find_key(&format!("{arch}.context_length"));
    if key < 0 {
        return None;
    }
    match gguf.kv_type(key) as u32 {
        UINT32 => Some(u64::from(gguf.val_u32(key))),
        INT32 => u64::try_from(gguf.val_i32(key)).ok(),
        UINT64 => Some(gguf.val_u64(key)),
        _ => None,
    }
}
