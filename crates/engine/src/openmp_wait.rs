//! OpenMP's wait policy for the engine's llama.cpp threads, chosen from a measurement
//! (docs/embedded-engine.md, "Threads and OpenMP"): with libgomp's default, threads that wait
//! for the next piece of work spin for a while first, and on a machine whose cores are busy
//! with other work two spinning threads slow each other down several times over
//! (generation on the 2-core bench machine fell from 22 to 5.6 tok/s); with
//! `OMP_WAIT_POLICY=passive` they sleep instead.
//!
//! libgomp reads the variable once, when it is loaded, which for a binary linked against it
//! is before `main`. Setting it from inside the process is too late, so a binary that wants
//! the policy re-executes itself with the variable set. The user's own `OMP_WAIT_POLICY` or
//! `GOMP_SPINCOUNT` always wins (`GOMP_SPINCOUNT=300000` is libgomp's default spin, for a
//! quiet machine where spinning is faster).

/// The policy the engine runs with unless `OMP_WAIT_POLICY` is set.
pub const DEFAULT_OMP_WAIT_POLICY: &str = "passive";

/// Environment variable libgomp reads.
const VARIABLE: &str = "OMP_WAIT_POLICY";
/// libgomp's own spin setting; when set, it decides the spinning whatever the policy says.
const SPIN_COUNT: &str = "GOMP_SPINCOUNT";

/// Call first thing in `main` of a binary that links the engine: when this build links
/// llama.cpp and neither `OMP_WAIT_POLICY` nor `GOMP_SPINCOUNT` is set, replaces the process
/// with the same executable, the same arguments and [`DEFAULT_OMP_WAIT_POLICY`] set (same
/// pid, so callers see nothing). Otherwise, or when the executable cannot be re-executed,
/// returns without doing anything (the engine then runs with libgomp's default policy; a
/// failed re-execution says so on stderr).
pub fn restart_with_default_wait_policy() {
    if !crate::EMBEDDED_ENGINE_AVAILABLE
        || std::env::var_os(VARIABLE).is_some()
        || std::env::var_os(SPIN_COUNT).is_some()
    {
        return;
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt as _;

        let Ok(exe) = std::env::current_exe() else {
            return;
        };
        let mut args = std::env::args_os();
        let mut command = std::process::Command::new(&exe);
        if let Some(arg0) = args.next() {
            command.arg0(arg0);
        }
        // `exec` only returns on failure.
        let error = command
            .args(args)
            .env(VARIABLE, DEFAULT_OMP_WAIT_POLICY)
            .exec();
        eprintln!(
            "warning: could not restart {} with {VARIABLE}={DEFAULT_OMP_WAIT_POLICY} ({error}); \
             the embedded engine keeps OpenMP's default wait policy",
            exe.display()
        );
    }
}
