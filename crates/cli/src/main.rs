//! The `clawgate` binary: clap commands with human and `--json` output. Thin by design: all
//! behaviour lives in the library crates.

fn main() {}
