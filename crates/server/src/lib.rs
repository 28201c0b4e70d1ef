//! Ponte's composition root: it reads [`Options`], opens the store, starts every service engine
//! and serves all of them on one port ([`serve`]). The request path is
//! HTTP → [`route`] (which service, which protocol, which operation) → [`dispatch`] (protocol
//! codec → service operation → protocol codec) → response.
//!
//! Services never see HTTP: they take an operation name and a JSON input and return a JSON
//! output or their own error, which `dispatch` turns into AWS's error envelope.

pub mod dispatch;
pub mod route;
pub mod targets;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use ponte_store::SharedStore;
use ponte_types::{SharedClock, SystemClock};
use tokio::net::TcpListener;
use tokio::sync::watch;

/// Errors that stop the server from starting or running.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The listen address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: String,
        /// Why.
        source: std::io::Error,
    },
    /// The store could not be opened.
    #[error("cannot open the store: {0}")]
    Store(String),
    /// A service engine could not load its state.
    #[error("cannot start {service}: {message}")]
    Service {
        /// Which service.
        service: &'static str,
        /// Why.
        message: String,
    },
    /// The HTTP server failed.
    #[error("server error: {0}")]
    Io(#[from] std::io::Error),
}

/// Result alias of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// How `ponte serve` runs.
#[derive(Debug, Clone)]
pub struct Options {
    /// Interface to listen on.
    pub host: String,
    /// Port (0 = any free port).
    pub port: u16,
    /// Durable state directory; `None` = in memory only (`--ephemeral`).
    pub data_dir: Option<PathBuf>,
    /// AWS waits are divided by this.
    pub time_scale: f64,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Idle function instances are stopped after this long (real time).
    pub function_idle_timeout: std::time::Duration,
    /// Concurrent executions allowed per account and region (AWS's default quota: 1000).
    pub account_concurrency: u64,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            host: "127.0.0.1".into(),
            port: 4566,
            data_dir: Some(PathBuf::from(".ponte")),
            time_scale: 1.0,
            max_body_bytes: 16 * 1024 * 1024,
            function_idle_timeout: std::time::Duration::from_secs(300),
            account_concurrency: 1000,
        }
    }
}

/// Everything a request handler needs; shared by all connections.
pub struct App {
    /// The SQS engine.
    pub sqs: ponte_sqs::Sqs,
    /// The SNS engine.
    pub sns: ponte_sns::Sns,
    /// The EventBridge engine.
    pub events: ponte_events::Events,
    /// The Lambda engine.
    pub lambda: ponte_lambda::Lambda,
    /// The CloudWatch Logs engine.
    pub logs: ponte_logs::Logs,
    /// The delivery mechanism every service sends through.
    pub outbox: ponte_delivery::Outbox,
    /// The store (for health output).
    pub store: SharedStore,
    /// The clock.
    pub clock: SharedClock,
    /// Options the server runs with.
    pub options: Options,
}

/// A bound, ready server.
pub struct Server {
    listener: TcpListener,
    app: Arc<App>,
    shutdown_tx: watch::Sender<bool>,
    started: Instant,
    /// Scratch space of an ephemeral server (unpacked function code), removed on drop.
    _scratch: Option<tempfile::TempDir>,
}

