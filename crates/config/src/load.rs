//! Finding the config file and loading it: lookup order, `.env` layering, includes,
//! substitution, typed decoding and the registry, with every diagnostic collected.
//!
//! Lookup order: `--config PATH`, `$CLAWGATE_CONFIG`, `<state dir>/clawgate.json` (state dir:
//! `--state-dir`, `$CLAWGATE_STATE_DIR`, default `~/.clawgate`), then an existing OpenClaw
//! config, `$OPENCLAW_CONFIG_PATH` or `<OpenClaw state dir>/openclaw.json` (OpenClaw's state
//! dir: `$OPENCLAW_STATE_DIR`, default `~/.openclaw`; read as-is, never written). No file at
//! all is valid: defaults.
//!
//! Whatever file is in effect, an OpenClaw install is read as it is (never written): its
//! `.env` joins the environment (after `./.env` and clawgate's own, before the config's `env`
//! block), and its auth-profile store gives hosted providers their keys (`crate::auth_store`).
//! Secret refs to files and commands are resolved here too, once: nothing of this happens on a
//! request path.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::auth_store::{MAIN_AGENT_ID, OpenClawDirs, read_auth_store};
use crate::decode::Decoder;
use crate::diagnostic::{Diagnostic, JsonPath};
use crate::env::{EnvOrigin, EnvVars, read_dotenv, substitute_tree};
use crate::error::ConfigError;
use crate::exec_approvals::load_exec_approvals;
use crate::include::expand_includes;
use crate::provider_keys::KeyMaterial;
use crate::registry::Registry;
use crate::schema::ClawgateConfig;
use crate::secret_file::expand_home;
use crate::secret_values::{Secrets, resolve_secrets};
use crate::source::{Node, NodeKind, Pos, parse_file};

pub const CONFIG_FILE_NAME: &str = "clawgate.json";
pub const STATE_DIR_NAME: &str = ".clawgate";

/// Everything the loader looks at, passed in so tests never touch the real environment.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// `--config PATH`.
    pub config_path: Option<PathBuf>,
    /// `--state-dir PATH`.
    pub state_dir: Option<PathBuf>,
    pub home: Option<PathBuf>,
    /// Where `./.env` is looked for.
    pub cwd: PathBuf,
    /// The process environment (snapshot).
    pub env: EnvVars,
}

impl LoadOptions {
    /// Options from the real process: environment, `$HOME`, working directory.
    pub fn from_process(config_path: Option<PathBuf>, state_dir: Option<PathBuf>) -> Self {
        let env = EnvVars::from_process();
        let home = env
            .non_empty("HOME")
            .map(PathBuf::from)
            .or_else(dirs::home_dir);
        Self {
            config_path,
            state_dir,
            home,
            cwd: std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")),
            env,
        }
    }
}

/// How the config file was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ConfigSource {
    /// `--config`.
    Flag,
    /// `$CLAWGATE_CONFIG`.
    EnvVar,
    /// `<state dir>/clawgate.json`.
    StateDir,
    /// `~/.openclaw/openclaw.json` (read-only for clawgate).
    OpenClaw,
    /// No file: built-in defaults.
    Defaults,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConfigLocation {
    /// The file in effect (`None` = defaults).
    pub path: Option<PathBuf>,
    pub source: ConfigSource,
    pub state_dir: PathBuf,
    /// Where writing commands write: the file in effect, or `<state dir>/clawgate.json` when
    /// there is none. `None` when the file in effect must not be written (OpenClaw's).
    pub write_path: Option<PathBuf>,
}

impl ConfigLocation {
    pub fn is_read_only(&self) -> bool {
        self.source == ConfigSource::OpenClaw
    }
}

/// OpenClaw's directories as OpenClaw itself finds them: `$OPENCLAW_STATE_DIR` (default
/// `~/.openclaw`) and `$OPENCLAW_AGENT_DIR` (default `<state>/agents/main/agent`), `~/`
/// expanded.
pub fn openclaw_dirs(opts: &LoadOptions) -> OpenClawDirs {
    let home = opts.home.clone().unwrap_or_else(|| PathBuf::from("."));
    let from_env = |name| {
        opts.env
            .non_empty(name)
            .map(|v| expand_home(Path::new(v.trim()), Some(&home)))
    };
    let state_dir = from_env("OPENCLAW_STATE_DIR").unwrap_or_else(|| home.join(".openclaw"));
    let main_agent_dir = from_env("OPENCLAW_AGENT_DIR")
        .unwrap_or_else(|| state_dir.join("agents").join(MAIN_AGENT_ID).join("agent"));
    OpenClawDirs {
        state_dir,
        main_agent_dir,
    }
}

