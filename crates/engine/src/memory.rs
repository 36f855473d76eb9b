//! How much of this process is locked in RAM, to report whether `mlock` took: llama.cpp only
//! logs a warning when locking fails (typically `RLIMIT_MEMLOCK`, `ulimit -l`, is lower than
//! the model), so the engine reads the kernel's count after loading instead.

/// `VmLck` of this process in bytes (Linux; `None` elsewhere or when unreadable).
pub(crate) fn locked_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmLck:"))?;
    let kib: u64 = line
        .trim_start_matches("VmLck:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib * 1024)
}
