//! Starting, reloading and stopping the server. The accept loop is hyper's HTTP/1 connection
//! builder rather than `axum::serve`, because `axum::serve` cannot cap the request head size or
//! time out a slow request head; each connection races against shutdown and then finishes its
//! in-flight response (graceful), and after a grace period the remaining streams are cancelled,
//! which ends them with their dialect's error event. Services live in an `ArcSwap`: a reload
//! builds new ones and swaps them in while open connections keep serving. Several event loops
//! (`GatewayOptions::lanes`, one thread and single-threaded runtime each) may accept on the
//! same socket; each keeps the connections it accepted (see `Gateway::start`).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use axum::extract::ConnectInfo;
use clawgate_config::LoadOptions;
use clawgate_config::schema::GatewayBind;
use clawgate_router::{CancellationToken, Clock, SystemClock};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio_util::task::TaskTracker;
use tower::ServiceExt;

use crate::accept_log::AcceptErrorLog;
use crate::auth::{AuthFailures, AuthLimits};
use crate::body_budget::BodyBudget;
use crate::browser_guard::normalize_origin;
use crate::discovered::spawn_discovery;
use crate::error::GatewayError;
use crate::http_api::app;
use crate::idle_release::{IdleHook, on_quiet, release_when_idle};
use crate::metrics::GatewayMetrics;
use crate::reload_guard::check_reload;
use crate::request_log::RequestLog;
use clawgate_runtime::Services;

/// Limits applied to every request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestLimits {
    pub max_body_bytes: usize,
    /// Request bodies held at once, across all requests (see `body_budget`); never less than
    /// `max_body_bytes`.
    pub body_budget_bytes: usize,
    /// How long a request waits for room in that budget before its 503.
    pub body_budget_wait: Duration,
    /// Largest request head (request line and headers), answered with 431 past it.
    pub max_header_bytes: usize,
    pub max_headers: usize,
    /// Time to read a request head.
    pub header_read_timeout: Duration,
    /// Time until the response starts (a whole non-streamed answer; a stream's commit).
    pub request_timeout: Duration,
    /// While the router holds a streamed answer back (reasoning, an unfinished tool call):
    /// after this long the response starts with keep-alives, one per interval, until it commits.
    pub keep_alive_interval: Duration,
    /// On shutdown, how long in-flight responses may take before their streams are cancelled.
    pub shutdown_grace: Duration,
    /// How long an exec approval asked in the Control UI waits for its answer before the
    /// command counts as declined.
    pub approval_timeout: Duration,
}

impl Default for RequestLimits {
    fn default() -> Self {
        Self {
            max_body_bytes: 20 * 1024 * 1024,
            body_budget_bytes: 64 * 1024 * 1024,
            body_budget_wait: Duration::from_secs(10),
            max_header_bytes: 64 * 1024,
            max_headers: 100,
            header_read_timeout: Duration::from_secs(30),
            request_timeout: Duration::from_secs(600),
            keep_alive_interval: Duration::from_secs(15),
            shutdown_grace: Duration::from_secs(30),
            approval_timeout: Duration::from_secs(120),
        }
    }
}

/// How to run the server.
#[derive(Clone)]
pub struct GatewayOptions {
    pub addr: SocketAddr,
    pub limits: RequestLimits,
    pub auth_limits: AuthLimits,
    /// Origins allowed by CORS besides `gateway.controlUi.allowedOrigins` (`*` for any).
    /// Browser requests from any other origin than the gateway's own are refused.
    pub cors_origins: Vec<String>,
    /// Clock for the auth lockout.
    pub clock: Arc<dyn Clock>,
    /// How the config was located and loaded: the Control UI's config view validates the file
    /// on disk with them. `None`: it shows the running config only.
    pub config_options: Option<LoadOptions>,
    /// Finished requests kept for the Control UI's Requests view.
    pub request_log_capacity: usize,
    /// Event loops serving connections: the caller's runtime, and `lanes - 1` threads with a
    /// single-threaded runtime each (see [`Gateway::start`]).
    pub lanes: usize,
    /// Run on every event loop's thread when the gateway goes quiet after serving requests,
    /// after that loop's idle upstream connections are closed (`idle_release`); the binary
    /// gives its allocator's per-thread caches back.
    pub on_idle: Option<IdleHook>,
}