/// Applies the lookup order (no file is read).
pub fn locate(opts: &LoadOptions) -> ConfigLocation {
    let home = opts.home.clone().unwrap_or_else(|| PathBuf::from("."));
    let state_dir = opts
        .state_dir
        .clone()
        .or_else(|| opts.env.non_empty("CLAWGATE_STATE_DIR").map(PathBuf::from))
        .unwrap_or_else(|| home.join(STATE_DIR_NAME));
    let default_file = state_dir.join(CONFIG_FILE_NAME);
    let explicit = |path: PathBuf, source| ConfigLocation {
        write_path: Some(path.clone()),
        path: Some(path),
        source,
        state_dir: state_dir.clone(),
    };
    if let Some(p) = &opts.config_path {
        return explicit(p.clone(), ConfigSource::Flag);
    }
    if let Some(p) = opts.env.non_empty("CLAWGATE_CONFIG") {
        return explicit(PathBuf::from(p), ConfigSource::EnvVar);
    }
    if default_file.is_file() {
        return explicit(default_file, ConfigSource::StateDir);
    }
    let openclaw = match opts.env.non_empty("OPENCLAW_CONFIG_PATH") {
        Some(p) => expand_home(Path::new(p.trim()), Some(&home)),
        None => openclaw_dirs(opts).state_dir.join("openclaw.json"),
    };
    if openclaw.is_file() {
        return ConfigLocation {
            path: Some(openclaw),
            source: ConfigSource::OpenClaw,
            state_dir,
            write_path: None,
        };
    }
    ConfigLocation {
        path: None,
        source: ConfigSource::Defaults,
        state_dir,
        write_path: Some(default_file),
    }
}

/// A loaded, valid config.
#[derive(Clone)]
pub struct LoadedConfig {
    pub location: ConfigLocation,
    pub config: ClawgateConfig,
    /// The merged tree after includes and substitution (for `config show`).
    pub tree: Node,
    /// Process env + `.env` files + the config's `env` block.
    pub env: EnvVars,
    pub registry: Registry,
    /// The environment and the values of the config's secret refs (resolved once, at load).
    pub secrets: Secrets,
    /// OpenClaw's directories (its `.env` and auth-profile store are read from there).
    pub openclaw: OpenClawDirs,
    /// Warnings (errors make `load` fail).
    pub warnings: Vec<Diagnostic>,
    /// Known OpenClaw sections/keys that clawgate ignores, as JSON paths.
    pub ignored: Vec<String>,
}

/// Leaves out the raw tree and the environment (both may hold secrets).
impl std::fmt::Debug for LoadedConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedConfig")
            .field("location", &self.location)
            .field("config", &self.config)
            .field("registry", &self.registry)
            .field("warnings", &self.warnings)
            .field("ignored", &self.ignored)
            .finish_non_exhaustive()
    }
}

/// Locates and loads the config. Explicitly named files must exist.
pub fn load(opts: &LoadOptions) -> Result<LoadedConfig, ConfigError> {
    let location = locate(opts);
    if let Some(path) = &location.path
        && !path.is_file()
    {
        return Err(ConfigError::NotFound(path.clone()));
    }
    load_at(opts, location)
}