impl Server {
    /// Binds the port, opens the store and loads every service. After this returns the server
    /// accepts connections as soon as [`Server::run`] is polled.
    pub async fn start(options: Options) -> Result<Self> {
        let started = Instant::now();
        let addr = format!("{}:{}", options.host, options.port);
        let listener = TcpListener::bind(&addr)
            .await
            .map_err(|source| Error::Bind { addr, source })?;
        let clock: SharedClock = Arc::new(SystemClock::new(options.time_scale));
        let store: SharedStore = match &options.data_dir {
            None => Arc::new(ponte_store::MemoryStore::new()),
            Some(dir) => {
                std::fs::create_dir_all(dir).map_err(|e| Error::Store(e.to_string()))?;
                Arc::new(
                    ponte_store_sqlite::SqliteStore::open(dir)
                        .map_err(|e| Error::Store(e.to_string()))?,
                )
            }
        };
        let service = |service: &'static str| {
            move |e: &dyn std::fmt::Display| Error::Service {
                service,
                message: e.to_string(),
            }
        };
        let (shutdown_tx, shutdown_rx) = watch::channel(false);
        // Function code and instance scratch: under the data dir, or a temp dir when ephemeral.
        let (work_dir, scratch) = match &options.data_dir {
            Some(dir) => (dir.join("lambda"), None),
            None => {
                let t = tempfile::Builder::new()
                    .prefix("ponte-")
                    .tempdir()
                    .map_err(|e| Error::Store(e.to_string()))?;
                (t.path().to_path_buf(), Some(t))
            }
        };
        std::fs::create_dir_all(&work_dir).map_err(|e| Error::Store(e.to_string()))?;
        let bound = listener.local_addr()?;
        let outbox = ponte_delivery::Outbox::open(store.clone(), clock.clone())
            .map_err(|e| service("delivery")(&e))?;
        let sqs =
            ponte_sqs::Sqs::open(store.clone(), clock.clone()).map_err(|e| service("sqs")(&e))?;
        sqs.start_background(shutdown_rx.clone());
        outbox.register("sqs", Arc::new(targets::SqsTarget::new(sqs.clone())));
        let logs = ponte_logs::Logs::open(store.clone(), clock.clone())
            .map_err(|e| service("logs")(&e))?;
        logs.start_background(shutdown_rx.clone());
        let runtime = ponte_runtime::Runtime::start(
            clock.clone(),
            ponte_runtime::Options {
                endpoint_url: format!("http://{}:{}", loopback(&options.host), bound.port()),
                idle_timeout: options.function_idle_timeout,
                work_dir: work_dir.join("run"),
            },
            ponte_lambda::log_sink(logs.clone()),
            shutdown_rx.clone(),
        )
        .await
        .map_err(|e| service("lambda runtime")(&e))?;
        let lambda = ponte_lambda::Lambda::open(ponte_lambda::Deps {
            store: store.clone(),
            clock: clock.clone(),
            outbox: outbox.clone(),
            runtime,
            logs: logs.clone(),
            sqs: sqs.clone(),
            code_dir: work_dir.join("code"),
        })
        .map_err(|e| service("lambda")(&e))?;
        lambda.set_account_concurrency_limit(options.account_concurrency);
        lambda.start(shutdown_rx.clone());
        let sns = ponte_sns::Sns::open(store.clone(), clock.clone(), outbox.clone())
            .map_err(|e| service("sns")(&e))?;
        sns.set_base_url(&format!(
            "http://{}:{}",
            loopback(&options.host),
            bound.port()
        ));
        let events = ponte_events::Events::open(store.clone(), clock.clone(), outbox.clone())
            .map_err(|e| service("events")(&e))?;
        events.start_background(shutdown_rx.clone());
        outbox.start(shutdown_rx);
        let app = Arc::new(App {
            sqs,
            sns,
            events,
            lambda,
            logs,
            outbox,
            store,
            clock,
            options,
        });
        Ok(Self {
            listener,
            app,
            shutdown_tx,
            started,
            _scratch: scratch,
        })
    }

    /// The engines and options this server runs (for tests and embedding).
    pub fn app(&self) -> Arc<App> {
        self.app.clone()
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `shutdown` resolves, then stops background work and drains connections.
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send + 'static) -> Result<()> {
        let addr = self.listener.local_addr()?;
        tracing::info!(
            %addr,
            store = self.app.store.backend(),
            durable = self.app.store.durable(),
            time_scale = self.app.options.time_scale,
            startup_ms = format!("{:.2}", self.started.elapsed().as_secs_f64() * 1000.0),
            "ponte ready"
        );
        let router = dispatch::router(self.app.clone());
        axum::serve(self.listener, router)
            .with_graceful_shutdown(shutdown)
            .await?;
        let _ = self.shutdown_tx.send(true);
        tracing::info!("ponte stopped");
        Ok(())
    }
}

/// The address functions use to call back: the listen host, or loopback when listening on
/// every interface.
fn loopback(host: &str) -> &str {
    match host {
        "0.0.0.0" | "::" | "[::]" => "127.0.0.1",
        h => h,
    }
}
