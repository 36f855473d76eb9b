//! The corpus of invalid configs: `tests/invalid/NN-name.json5`, each next to an
//! `NN-name.expected` listing every error (file:line:col, JSON path, message, hint), in order.
//! Run with `CLAWGATE_BLESS=1` to rewrite the `.expected` files after a deliberate change,
//! then review the diff.

use std::path::{Path, PathBuf};

use clawgate_config::load_at;

use super::harness::{Sandbox, location};

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("invalid")
}

fn render(file: &Path) -> String {
    let sb = Sandbox::new();
    let opts = sb.opts(&[]);
    let err = match load_at(&opts, location(file)) {
        Ok(_) => return "(valid)".to_string(),
        Err(e) => e,
    };
    let base = corpus_dir();
    let mut out = String::new();
    for d in err.diagnostics().iter().filter(|d| d.is_error()) {
        let loc = d.location.as_ref().map_or_else(
            || "-".to_string(),
            |l| {
                let f = l.file.strip_prefix(&base).unwrap_or(&l.file);
                format!("{}:{}:{}", f.display(), l.line, l.column)
            },
        );
        out.push_str(&format!("{loc}\t{}\t{}", d.path, d.message));
        if let Some(h) = &d.hint {
            out.push_str(&format!("\t{h}"));
        }
        out.push('\n');
    }
    if out.is_empty() {
        out = format!("(no diagnostics: {err})\n");
    }
    out
}

#[test]
fn every_invalid_config_reports_the_expected_errors() {
    let bless = std::env::var_os("CLAWGATE_BLESS").is_some();
    let mut files: Vec<PathBuf> = std::fs::read_dir(corpus_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json5"))
        .collect();
    files.sort();
    assert!(
        files.len() >= 30,
        "the corpus must hold at least 30 configs, has {}",
        files.len()
    );
    let mut failures = Vec::new();
    for file in &files {
        let actual = render(file);
        let expected_path = file.with_extension("expected");
        if bless {
            std::fs::write(&expected_path, &actual).unwrap();
            continue;
        }
        let expected = std::fs::read_to_string(&expected_path)
            .unwrap_or_else(|_| panic!("missing {}", expected_path.display()));
        assert_ne!(actual, "(valid)", "{} loaded without error", file.display());
        if actual != expected {
            failures.push(format!(
                "{}\n--- expected\n{expected}--- actual\n{actual}",
                file.file_name().unwrap().to_string_lossy()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