impl GatewayOptions {
    pub fn new(addr: SocketAddr) -> Self {
        Self {
            addr,
            limits: RequestLimits::default(),
            auth_limits: AuthLimits::default(),
            cors_origins: Vec::new(),
            clock: Arc::new(SystemClock),
            config_options: None,
            request_log_capacity: crate::request_log::DEFAULT_CAPACITY,
            lanes: 1,
            on_idle: None,
        }
    }
}

impl std::fmt::Debug for GatewayOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GatewayOptions")
            .field("addr", &self.addr)
            .field("limits", &self.limits)
            .field("auth_limits", &self.auth_limits)
            .field("cors_origins", &self.cors_origins)
            .field("lanes", &self.lanes)
            .field("on_idle", &self.on_idle.is_some())
            .finish()
    }
}

/// The listen address from config (`gateway.port`, `gateway.bind`) and flag overrides:
/// `loopback` → 127.0.0.1, `lan` → 0.0.0.0, or an explicit address.
pub fn listen_addr(
    config: &clawgate_config::ClawgateConfig,
    port: Option<u16>,
    bind: Option<&GatewayBind>,
) -> SocketAddr {
    let bind = bind.unwrap_or(&config.gateway.bind);
    let ip = match bind {
        GatewayBind::Loopback => IpAddr::V4(Ipv4Addr::LOCALHOST),
        GatewayBind::Lan => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        GatewayBind::Address(ip) => *ip,
    };
    SocketAddr::new(ip, port.unwrap_or(config.gateway.port))
}

/// Builds new services on reload; gets the current ones to reuse their HTTP client and
/// cooldown store (see `ServicesOptions::reusing`).
pub type ServicesLoader = Arc<dyn Fn(&Services) -> Result<Services, GatewayError> + Send + Sync>;

pub(crate) struct AppState {
    pub services: ArcSwap<Services>,
    pub metrics: Arc<GatewayMetrics>,
    pub auth_failures: AuthFailures,
    pub limits: RequestLimits,
    pub body_budget: BodyBudget,
    /// Listening on a loopback address: the `Host` check applies (see `browser_guard`).
    pub loopback_bind: bool,
    /// `--cors-origin` values (the config's `allowedOrigins` are read from the services).
    pub cors_origins: Vec<String>,
    /// Parent of every routed call's cancel token: cancelled when the shutdown grace is over.
    pub streams: CancellationToken,
    /// The recent requests (Control UI).
    pub requests: Arc<RequestLog>,
    /// The address listened on (a loopback one makes the Control UI check `Host`).
    pub addr: SocketAddr,
    pub config_options: Option<LoadOptions>,
    /// Rounds of background discovery finished (start, then one per reload).
    pub discovery_rounds: tokio::sync::watch::Sender<u64>,
    /// Exec approvals waiting for an answer from the Control UI.
    pub approvals: Arc<crate::control_approvals::PendingApprovals>,
}

/// A running gateway.
pub struct Gateway {
    addr: SocketAddr,
    state: Arc<AppState>,
    loader: Option<ServicesLoader>,
    shutdown: CancellationToken,
    connections: TaskTracker,
    /// `None` once `shutdown` took it.
    accept_task: Option<tokio::task::JoinHandle<()>>,
}

/// A gateway dropped without `shutdown` stops accepting on every event loop at once (the
/// loops' threads end when their connections do) instead of serving on unowned.
impl Drop for Gateway {
    fn drop(&mut self) {
        self.shutdown.cancel();
        self.connections.close();
    }
}

impl std::fmt::Debug for Gateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gateway")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

