//! Shared test setup: a temp home/state dir and a pure environment (no process env).

use std::path::{Path, PathBuf};

use clawgate_config::{
    ConfigError, ConfigLocation, ConfigSource, EnvVars, LoadOptions, LoadedConfig,
};

pub struct Sandbox {
    pub dir: tempfile::TempDir,
}

impl Sandbox {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        for sub in ["home", "state", "cwd"] {
            std::fs::create_dir_all(dir.path().join(sub)).unwrap();
        }
        Self { dir }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    pub fn write(&self, rel: &str, text: &str) -> PathBuf {
        let p = self.path(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, text).unwrap();
        p
    }

    /// Options with no `--config`, the sandbox's home/state/cwd and only `env` as process env.
    pub fn opts(&self, env: &[(&str, &str)]) -> LoadOptions {
        LoadOptions {
            config_path: None,
            state_dir: Some(self.path("state")),
            home: Some(self.path("home")),
            cwd: self.path("cwd"),
            env: EnvVars::from_pairs(env.iter().map(|(k, v)| (k.to_string(), v.to_string()))),
        }
    }

    pub fn load_file(
        &self,
        file: &Path,
        env: &[(&str, &str)],
    ) -> Result<LoadedConfig, ConfigError> {
        let mut opts = self.opts(env);
        opts.config_path = Some(file.to_path_buf());
        clawgate_config::load(&opts)
    }

    /// Loads config text written to `clawgate.json5` in the sandbox.
    pub fn load_text(&self, text: &str) -> Result<LoadedConfig, ConfigError> {
        let file = self.write("cfg/clawgate.json5", text);
        self.load_file(&file, &[])
    }
}

/// Loads `text` and expects success.
pub fn load_ok(text: &str) -> LoadedConfig {
    let sb = Sandbox::new();
    match sb.load_text(text) {
        Ok(l) => l,
        Err(e) => panic!("expected a valid config, got {e}: {:#?}", e.diagnostics()),
    }
}

/// Loads `text` and returns the error diagnostics rendered without file names.
pub fn load_errors(text: &str) -> Vec<String> {
    let sb = Sandbox::new();
    match sb.load_text(text) {
        Ok(_) => panic!("expected an invalid config"),
        Err(e) => e
            .diagnostics()
            .iter()
            .filter(|d| d.is_error())
            .map(|d| {
                let loc = d
                    .location
                    .as_ref()
                    .map(|l| format!("{}:{}", l.line, l.column))
                    .unwrap_or_default();
                format!("{} @{} {}", d.path, loc, d.message)
            })
            .collect(),
    }
}

pub fn location(path: &Path) -> ConfigLocation {
    ConfigLocation {
        path: Some(path.to_path_buf()),
        source: ConfigSource::Flag,
        state_dir: path.parent().unwrap().to_path_buf(),
        write_path: Some(path.to_path_buf()),
    }
}
