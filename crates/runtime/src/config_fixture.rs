//! Test support: a config text loaded the way the services load one, from a temp dir with its
//! own state dir and home (`<dir>/state`, `<dir>/home`) and no environment, so the mapping
//! tests of this crate start from a real `LoadedConfig`.

use clawgate_config::{EnvVars, LoadOptions, LoadedConfig};

/// Loads `text` as `<dir>/clawgate.json5`; the temp dir lives as long as the returned handle.
pub(crate) fn load_config_text(text: &str) -> (tempfile::TempDir, LoadedConfig) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("clawgate.json5");
    std::fs::write(&path, text).unwrap();
    let opts = LoadOptions {
        config_path: Some(path),
        state_dir: Some(dir.path().join("state")),
        home: Some(dir.path().join("home")),
        cwd: dir.path().to_path_buf(),
        env: EnvVars::from_pairs(Vec::<(String, String)>::new()),
    };
    let loaded = clawgate_config::load(&opts).unwrap();
    (dir, loaded)
}
