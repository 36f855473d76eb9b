//! The engine settings a model row can set, each shown by its effect: what llama.cpp reports
//! back (context, batch, threads), what the kernel sees (mmap, mlock), what generation does
//! (sampling defaults), and what a CPU-only build honestly ignores (GPU layers).

use clawgate_engine::{LlamaCppProvider, SamplingDefaults};
use clawgate_wire::Request;

use crate::common::{demo_gguf, demo_spec, request, run};

const PROMPT: &str = "Write a list of the planets of the solar system.";

fn provider(spec: clawgate_engine::EngineModelSpec) -> LlamaCppProvider {
    LlamaCppProvider::new("embedded", spec)
}

fn sampled(max_tokens: u32) -> Request {
    let mut req = request(PROMPT, max_tokens);
    // No temperature and no seed: the model row's defaults decide.
    req.temperature = None;
    req.seed = None;
    req
}

#[tokio::test]
async fn context_batch_and_threads_are_what_llama_cpp_allocated() {
    let p = provider(
        demo_spec()
            .with_context_window(768)
            .with_batch_size(64)
            .with_threads(2),
    );
    let info = p.warm().await.unwrap();
    assert_eq!(info.context_window, 768);
    assert_eq!(info.batch_size, 64);
    assert_eq!(info.threads, 2);
    // A prompt longer than one batch is evaluated in several decode calls and still answers.
    let long = "one two three four five six seven eight nine ten ".repeat(12);
    let out = run(&p, request(&long, 2)).await;
    assert!(out.usage.input_tokens.unwrap() > 64);
}

#[tokio::test]
async fn gpu_layers_are_reported_as_not_offloaded_in_a_cpu_build() {
    let info = provider(demo_spec().with_gpu_layers(99))
        .warm()
        .await
        .unwrap();
    assert!(
        info.devices.iter().all(|d| d.ends_with("(CPU)")),
        "this test build has only CPU devices: {:?}",
        info.devices
    );
    assert_eq!(
        info.gpu_layers, 0,
        "nothing is offloaded without a GPU backend"
    );
}

/// The same GGUF under a name of its own (a hard link, else a copy), so this process's memory
/// maps can be searched for exactly this load.
fn private_copy(dir: &tempfile::TempDir, name: &str) -> std::path::PathBuf {
    let path = dir.path().join(name);
    if std::fs::hard_link(demo_gguf(), &path).is_err() {
        std::fs::copy(demo_gguf(), &path).unwrap();
    }
    path
}

fn mapped(path: &std::path::Path) -> bool {
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    maps.lines().any(|line| line.ends_with(&name))
}

#[tokio::test]
async fn mmap_maps_the_file_and_no_mmap_reads_it() {
    let dir = tempfile::tempdir().unwrap();
    let with = private_copy(&dir, "mapped.gguf");
    let without = private_copy(&dir, "read.gguf");
    let mut spec = demo_spec();
    spec.path = with.clone();
    let mapped_provider = provider(spec);
    assert!(mapped_provider.warm().await.unwrap().mmap);
    let mut spec = demo_spec().with_mmap(false);
    spec.path = without.clone();
    let read_provider = provider(spec);
    assert!(!read_provider.warm().await.unwrap().mmap);
    assert!(mapped(&with), "mmap: the weights are mapped from the file");
    assert!(!mapped(&without), "mmap off: the file is read, not mapped");
    // Both answer alike.
    let a = run(&mapped_provider, request(PROMPT, 8)).await.text;
    let b = run(&read_provider, request(PROMPT, 8)).await.text;
    assert_eq!(a, b);
}

/// `Max locked memory` of this process (`ulimit -l`), in bytes; `None` = unlimited.
fn memlock_limit() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").unwrap();
    let line = limits
        .lines()
        .find(|l| l.starts_with("Max locked memory"))
        .unwrap();
    let soft = line.split_whitespace().nth(3).unwrap();
    soft.parse().ok()
}

#[tokio::test]
async fn mlock_locks_the_weights_when_the_limit_allows() {
    let info = provider(demo_spec().with_mlock(true)).warm().await.unwrap();
    let locked = info.locked_bytes.expect("mlock reports what is locked");
    // Either the weights are locked, or the process may not lock that much (an unprivileged
    // process under a low `ulimit -l`; root is not bound by it) and the engine reports that
    // instead of pretending.
    let limit = memlock_limit();
    assert!(
        locked >= info.size_bytes || limit.is_some_and(|l| l < info.size_bytes),
        "only {locked} of {} bytes locked, limit {limit:?}",
        info.size_bytes
    );
    let unlocked = provider(demo_spec()).warm().await.unwrap();
    assert_eq!(unlocked.locked_bytes, None);
}

#[tokio::test]
async fn sampling_defaults_apply_when_the_request_sets_none() {
    let greedy = run(&provider(demo_spec()), request(PROMPT, 24)).await.text;

    // A seed in the row makes sampling reproducible; another seed changes it.
    let seeded = |seed| {
        provider(demo_spec().with_sampling(SamplingDefaults {
            temperature: Some(1.0),
            seed: Some(seed),
            ..SamplingDefaults::default()
        }))
    };
    let a = run(&seeded(11), sampled(24)).await.text;
    let b = run(&seeded(11), sampled(24)).await.text;
    assert_eq!(a, b, "same row seed, different text");
    let mut differs = false;
    for seed in [12, 13, 14] {
        differs |= run(&seeded(seed), sampled(24)).await.text != a;
    }
    assert!(
        differs,
        "four seeds at temperature 1 all gave the same text"
    );

    // temperature 0 in the row is greedy; top_k 1, a tiny top_p and min_p 1 at temperature 1
    // keep only the most likely token, so they are greedy too.
    for defaults in [
        SamplingDefaults {
            temperature: Some(0.0),
            ..SamplingDefaults::default()
        },
        SamplingDefaults {
            temperature: Some(1.0),
            top_k: Some(1),
            ..SamplingDefaults::default()
        },
        SamplingDefaults {
            temperature: Some(1.0),
            top_p: Some(1e-6),
            ..SamplingDefaults::default()
        },
        SamplingDefaults {
            temperature: Some(1.0),
            min_p: Some(1.0),
            ..SamplingDefaults::default()
        },
    ] {
        let text = run(&provider(demo_spec().with_sampling(defaults)), sampled(24))
            .await
            .text;
        assert_eq!(text, greedy, "{defaults:?}");
    }

    // A strong repeat penalty changes the greedy text; the request's temperature still wins.
    let penalised = provider(demo_spec().with_sampling(SamplingDefaults {
        temperature: Some(0.0),
        repeat_penalty: Some(4.0),
        ..SamplingDefaults::default()
    }));
    assert_ne!(run(&penalised, sampled(24)).await.text, greedy);
}
