//! `Services`: everything one loaded config turns into, built once and shared. From the config
//! and its model registry: one provider per registry provider (the providers crate's builder,
//! on one shared HTTP client) → a `ProviderSet` (key count, local flag, own timeouts) → the
//! `CooldownStore` on the state dir (with the `auth.cooldowns` schedule) → the `Router`; the
//! precomputed model route table; the gateway's auth token; and the agent runtimes, built on
//! first use. A gateway token naming an unset variable does not fail the build: only the
//! server needs the token, so `Services::auth_token` reports it and the server refuses to
//! start (commands such as `models status` and `agent` work on such a config). Free of HTTP server
//! types, so the CLI builds the same thing for `clawgate agent`, `models status` and `models test`.
//! A config reload builds a new `Services` and swaps it in whole.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use clawgate_agent::AgentRuntime;
use clawgate_config::schema::{GatewayAuthMode, SecretInput};
use clawgate_config::{
    ClawgateConfig, LoadOptions, LoadedConfig, ProviderEntry, Registry, ResolvedModel, Unresolved,
};
use clawgate_providers::from_config::{spec_for_model, spec_from_config};
use clawgate_providers::{
    EngineFactory, HttpClient, Provider, ProviderSpec, build_provider_with_engine,
};
use clawgate_router::{
    CancellationToken, CandidateChain, Clock, CooldownSchedule, CooldownStore, ProviderSet,
    ProviderTarget, Router, RouterConfig, SystemClock, Timeouts,
};

use crate::agent_settings::{RegistryDirectory, agent_ids, agent_settings, default_agent};
use crate::cooldown_schedule::cooldown_schedule;
use crate::embedded_engine::engine_factory;
use crate::error::RuntimeError;
use crate::model_client::RouterModelClient;
use crate::provider_timeouts::provider_timeouts;
use crate::reasoning_stream::immediate_reasoning_models;
use crate::routes::{FallbackMode, ModelRoute, ModelRoutes};
use crate::shared_state::{SharedState, StateHealth};

/// Builds a provider the providers crate cannot (the in-process engine for `llama-cpp`, or a
/// fake in tests). Return `None` to fall through to the standard builder.
pub type ProviderHook = Arc<
    dyn Fn(&ProviderSpec, &ProviderEntry) -> Option<Result<Arc<dyn Provider>, String>>
        + Send
        + Sync,
>;

/// How to assemble services beyond what the config says.
#[derive(Clone)]
pub struct ServicesOptions {
    /// Wall clock for cooldown bookkeeping.
    pub clock: Arc<dyn Clock>,
    /// Reuse this upstream client (a reload keeps the connection pool).
    pub http_client: Option<HttpClient>,
    /// Reuse this cooldown store (a reload keeps the in-memory state); it gets the config's
    /// `auth.cooldowns` schedule.
    pub cooldowns: Option<Arc<CooldownStore>>,
    pub provider_hook: Option<ProviderHook>,
    /// Reuse this shared state store when the config still names it (a reload keeps the pool).
    pub shared_state: Option<SharedState>,
    /// Builds `api: "llama-cpp"` providers: by default the in-process engine when this crate
    /// is compiled with the `embedded` feature ([`engine_factory`]). `None`: those providers
    /// are recorded as problems with the providers crate's "needs the embedded engine" message.
    pub engine: Option<Arc<EngineFactory>>,
    pub router_config: RouterConfig,
}

impl Default for ServicesOptions {
    fn default() -> Self {
        Self {
            clock: Arc::new(SystemClock),
            http_client: None,
            cooldowns: None,
            provider_hook: None,
            shared_state: None,
            engine: engine_factory(false),
            router_config: RouterConfig::default(),
        }
    }
}

impl ServicesOptions {
    /// These options with `current`'s clock, HTTP client (connection pool) and cooldown store:
    /// what a config reload builds with.
    pub fn reusing(mut self, current: &Services) -> Self {
        self.clock = current.router.clock().clone();
        self.http_client = Some(current.http_client.clone());
        self.cooldowns = Some(current.router.cooldowns().clone());
        self.engine = current.engine.clone();
        self.shared_state = current.shared_state.clone();
        self
    }
}

