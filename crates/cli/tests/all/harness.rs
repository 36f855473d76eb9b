//! Runs the binary in a sandbox: HOME, state dir and working dir all inside one temp dir.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub struct Cli {
    pub dir: tempfile::TempDir,
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("{e}: {}", self.stdout))
    }
}

impl Cli {
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

    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.path(rel)).unwrap()
    }

    /// Runs `clawgate ARGS` with a clean environment pointing into the sandbox.
    pub fn run(&self, args: &[&str]) -> Run {
        self.run_env(args, &[])
    }

    pub fn run_env(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let out: Output = Command::new(env!("CARGO_BIN_EXE_clawgate"))
            .args(args)
            .env_clear()
            .env("HOME", self.path("home"))
            .env("CLAWGATE_STATE_DIR", self.path("state"))
            .envs(env.iter().copied())
            .current_dir(self.path("cwd"))
            .output()
            .unwrap();
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Every file under the sandbox with its content (to prove what a command wrote).
    pub fn snapshot(&self) -> BTreeMap<PathBuf, Vec<u8>> {
        fn walk(dir: &Path, base: &Path, out: &mut BTreeMap<PathBuf, Vec<u8>>) {
            for e in std::fs::read_dir(dir).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    walk(&p, base, out);
                } else {
                    out.insert(
                        p.strip_prefix(base).unwrap().to_path_buf(),
                        std::fs::read(&p).unwrap(),
                    );
                }
            }
        }
        let mut out = BTreeMap::new();
        walk(self.dir.path(), self.dir.path(), &mut out);
        out
    }

    /// Files added or changed since `before`, as sandbox-relative paths.
    pub fn changed_since(&self, before: &BTreeMap<PathBuf, Vec<u8>>) -> Vec<String> {
        let after = self.snapshot();
        let mut changed: Vec<String> = after
            .iter()
            .filter(|(p, c)| before.get(*p) != Some(*c))
            .map(|(p, _)| p.display().to_string())
            .collect();
        changed.extend(
            before
                .keys()
                .filter(|p| !after.contains_key(*p))
                .map(|p| format!("deleted {}", p.display())),
        );
        changed
    }
}

/// A config in the shape of OpenClaw's local-model guide, with comments to keep.
pub const GUIDE_CONFIG: &str = r#"{
  // LM Studio first, hosted fallback
  models: {
    mode: "merge",
    providers: {
      lmstudio: {
        baseUrl: "http://127.0.0.1:1234/v1",
        apiKey: "sk-lmstudio-secret-0123456789",
        api: "openai-responses",
        models: [{ id: "minimax-m2.1-gs32", name: "MiniMax M2.1", contextWindow: 196608, maxTokens: 8192 }],
      },
    },
  },
  agents: {
    defaults: {
      /* primary + one fallback */
      model: { primary: "lmstudio/minimax-m2.1-gs32", fallbacks: ["anthropic/claude-opus-4-6"] },
      models: { "anthropic/claude-opus-4-6": { alias: "Opus" } },
    },
  },
  channels: { whatsapp: { enabled: true } }, // ignored by clawgate
}
"#;
