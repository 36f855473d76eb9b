//! [`PgState`]: the connection pool to the shared database, the schema migrations (run once,
//! at the first use, retried until they succeed) and the health flag `/readyz` and `/metrics`
//! report. Building one does no I/O, so a gateway starts while the database is down and
//! recovers by itself when it returns: every use goes through [`PgState::client`], which marks
//! the state healthy or not, and a background probe (once a second) notices a recovery when
//! nothing else asks.
//!
//! Background tasks (writers, listener, lease renewals, the probe) run on the tokio runtime
//! that built the state, or, when there is none (a CLI command that builds its services
//! before its runtime), on a one-thread runtime of the state's own.

use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod, Runtime};
use tokio_postgres::NoTls;

/// How long one connection attempt may take before the database counts as unreachable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// How often the background probe looks at the database.
const PROBE_PERIOD: Duration = Duration::from_secs(1);

#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// The URL is not a PostgreSQL connection string (the message shows it redacted).
    #[error("state.url {url}: {message}")]
    BadUrl { url: String, message: String },
    /// The database cannot be reached (refused, timed out, connection lost).
    #[error("PostgreSQL at {url} is unreachable: {message}")]
    Unavailable { url: String, message: String },
    /// The database answered with an error.
    #[error("PostgreSQL at {url}: {message}")]
    Database { url: String, message: String },
}

/// The URL with its password replaced by `***`, for messages and logs.
pub fn redact_url(raw: &str) -> String {
    match url::Url::parse(raw) {
        Ok(mut parsed) => {
            if parsed.password().is_some() {
                let _ = parsed.set_password(Some("***"));
            }
            parsed.to_string()
        }
        // Not a URL (a key=value string): show no value that could be a password.
        Err(_) if raw.contains("password") => "(a connection string with a password)".into(),
        Err(_) => raw.to_string(),
    }
}

/// See the module docs. Share it behind an `Arc`.
pub struct PgState {
    raw_url: String,
    /// Where background tasks run (see the module docs); `own` is set when we made it.
    tasks: tokio::runtime::Handle,
    own: Option<tokio::runtime::Runtime>,
    pool: Pool,
    config: tokio_postgres::Config,
    url: String,
    replica: String,
    healthy: AtomicBool,
    last_error: Mutex<Option<String>>,
    schema_ready: AtomicBool,
    schema: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for PgState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgState")
            .field("url", &self.url)
            .field("replica", &self.replica)
            .field("healthy", &self.healthy())
            .finish_non_exhaustive()
    }
}