impl std::fmt::Debug for ServicesOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServicesOptions")
            .field("router_config", &self.router_config)
            .finish_non_exhaustive()
    }
}

/// A registry provider for which no provider object exists, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderProblem {
    pub provider: String,
    pub configured: bool,
    pub message: String,
}

/// See the module docs.
pub struct Services {
    loaded: Arc<LoadedConfig>,
    router: Arc<Router>,
    routes: Arc<ModelRoutes>,
    http_client: HttpClient,
    problems: Vec<ProviderProblem>,
    auth_token: Result<Option<Arc<[u8]>>, UnsetSecret>,
    /// The token in `<state>/gateway-token` when the config names none (see
    /// [`Services::generated_token`]); read or made on first use, which the gateway makes at
    /// start and reload, never on the request path.
    generated_token: std::sync::OnceLock<Result<Arc<[u8]>, String>>,
    cooldown_schedule: CooldownSchedule,
    /// Kept so a reload (`ServicesOptions::reusing`) can build `llama-cpp` providers again.
    engine: Option<Arc<EngineFactory>>,
    provider_hook: Option<ProviderHook>,
    /// `state.backend: "postgres"`: sessions and cooldowns on the shared database.
    shared_state: Option<SharedState>,
    agent_ids: Vec<String>,
    default_agent: String,
    agents: Mutex<HashMap<String, Arc<AgentRuntime>>>,
    /// Cancels agents' model calls when these services are shut down.
    cancel: CancellationToken,
    /// When these services were assembled from the config.
    built_at: SystemTime,
}

impl std::fmt::Debug for Services {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Services")
            .field("config", &self.loaded.location.path)
            .field("primary", &self.routes.primary())
            .field("providers", &self.router.providers().len())
            .field("problems", &self.problems)
            .finish_non_exhaustive()
    }
}

fn build_providers(
    registry: &Registry,
    client: &HttpClient,
    hook: Option<&ProviderHook>,
    engine: Option<&EngineFactory>,
) -> (ProviderSet, Vec<ProviderProblem>) {
    let mut set = ProviderSet::new();
    let mut problems = Vec::new();
    for entry in registry.providers() {
        let problem = |message: String| ProviderProblem {
            provider: entry.id.clone(),
            configured: entry.configured,
            message,
        };
        let spec = match spec_from_config(entry, registry.models_of(&entry.id)) {
            Ok(spec) => spec,
            Err(error) => {
                problems.push(problem(error.to_string()));
                continue;
            }
        };
        warn_unused_params(&spec);
        let built = match hook.and_then(|hook| hook(&spec, entry)) {
            Some(result) => result,
            None => build_provider_with_engine(&spec, client, engine).map_err(|e| e.to_string()),
        };
        match built {
            Ok(provider) => {
                let mut target = ProviderTarget::new(provider)
                    .with_keys(entry.api_keys.len())
                    .local(entry.is_local);
                if let Some(timeouts) = provider_timeouts(entry) {
                    target = target.with_timeouts(timeouts);
                }
                set.insert(target);
            }
            Err(message) => problems.push(problem(message)),
        }
    }
    (set, problems)
}

/// `params` keys a provider's dialect does not use are listed once at start (they have no
/// effect; see `clawgate_providers::request_params`).
fn warn_unused_params(spec: &clawgate_providers::ProviderSpec) {
    use clawgate_providers::request_params::unused_keys;
    for model in &spec.models {
        let unused = unused_keys(spec, spec.api, &model.params);
        if !unused.is_empty() {
            tracing::warn!(
                provider = %spec.id,
                model = %model.id,
                "params not used by api {}: {} (ignored)",
                spec.api,
                unused.join(", ")
            );
        }
    }
}

/// A gateway secret that names an env variable which is not set.
#[derive(Debug, Clone)]
struct UnsetSecret {
    key: &'static str,
    var: String,
}