/// Refuses a gateway token naming an unset variable, and a non-loopback listen address unless
/// clients must present a token on every route, or come through a trusted proxy. Reads (or
/// makes) the gateway's own token when the config names none, so the request path never
/// touches its file.
fn check_bind(addr: SocketAddr, services: &Services) -> Result<(), GatewayError> {
    let token = services.auth_token()?;
    services.generated_token()?;
    let proxied = crate::trusted_proxy::proxy_auth(&services.config().gateway).is_some();
    if addr.ip().is_loopback() || token.is_some() || proxied {
        Ok(())
    } else {
        Err(GatewayError::UnsafeBind { addr })
    }
}

impl Gateway {
    /// Binds `options.addr` and starts serving `services`. `loader` enables [`Gateway::reload`].
    ///
    /// With `options.lanes` > 1, that many event loops accept on the listening socket: the
    /// caller's runtime and a thread per extra lane, each with a single-threaded runtime. A
    /// connection stays on the loop that accepted it, with everything its requests do (the
    /// router, the upstream call on that thread's own connection pool). On a multi-threaded
    /// runtime every hop of a request (client socket, upstream socket, each streamed chunk)
    /// woke another worker: 28 syscalls per streamed call instead of 10, and most of the
    /// extra CPU of a stream (`BENCHMARKS.md`, "The hot path, second pass").
    pub async fn start(
        services: Services,
        loader: Option<ServicesLoader>,
        options: GatewayOptions,
    ) -> Result<Gateway, GatewayError> {
        check_bind(options.addr, &services)?;
        // Migrate the shared store now; a database that is down does not stop the start:
        // routed calls work, `/readyz` says degraded, and the state recovers by itself.
        if let Some(shared) = services.shared_state()
            && let Err(error) = shared.connect().await
        {
            tracing::warn!(
                "{error}; serving routed calls, refusing agent turns until it is reachable"
            );
        }
        let bind_error = |source| GatewayError::Bind {
            addr: options.addr,
            source,
        };
        let listener = bind(options.addr).map_err(bind_error)?;
        let lane_listeners = (1..options.lanes.max(1))
            .map(|_| listener.try_clone())
            .collect::<std::io::Result<Vec<_>>>()
            .map_err(bind_error)?;
        let addr = listener.local_addr().map_err(bind_error)?;
        let listener = TcpListener::from_std(listener).map_err(bind_error)?;
        let state = Arc::new(AppState {
            services: ArcSwap::from_pointee(services),
            metrics: Arc::new(GatewayMetrics::new()),
            auth_failures: AuthFailures::new(options.auth_limits, options.clock.clone()),
            limits: options.limits,
            body_budget: BodyBudget::new(
                options
                    .limits
                    .body_budget_bytes
                    .max(options.limits.max_body_bytes),
                options.limits.body_budget_wait,
            ),
            loopback_bind: addr.ip().is_loopback(),
            cors_origins: options
                .cors_origins
                .iter()
                .map(|o| normalize_origin(o))
                .collect(),
            streams: CancellationToken::new(),
            requests: Arc::new(RequestLog::new(options.request_log_capacity)),
            addr,
            config_options: options.config_options.clone(),
            discovery_rounds: tokio::sync::watch::Sender::new(0),
            approvals: Arc::default(),
        });
        spawn_discovery(&state);
        let shutdown = CancellationToken::new();
        let connections = TaskTracker::new();
        let router = app(state.clone());
        let quiet = on_quiet(state.clone(), options.on_idle.clone());
        for (index, lane_listener) in lane_listeners.into_iter().enumerate() {
            let lane = Lane {
                router: router.clone(),
                limits: options.limits,
                shutdown: shutdown.clone(),
                connections: connections.clone(),
                metrics: state.metrics.clone(),
                on_quiet: quiet.clone(),
            };
            let spawned = std::thread::Builder::new()
                .name(format!("clawgate-lane-{}", index + 1))
                .spawn(move || lane.run(lane_listener));
            if let Err(source) = spawned {
                // The loops already running stop accepting and end.
                shutdown.cancel();
                connections.close();
                return Err(bind_error(source));
            }
        }
        tokio::spawn(release_when_idle(
            state.metrics.clone(),
            quiet,
            shutdown.clone(),
        ));
        let accept_task = tokio::spawn(accept_loop(
            listener,
            router,
            options.limits,
            shutdown.clone(),
            connections.clone(),
        ));
        tracing::info!(%addr, "gateway listening");
        Ok(Gateway {
            addr,
            state,
            loader,
            shutdown,
            connections,
            accept_task: Some(accept_task),
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The services in effect now.
    pub fn services(&self) -> Arc<Services> {
        self.state.services.load_full()
    }

    pub fn metrics(&self) -> &Arc<GatewayMetrics> {
        &self.state.metrics
    }

    /// The recent requests (what `GET /clawgate/v1/requests` shows).
    pub fn requests(&self) -> &Arc<RequestLog> {
        &self.state.requests
    }

    /// The number of finished background discovery rounds (one after start, one per reload);
    /// `wait_for` on it waits for discovered models to be merged in.
    pub fn discovery_rounds(&self) -> tokio::sync::watch::Receiver<u64> {
        self.state.discovery_rounds.subscribe()
    }

    /// Swaps in services built by the loader. On any error (bad config, a config that would
    /// leave a non-loopback listener without a token, or one that drops the gateway's auth or
    /// every provider without saying so; see `reload_guard`) the old services stay in effect
    /// and the error is logged and returned. Open connections are not touched.
    pub fn reload(&self) -> Result<(), GatewayError> {
        let Some(loader) = &self.loader else {
            return Err(GatewayError::NoReloader);
        };
        let current = self.state.services.load_full();
        let result = loader(&current).and_then(|services| {
            check_bind(self.addr, &services)?;
            check_reload(&current, &services)?;
            Ok(services)
        });
        match result {
            Ok(services) => {
                self.state.services.store(Arc::new(services));
                self.state.metrics.reload(true);
                tracing::info!("config reloaded");
                spawn_discovery(&self.state);
                Ok(())
            }
            Err(error) => {
                // Building the refused services gave the shared store their schedule.
                current
                    .cooldowns()
                    .set_schedule(current.cooldown_schedule().clone());
                self.state.metrics.reload(false);
                tracing::error!("config reload refused, keeping the running config: {error}");
                Err(error)
            }
        }
    }

    /// A token that stops the server when cancelled (same as [`Gateway::shutdown`]).
    pub fn shutdown_token(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    /// Stops accepting, lets in-flight responses finish within the grace period, then cancels
    /// the streams still open (they end with their dialect's error event) and waits for them.
    pub async fn shutdown(mut self) {
        self.shutdown.cancel();
        if let Some(accept_task) = self.accept_task.take() {
            let _ = accept_task.await;
        }
        self.connections.close();
        let grace = self.state.limits.shutdown_grace;
        if tokio::time::timeout(grace, self.connections.wait())
            .await
            .is_err()
        {
            tracing::warn!("shutdown grace period over: ending the streams still open");
            self.state.streams.cancel();
            self.state.services.load().cancel_all();
            let _ = tokio::time::timeout(Duration::from_secs(5), self.connections.wait()).await;
        }
        tracing::info!("gateway stopped");
    }

    /// Serves until SIGTERM or ctrl-c (then shuts down gracefully), reloading on SIGHUP.
    pub async fn run_until_signal(self) -> Result<(), GatewayError> {
        wait_for_signals(&self).await;
        self.shutdown().await;
        Ok(())
    }
}

#[cfg(unix)]
async fn wait_for_signals(gateway: &Gateway) {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut hup)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::hangup()),
    ) else {
        tracing::warn!("could not install signal handlers; stopping on ctrl-c only");
        let _ = tokio::signal::ctrl_c().await;
        return;
    };
    let stop = gateway.shutdown_token();
    loop {
        tokio::select! {
            _ = term.recv() => break,
            _ = tokio::signal::ctrl_c() => break,
            _ = stop.cancelled() => break,
            _ = hup.recv() => {
                tracing::info!("SIGHUP: reloading config");
                let _ = gateway.reload();
            }
        }
    }
    tracing::info!("shutting down");
}

#[cfg(not(unix))]
async fn wait_for_signals(gateway: &Gateway) {
    let stop = gateway.shutdown_token();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = stop.cancelled() => {}
    }
}