impl PgState {
    /// A pool on `url` (`postgres://user:password@host:port/db`); connects on first use.
    pub fn new(url: &str) -> Result<Arc<Self>, StateError> {
        let redacted = redact_url(url);
        let bad = |message: String| StateError::BadUrl {
            url: redacted.clone(),
            message,
        };
        if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            return Err(bad("expected a postgres:// or postgresql:// URL".into()));
        }
        let mut config = tokio_postgres::Config::from_str(url).map_err(|e| bad(e.to_string()))?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        if config.get_application_name().is_none() {
            config.application_name("clawgate");
        }
        let manager = Manager::from_config(
            config.clone(),
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(16)
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(CONNECT_TIMEOUT * 2))
            .create_timeout(Some(CONNECT_TIMEOUT))
            .recycle_timeout(Some(CONNECT_TIMEOUT))
            .build()
            .map_err(|e| bad(e.to_string()))?;
        let (tasks, own) = match tokio::runtime::Handle::try_current() {
            Ok(handle) => (handle, None),
            Err(_) => {
                let runtime = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(1)
                    .thread_name("clawgate-state")
                    .enable_all()
                    .build()
                    .map_err(|e| bad(format!("could not start the state runtime: {e}")))?;
                (runtime.handle().clone(), Some(runtime))
            }
        };
        let state = Arc::new(PgState {
            raw_url: url.to_string(),
            tasks,
            own,
            pool,
            config,
            url: redacted,
            replica: uuid::Uuid::new_v4().simple().to_string(),
            healthy: AtomicBool::new(false),
            last_error: Mutex::new(Some("not connected yet".into())),
            schema_ready: AtomicBool::new(false),
            schema: tokio::sync::Mutex::new(()),
        });
        state.spawn(probe_loop(Arc::downgrade(&state)));
        Ok(state)
    }

    /// Whether this state was built for `url` (a reload keeps it when the URL is unchanged).
    pub fn is_for(&self, url: &str) -> bool {
        self.raw_url == url
    }

    /// Runs a background task (see the module docs).
    pub(crate) fn spawn<F>(&self, task: F) -> tokio::task::JoinHandle<F::Output>
    where
        F: std::future::Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.tasks.spawn(task)
    }

    /// The URL as messages show it (password redacted).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// This process's id in lease rows and notifications.
    pub fn replica(&self) -> &str {
        &self.replica
    }

    /// Whether the last use of the database succeeded.
    pub fn healthy(&self) -> bool {
        self.healthy.load(Ordering::SeqCst)
    }

    /// Why the database was last unusable, while it is.
    pub fn last_error(&self) -> Option<String> {
        if self.healthy() {
            return None;
        }
        self.last_error
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub(crate) fn mark_ok(&self) {
        if !self.healthy.swap(true, Ordering::SeqCst) {
            tracing::info!(url = %self.url, "shared state: PostgreSQL reachable");
        }
    }

    pub(crate) fn mark_failed(&self, message: &str) {
        *self.last_error.lock().unwrap_or_else(|p| p.into_inner()) = Some(message.to_string());
        if self.healthy.swap(false, Ordering::SeqCst) {
            tracing::warn!(url = %self.url, "shared state: PostgreSQL unreachable: {message}");
        }
    }

    pub(crate) fn unavailable(&self, message: impl Into<String>) -> StateError {
        let message = message.into();
        self.mark_failed(&message);
        StateError::Unavailable {
            url: self.url.clone(),
            message,
        }
    }

    /// Maps a query error: a lost connection is "unavailable" (and marks the state so),
    /// an error the server answered with is a database error.
    pub(crate) fn query_error(&self, error: tokio_postgres::Error) -> StateError {
        match error.as_db_error() {
            Some(db) => StateError::Database {
                url: self.url.clone(),
                message: db.to_string(),
            },
            None => self.unavailable(error.to_string()),
        }
    }

    /// A pooled connection on a migrated schema.
    pub async fn client(&self) -> Result<Object, StateError> {
        let mut client = self.pooled().await?;
        if !self.schema_ready.load(Ordering::SeqCst) {
            self.migrate_on(&mut client).await?;
        }
        self.mark_ok();
        Ok(client)
    }

    /// Connects and migrates now (start-up, `state migrate-from-files`); returns how many
    /// migrations this call applied.
    pub async fn migrate(&self) -> Result<usize, StateError> {
        let mut client = self.pooled().await?;
        let applied = self.migrate_on(&mut client).await?;
        self.mark_ok();
        Ok(applied)
    }

    async fn pooled(&self) -> Result<Object, StateError> {
        self.pool
            .get()
            .await
            .map_err(|e| self.unavailable(e.to_string()))
    }

    /// Applies pending migrations on `client`, one caller at a time in this process.
    async fn migrate_on(&self, client: &mut Object) -> Result<usize, StateError> {
        let _one = self.schema.lock().await;
        let applied = crate::migrations::run(client)
            .await
            .map_err(|e| self.unavailable(format!("migrations: {e}")))?;
        if applied > 0 {
            tracing::info!(url = %self.url, applied, "shared state: schema migrated");
        }
        self.schema_ready.store(true, Ordering::SeqCst);
        Ok(applied)
    }

    /// A dedicated connection outside the pool (the `LISTEN` connection) and its driver task's
    /// message stream.
    pub(crate) async fn connect_dedicated(
        &self,
    ) -> Result<
        (
            tokio_postgres::Client,
            tokio_postgres::Connection<tokio_postgres::Socket, tokio_postgres::tls::NoTlsStream>,
        ),
        StateError,
    > {
        self.config
            .connect(NoTls)
            .await
            .map_err(|e| self.unavailable(e.to_string()))
    }
}

impl Drop for PgState {
    fn drop(&mut self) {
        // Dropping a runtime blocks; the tasks on our own runtime hold only weak references.
        if let Some(runtime) = self.own.take() {
            runtime.shutdown_background();
        }
    }
}

/// Looks at the database once a second while the state lives: a `SELECT 1` marks it healthy
/// again after an outage even when no request comes to try.
async fn probe_loop(state: Weak<PgState>) {
    loop {
        tokio::time::sleep(PROBE_PERIOD).await;
        let Some(state) = state.upgrade() else { return };
        // A failure to get a client is marked by `client` itself.
        if let Ok(client) = state.client().await
            && let Err(e) = client.simple_query("SELECT 1").await
        {
            state.mark_failed(&e.to_string());
        }
    }
}