fn resolve_secret(
    key: &'static str,
    secret: Option<&SecretInput>,
    loaded: &LoadedConfig,
) -> Result<Option<String>, UnsetSecret> {
    let Some(secret) = secret else {
        return Ok(None);
    };
    match loaded.secrets.resolve(secret) {
        Ok(value) => Ok(Some(value).filter(|v| !v.is_empty())),
        Err(Unresolved::EnvVar(var) | Unresolved::Ref(var)) => Err(UnsetSecret { key, var }),
    }
}

/// The secret clients must present: `gateway.auth.token` (or `.password` in password mode),
/// else `CLAWGATE_GATEWAY_TOKEN` / `OPENCLAW_GATEWAY_TOKEN` (`…_PASSWORD`). Mode `none` has none.
/// In trusted-proxy mode it is what direct clients (not behind the proxy) present: the token,
/// else the password (OpenClaw's local password fallback).
fn gateway_token(loaded: &LoadedConfig) -> Result<Option<String>, UnsetSecret> {
    const TOKEN_VARS: &[&str] = &["CLAWGATE_GATEWAY_TOKEN", "OPENCLAW_GATEWAY_TOKEN"];
    const PASSWORD_VARS: &[&str] = &["CLAWGATE_GATEWAY_PASSWORD", "OPENCLAW_GATEWAY_PASSWORD"];
    let auth = &loaded.config.gateway.auth;
    // (config key, its value) in order, then the env variables to fall back on.
    type Secrets<'a> = &'a [(&'static str, Option<&'a SecretInput>)];
    let (secrets, vars): (Secrets<'_>, &[&[&str]]) = match auth.mode {
        GatewayAuthMode::None => return Ok(None),
        GatewayAuthMode::Password => (
            &[("gateway.auth.password", auth.password.as_ref())],
            &[PASSWORD_VARS],
        ),
        GatewayAuthMode::Token => (
            &[("gateway.auth.token", auth.token.as_ref())],
            &[TOKEN_VARS],
        ),
        GatewayAuthMode::TrustedProxy => (
            &[
                ("gateway.auth.token", auth.token.as_ref()),
                ("gateway.auth.password", auth.password.as_ref()),
            ],
            &[TOKEN_VARS, PASSWORD_VARS],
        ),
    };
    for (key, secret) in secrets {
        if let Some(token) = resolve_secret(key, *secret, loaded)? {
            return Ok(Some(token));
        }
    }
    Ok(vars
        .iter()
        .flat_map(|names| names.iter())
        .find_map(|name| loaded.env.non_empty(name))
        .map(str::to_string))
}

/// The token that opens the Control UI and tool agents on the gateway of `loaded`, as
/// [`Services::privileged_token`] resolves it, without building services (`clawgate
/// dashboard`): the configured one, else the gateway's own from the state dir (made now when
/// the gateway has not started yet, so both agree); `None` only with `mode: "none"`.
pub fn privileged_gateway_token(loaded: &LoadedConfig) -> Result<Option<String>, RuntimeError> {
    let configured = gateway_token(loaded).map_err(|unset| RuntimeError::MissingToken {
        key: unset.key,
        var: unset.var,
    })?;
    if configured.is_some() || loaded.config.gateway.auth.mode == GatewayAuthMode::None {
        return Ok(configured);
    }
    crate::gateway_token::load_or_create(&loaded.location.state_dir)
        .map(Some)
        .map_err(RuntimeError::GatewayToken)
}

impl Services {
    /// Loads the config (lookup order of `clawgate_config::load`) and builds services on it.
    pub fn load(opts: &LoadOptions, options: ServicesOptions) -> Result<Self, RuntimeError> {
        let loaded = clawgate_config::load(opts)?;
        Self::build(loaded, options)
    }