/// The listening socket, as tokio's `TcpListener::bind` makes it (address reuse, a backlog of
/// 1024), handed back as a non-blocking std socket so each event loop can take a clone.
fn bind(addr: SocketAddr) -> std::io::Result<std::net::TcpListener> {
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    #[cfg(unix)]
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(1024)?.into_std()
}

/// An extra event loop: its own thread and single-threaded runtime, accepting on a clone of
/// the listening socket until shutdown, then serving its connections to their end.
struct Lane {
    router: axum::Router,
    limits: RequestLimits,
    shutdown: CancellationToken,
    connections: TaskTracker,
    metrics: Arc<GatewayMetrics>,
    /// Run by this loop's `idle_release` task.
    on_quiet: IdleHook,
}

impl Lane {
    fn run(self, listener: std::net::TcpListener) {
        let runtime = match tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            Ok(runtime) => runtime,
            Err(error) => {
                tracing::error!("an event loop could not start: {error}");
                return;
            }
        };
        runtime.block_on(async move {
            let listener = match TcpListener::from_std(listener) {
                Ok(listener) => listener,
                Err(error) => {
                    tracing::error!("an event loop could not listen: {error}");
                    return;
                }
            };
            let Lane {
                router,
                limits,
                shutdown,
                connections,
                metrics,
                on_quiet,
            } = self;
            tokio::spawn(release_when_idle(metrics, on_quiet, shutdown.clone()));
            accept_loop(listener, router, limits, shutdown, connections.clone()).await;
            // The connections this loop accepted run on its runtime: it lives until every
            // connection of the gateway has ended (the tracker is closed on shutdown).
            connections.wait().await;
        });
    }
}

