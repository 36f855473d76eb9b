//! Human and `--json` output: tables (comfy-table), JSON on stdout, diagnostics on stderr in
//! the compiler-like form the config crate renders.

use std::path::Path;

use clawgate_config::Diagnostic;
use comfy_table::{ContentArrangement, Table, presets};
use serde::Serialize;

/// Prints a value as pretty JSON on stdout.
pub fn print_json<T: Serialize>(value: &T) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

/// A plain table: header row, no borders (easy to read and to grep).
pub fn table(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_style(presets::NOTHING)
        .set_content_arrangement(ContentArrangement::Disabled)
        .set_header(header.iter().copied());
    t
}

/// Prints a table without the padding comfy-table leaves at line ends.
pub fn print_table(t: &Table) {
    for line in t.lines() {
        println!("{}", line.trim_end());
    }
}

/// Prints diagnostics to stderr; file names relative to the config's directory.
pub fn print_diagnostics(diags: &[Diagnostic], config: Option<&Path>) {
    let base = config.and_then(Path::parent);
    for d in diags {
        eprintln!("{}", d.render(base));
    }
}

/// One note listing ignored OpenClaw sections/keys.
pub fn print_ignored(ignored: &[String]) {
    if !ignored.is_empty() {
        eprintln!(
            "note: ignored (OpenClaw settings clawgate does not implement): {}",
            ignored.join(", ")
        );
    }
}

/// `1234567` → `1.2M`, `200000` → `200K`.
pub fn tokens(n: u64) -> String {
    if n >= 1_000_000 {
        let m = n as f64 / 1_000_000.0;
        if (m - m.round()).abs() < 0.05 {
            format!("{}M", m.round())
        } else {
            format!("{m:.1}M")
        }
    } else if n >= 1_000 {
        format!("{}K", (n as f64 / 1_000.0).round())
    } else {
        n.to_string()
    }
}

/// `$3.00`, `-` for zero.
pub fn price(usd: f64) -> String {
    if usd == 0.0 {
        "-".into()
    } else if usd < 0.1 {
        format!("${usd:.3}")
    } else {
        format!("${usd:.2}")
    }
}