    /// Builds services from a loaded config. Providers that cannot be built are recorded in
    /// [`Services::provider_problems`] (a call to them fails over); a default chain that does
    /// not resolve is an error. A gateway token naming an unset variable is not (see
    /// [`Services::auth_token`]).
    pub fn build(loaded: LoadedConfig, options: ServicesOptions) -> Result<Self, RuntimeError> {
        let http_client = match options.http_client {
            Some(client) => client,
            None => HttpClient::new().map_err(|e| RuntimeError::HttpClient(e.to_string()))?,
        };
        let auth_token = gateway_token(&loaded).map(|t| t.map(|t| Arc::from(t.into_bytes())));
        let registry = Arc::new(loaded.registry.clone());
        let routes = Arc::new(ModelRoutes::build(
            registry.clone(),
            &default_agent(&loaded.config),
        )?);
        let (providers, problems) = build_providers(
            &registry,
            &http_client,
            options.provider_hook.as_ref(),
            options.engine.as_deref(),
        );
        for problem in problems.iter().filter(|p| p.configured) {
            tracing::warn!(provider = %problem.provider, "provider unavailable: {}", problem.message);
        }
        let schedule = cooldown_schedule(&loaded.config.auth.cooldowns);
        let shared_state =
            SharedState::from_config(&loaded.config.state, options.shared_state.as_ref())?;
        let cooldowns = match (options.cooldowns, &shared_state) {
            (Some(store), _) => {
                store.set_schedule(schedule.clone());
                store
            }
            (None, Some(shared)) => shared.cooldown_store(schedule.clone()),
            (None, None) => Arc::new(CooldownStore::open(
                loaded.location.state_dir.clone(),
                schedule.clone(),
            )),
        };
        if let Some(warning) = cooldowns.load_warning() {
            tracing::warn!("cooldown store: {warning}");
        }
        let mut router_config = options.router_config;
        router_config
            .immediate_reasoning
            .extend(immediate_reasoning_models(&loaded.config, &registry));
        let router = Arc::new(Router::new(
            providers,
            cooldowns,
            router_config,
            options.clock,
        ));
        Ok(Self {
            agent_ids: agent_ids(&loaded.config),
            default_agent: default_agent(&loaded.config),
            loaded: Arc::new(loaded),
            router,
            routes,
            http_client,
            problems,
            auth_token,
            generated_token: std::sync::OnceLock::new(),
            cooldown_schedule: schedule,
            engine: options.engine,
            provider_hook: options.provider_hook,
            shared_state,
            agents: Mutex::new(HashMap::new()),
            cancel: CancellationToken::new(),
            built_at: SystemTime::now(),
        })
    }

    /// When these services were assembled from the config (the gateway's start or last
    /// reload).
    pub fn built_at(&self) -> SystemTime {
        self.built_at
    }

    pub fn loaded(&self) -> &LoadedConfig {
        &self.loaded
    }

    /// Services on `loaded` (this config with a changed registry: discovered rows) that keep
    /// these services' HTTP client, cooldown store, engine, provider hook and router settings.
    pub fn rebuild(&self, loaded: LoadedConfig) -> Result<Services, RuntimeError> {
        let options = ServicesOptions {
            provider_hook: self.provider_hook.clone(),
            router_config: self.router.config().clone(),
            ..ServicesOptions::default()
        }
        .reusing(self);
        Services::build(loaded, options)
    }

    pub fn config(&self) -> &ClawgateConfig {
        &self.loaded.config
    }

    pub fn registry(&self) -> &Registry {
        &self.loaded.registry
    }

    pub fn router(&self) -> &Arc<Router> {
        &self.router
    }

    pub fn routes(&self) -> &Arc<ModelRoutes> {
        &self.routes
    }

    pub fn http_client(&self) -> &HttpClient {
        &self.http_client
    }

    pub fn cooldowns(&self) -> &Arc<CooldownStore> {
        self.router.cooldowns()
    }