async fn accept_loop(
    listener: TcpListener,
    router: axum::Router,
    limits: RequestLimits,
    shutdown: CancellationToken,
    connections: TaskTracker,
) {
    // The exact head limit (with a dialect-shaped 431) is `http_layer`'s; hyper's own cap is
    // the backstop for heads far past it, and its read buffer must not hit first.
    let hard_cap = limits.max_header_bytes.saturating_mul(2).max(8192);
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_header_size(hard_cap)
        .max_buf_size(hard_cap + 16 * 1024)
        .max_headers(limits.max_headers)
        .keep_alive(true);
    let mut accept_errors = AcceptErrorLog::new(Duration::from_secs(1));
    loop {
        let accepted = tokio::select! {
            _ = shutdown.cancelled() => break,
            accepted = listener.accept() => accepted,
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(error) => {
                // Out of file descriptors and the like: back off instead of spinning, and log
                // once a second at most (with how many were not logged).
                if let Some(suppressed) = accept_errors.record(std::time::Instant::now()) {
                    if suppressed > 0 {
                        tracing::warn!(
                            suppressed,
                            "accept failed: {error} ({suppressed} more since the last report)"
                        );
                    } else {
                        tracing::warn!("accept failed: {error}");
                    }
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let service =
            router
                .clone()
                .map_request(move |mut request: axum::http::Request<Incoming>| {
                    request.extensions_mut().insert(ConnectInfo(peer));
                    request
                });
        let connection =
            builder.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
        let shutdown = shutdown.clone();
        connections.spawn(async move {
            let mut connection = std::pin::pin!(connection);
            tokio::select! {
                result = connection.as_mut() => {
                    if let Err(error) = result {
                        tracing::debug!(%peer, "connection ended: {error}");
                    }
                }
                _ = shutdown.cancelled() => {
                    connection.as_mut().graceful_shutdown();
                    let _ = connection.await;
                }
            }
        });
    }
}