/// Loads the file `location` names (or defaults when it names none).
pub fn load_at(opts: &LoadOptions, location: ConfigLocation) -> Result<LoadedConfig, ConfigError> {
    let mut diags: Vec<Diagnostic> = Vec::new();
    let mut env = opts.env.clone();
    let openclaw = openclaw_dirs(opts);
    let mut dotenvs = vec![
        (opts.cwd.join(".env"), EnvOrigin::DotEnvCwd),
        (location.state_dir.join(".env"), EnvOrigin::DotEnvStateDir),
    ];
    let openclaw_dotenv = openclaw.state_dir.join(".env");
    if !dotenvs.iter().any(|(f, _)| *f == openclaw_dotenv) {
        dotenvs.push((openclaw_dotenv, EnvOrigin::DotEnvOpenClaw));
    }
    for (file, origin) in dotenvs {
        match read_dotenv(&file) {
            Ok(pairs) => env.add_missing(origin, pairs),
            Err(d) => diags.push(*d),
        }
    }
    let fail = |diags: Vec<Diagnostic>, ignored: Vec<String>| ConfigError::Invalid {
        path: location.path.clone(),
        diagnostics: diags,
        ignored,
    };
    let mut tree = match &location.path {
        Some(path) => match parse_file(path) {
            Ok(node) => expand_includes(node, path, &mut diags),
            Err(d) => {
                diags.push(*d);
                return Err(fail(diags, Vec::new()));
            }
        },
        None => Node {
            kind: NodeKind::Object(Vec::new()),
            pos: Pos {
                file: Path::new("<defaults>").into(),
                line: 1,
                col: 1,
            },
        },
    };
    apply_env_block(&tree, &mut env);
    substitute_tree(&mut tree, &JsonPath::root(), &env, &mut diags);
    let mut cx = Decoder::default();
    let mut config = ClawgateConfig::decode_root(&tree, &mut cx);
    diags.append(&mut cx.diags);
    // Its ignored keys are not the config's: only its diagnostics are kept.
    let mut approvals_cx = Decoder::default();
    config.exec_approvals = load_exec_approvals(&location.state_dir, &mut approvals_cx);
    diags.append(&mut approvals_cx.diags);
    let decode_failed = diags.iter().any(Diagnostic::is_error);
    let mut ignored = cx.ignored;
    ignored.dedup();
    // A config that does not decode runs no secret command.
    let secrets = if decode_failed {
        Secrets::from_env(env.clone())
    } else {
        resolve_secrets(
            &config.secrets,
            &cx.secret_refs,
            &env,
            opts.home.as_deref(),
            &mut diags,
        )
    };
    let (profiles, problems) = read_auth_store(&openclaw, &store_agent(&config), &env);
    diags.extend(problems.into_iter().map(|p| {
        Diagnostic::warning(format!("OpenClaw's auth-profile store: {p}"))
            .with_hint("its profiles are left out; the config and the environment still give keys")
    }));
    let material = KeyMaterial {
        secrets: secrets.clone(),
        profiles,
        now_ms: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64),
    };
    let (registry, mut reg_diags) =
        Registry::build_in(&config, &material, Some(&location.state_dir))?;
    diags.append(&mut reg_diags);
    if diags.iter().any(Diagnostic::is_error) {
        return Err(fail(diags, ignored));
    }
    Ok(LoadedConfig {
        location,
        config,
        tree,
        env,
        registry,
        secrets,
        openclaw,
        warnings: diags,
        ignored,
    })
}

/// The OpenClaw agent whose profile store gives the keys: the config's default agent (the one
/// marked `default`, else the first listed), else OpenClaw's `main`.
fn store_agent(config: &ClawgateConfig) -> String {
    let list = &config.agents.list;
    list.iter()
        .find(|a| a.default)
        .or(list.first())
        .map_or_else(|| MAIN_AGENT_ID.to_string(), |a| a.id.clone())
}

/// Adds the config's `env` block to `env` (after substituting it against what is set so far).
fn apply_env_block(tree: &Node, env: &mut EnvVars) {
    let Some(block) = tree.get("env") else {
        return;
    };
    // Substitute a copy: the main pass substitutes the tree itself (once, so `$${X}` stays
    // literal). Missing variables are reported by that pass.
    let mut block = block.clone();
    substitute_tree(
        &mut block,
        &JsonPath::root().key("env"),
        env,
        &mut Vec::new(),
    );
    let mut pairs = Vec::new();
    if let NodeKind::Object(entries) = &block.kind {
        for e in entries {
            match (&e.key[..], &e.value.kind) {
                ("vars", NodeKind::Object(vars)) => {
                    for v in vars {
                        if let NodeKind::String(s) = &v.value.kind {
                            pairs.push((v.key.clone(), s.clone()));
                        }
                    }
                }
                ("shellEnv", _) => {}
                (key, NodeKind::String(s)) => pairs.push((key.to_string(), s.clone())),
                _ => {}
            }
        }
    }
    env.add_missing(EnvOrigin::ConfigEnv, pairs);
}