    /// The provider that serves `resolved`: the router's own for a row of its provider's api;
    /// for a row that names another api (`models[].api`), one built the same way for that row
    /// alone. `Err` says why none can be built (the provider's recorded problem).
    pub fn provider_for(&self, resolved: &ResolvedModel) -> Result<Arc<dyn Provider>, String> {
        let id = &resolved.provider.id;
        if resolved.model.api == resolved.provider.api {
            if let Some(target) = self.router.providers().get(id) {
                return Ok(target.provider.clone());
            }
            return Err(self
                .problems
                .iter()
                .find(|p| &p.provider == id)
                .map_or_else(
                    || format!("provider {id} is not in the registry"),
                    |p| p.message.clone(),
                ));
        }
        let spec =
            spec_for_model(&resolved.provider, &resolved.model).map_err(|e| e.to_string())?;
        match self
            .provider_hook
            .as_ref()
            .and_then(|hook| hook(&spec, &resolved.provider))
        {
            Some(result) => result,
            None => build_provider_with_engine(&spec, &self.http_client, self.engine.as_deref())
                .map_err(|e| e.to_string()),
        }
    }

    /// The timeouts one attempt on `provider` runs under: its own (`timeoutSeconds`,
    /// `timeouts.*Ms`), else the router's local or hosted defaults.
    pub fn timeouts_for(&self, provider: &str) -> Timeouts {
        let config = self.router.config();
        match self.router.providers().get(provider) {
            Some(target) => target.effective_timeouts(config),
            None => config.hosted_timeouts,
        }
    }

    /// Registry providers without a provider object, and why.
    pub fn provider_problems(&self) -> &[ProviderProblem] {
        &self.problems
    }

    /// The bytes of the gateway token clients must present; `None` = no auth configured. An
    /// error when the configured token names an unset variable: the server does not start (or
    /// reload) with these services.
    pub fn auth_token(&self) -> Result<Option<&[u8]>, RuntimeError> {
        match &self.auth_token {
            Ok(token) => Ok(token.as_deref()),
            Err(unset) => Err(RuntimeError::MissingToken {
                key: unset.key,
                var: unset.var.clone(),
            }),
        }
    }

    /// True when the config names no gateway secret and its auth mode is not `none`: the
    /// gateway then serves with its own token (`<state>/gateway-token`), which guards what can
    /// change this machine or show its state (agents with `exec`/`write`/`edit`, the Control
    /// UI's API) while plain model calls stay token-less on loopback.
    pub fn uses_generated_token(&self) -> bool {
        matches!(self.auth_token, Ok(None))
            && self.loaded.config.gateway.auth.mode != GatewayAuthMode::None
    }

    /// The gateway's own token (`None` when the config names one, or says `mode: "none"`).
    /// Reads or makes `<state>/gateway-token` on the first call.
    pub fn generated_token(&self) -> Result<Option<&[u8]>, RuntimeError> {
        if !self.uses_generated_token() {
            return Ok(None);
        }
        let token = self.generated_token.get_or_init(|| {
            crate::gateway_token::load_or_create(&self.loaded.location.state_dir)
                .map(|t| Arc::from(t.into_bytes()))
        });
        match token {
            Ok(token) => Ok(Some(token)),
            Err(message) => Err(RuntimeError::GatewayToken(message.clone())),
        }
    }

    /// The token that guards agents able to change this machine and the Control UI's API: the
    /// configured one, else the gateway's own; `None` only with `gateway.auth.mode: "none"`.
    pub fn privileged_token(&self) -> Result<Option<&[u8]>, RuntimeError> {
        match self.auth_token()? {
            Some(token) => Ok(Some(token)),
            None => self.generated_token(),
        }
    }

    /// The cooldown schedule these services' config asks for (`auth.cooldowns`).
    pub fn cooldown_schedule(&self) -> &CooldownSchedule {
        &self.cooldown_schedule
    }

    /// The route (requested candidate, chains, cost) for a model ref or alias.
    pub fn resolve_model(&self, model: &str) -> Result<Arc<ModelRoute>, RuntimeError> {
        Ok(self.routes.resolve(model)?)
    }

    /// [`Services::resolve_model`] for a routed request: held to the default agent's model
    /// allowlist (OpenClaw's "Model '…' is not allowed for agent '…'.").
    pub fn resolve_request_model(&self, model: &str) -> Result<Arc<ModelRoute>, RuntimeError> {
        Ok(self.routes.resolve_allowed(model)?)
    }

