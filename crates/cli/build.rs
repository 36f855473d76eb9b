//! Link settings for the `clawgate` executable.
//!
//! Packed relative relocations (RELR, `-z pack-relative-relocs`): a position-independent
//! executable carries one relocation per pointer in its read-only data, ~1.3 MB of them for
//! this binary, and the dynamic loader reads every one at start. RELR writes the same
//! information as bitmaps (~20 KB), which takes ~1.8 MB off the resident set at idle and keeps
//! the executable position-independent (ASLR stays).
//!
//! Only where the result loads: glibc reads RELR from 2.36 on (a binary linked against an
//! older one refuses to start), so the option is passed when building natively on a glibc of
//! 2.36 or later, as told by `getconf GNU_LIBC_VERSION`. GNU ld writes RELR from 2.38; an older
//! one ignores the option with a warning.

use std::process::Command;

/// The first glibc that reads RELR.
const RELR_GLIBC: (u32, u32) = (2, 36);

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let var = |key: &str| std::env::var(key).unwrap_or_default();
    let native = var("HOST") == var("TARGET");
    let glibc = var("CARGO_CFG_TARGET_OS") == "linux" && var("CARGO_CFG_TARGET_ENV") == "gnu";
    if glibc && native && host_glibc().is_some_and(|v| v >= RELR_GLIBC) {
        println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    }
}

/// The build machine's glibc version, from `getconf GNU_LIBC_VERSION` ("glibc 2.36").
fn host_glibc() -> Option<(u32, u32)> {
    let out = Command::new("getconf")
        .arg("GNU_LIBC_VERSION")
        .output()
        .ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    let (major, minor) = text.trim().strip_prefix("glibc ")?.split_once('.')?;
    let minor: String = minor.chars().take_while(char::is_ascii_digit).collect();
    Some((major.parse().ok()?, minor.parse().ok()?))
}