    /// Whether agent `agent` may use `model` (a ref or alias); the error names why not
    /// (unknown model, unknown profile, or outside the agent's allowlist).
    pub fn check_agent_model(&self, agent: &str, model: &str) -> Result<(), RuntimeError> {
        let route = self.routes.resolve(model)?;
        let reference = clawgate_config::ModelRef {
            provider: route.candidate.provider.clone(),
            model: route.candidate.model.clone(),
        };
        if self.registry().model_allowed(Some(agent), &reference) {
            return Ok(());
        }
        Err(RuntimeError::Config(
            clawgate_config::ConfigError::ModelNotAllowed {
                model: route.reference.to_string(),
                agent: agent.to_string(),
            },
        ))
    }

    /// The candidate chain for a model ref or alias.
    pub fn chain_for(
        &self,
        model: &str,
        mode: FallbackMode,
    ) -> Result<CandidateChain, RuntimeError> {
        Ok(self.resolve_model(model)?.chain(mode).clone())
    }

    /// Ready when the configured primary's provider was built.
    pub fn readiness(&self) -> Result<(), String> {
        let primary = self.routes.primary();
        if self.router.providers().get(&primary.provider).is_some() {
            return Ok(());
        }
        let why = self
            .problems
            .iter()
            .find(|p| p.provider == primary.provider)
            .map_or_else(
                || "provider not in the registry".to_string(),
                |p| p.message.clone(),
            );
        Err(format!("primary model {primary}: {why}"))
    }

    /// Where shared state lives and whether it can be reached (`/readyz`, `/metrics`).
    pub fn state_health(&self) -> StateHealth {
        self.shared_state
            .as_ref()
            .map_or(StateHealth::Files, SharedState::health)
    }

    /// The shared state store, when `state.backend` is `postgres`.
    pub fn shared_state(&self) -> Option<&SharedState> {
        self.shared_state.as_ref()
    }

    pub fn agent_ids(&self) -> &[String] {
        &self.agent_ids
    }

    pub fn default_agent(&self) -> &str {
        &self.default_agent
    }

    /// The model client agents use: the router with the configured fallbacks.
    pub fn model_client(&self) -> RouterModelClient {
        RouterModelClient::new(
            self.router.clone(),
            self.routes.clone(),
            self.cancel.clone(),
        )
    }

    /// The runtime of agent `id` (`None` = the default agent), built on first use.
    pub fn agent(&self, id: Option<&str>) -> Result<Arc<AgentRuntime>, RuntimeError> {
        let id = id.unwrap_or(&self.default_agent);
        let Some(id) = self.agent_ids.iter().find(|known| known.as_str() == id) else {
            return Err(RuntimeError::UnknownAgent {
                id: id.to_string(),
                known: self.agent_ids.join(", "),
            });
        };
        let mut agents = self.agents.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(runtime) = agents.get(id) {
            return Ok(runtime.clone());
        }
        let home = self.loaded.env.non_empty("HOME").map(PathBuf::from);
        let settings = agent_settings(
            &self.loaded.config,
            &self.loaded.registry,
            &self.loaded.location.state_dir,
            home.as_deref(),
            id,
        );
        let runtime = AgentRuntime::new(
            settings,
            Arc::new(self.model_client()),
            Arc::new(RegistryDirectory::for_agent(
                self.routes.registry().clone(),
                id,
            )),
        )
        .map_err(|source| RuntimeError::Agent {
            id: id.clone(),
            source,
        })?;
        let runtime = match &self.shared_state {
            Some(shared) => shared.with_sessions(runtime),
            None => runtime,
        };
        let runtime = Arc::new(runtime);
        agents.insert(id.clone(), runtime.clone());
        Ok(runtime)
    }

    /// Aborts agents' in-flight model calls (shutdown).
    pub fn cancel_all(&self) {
        self.cancel.cancel();
    }
}
