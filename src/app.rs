//! Wiring: state shared by the handlers, start-up (database, migrations, GeoIP, click writer)
//! and a graceful stop that flushes every queued click before the database closes.

use std::{future::Future, net::SocketAddr, sync::Arc};

use dashmap::DashMap;
use tokio::{net::TcpListener, task::JoinHandle};
use tokio_util::sync::CancellationToken;

use crate::{
    clicks::{
        geo::{GeoError, GeoIp},
        writer::{self, ClickQueue, WriterContext},
    },
    clock::{Clock, SystemClock},
    config::Config,
    db::{Db, DbError},
    links::{Link, TagKey},
    telemetry::Metrics,
};

/// What every handler can reach: one `Arc`, so the per-request clones that axum makes for
/// each layer and extractor cost one atomic increment rather than one per field.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// The shared parts of [`AppState`].
pub struct Shared {
    pub db: Db,
    pub config: Arc<Config>,
    /// Signs and checks ref tags.
    pub key: TagKey,
    /// Signs and checks the sign-in form's CSRF tokens.
    pub forms: crate::users::sessions::FormKey,
    /// Links by code, filled on first use by the redirect. An edit through this service
    /// removes the link's entry; an edit elsewhere (the CLI, another instance) clears the
    /// whole map when the redirect next checks [`Db::links_version`] (twice a second, so other
    /// instances serve an edit within a second).
    pub links: Arc<DashMap<String, Arc<Link>>>,
    /// Codes the database did not know (bounded, a minute each), so unknown codes do not
    /// cost a query each; cleared when links are created.
    pub unknown_codes: crate::links::cache::UnknownCodes,
    /// Paces the redirect's check for link changes made by other processes.
    pub link_changes: crate::links::cache::ChangeWatch,
    pub clicks: ClickQueue,
    pub metrics: Arc<Metrics>,
    /// Stores verified webhook calls, several per transaction.
    pub inbox: crate::inbox::Inbox,
    /// Stamps clicks, landing-page events and conversions.
    pub clock: Arc<dyn Clock>,
    /// Rendered QR images by ETag, bounded in bytes.
    pub qr_cache: Arc<crate::qr::cache::RenderCache>,
    /// Permits for CPU- and memory-heavy renders (large codes, print sheets) at once.
    pub renders: Arc<tokio::sync::Semaphore>,
}

impl From<DbError> for StartError {
    fn from(error: DbError) -> Self {
        StartError::Db(error)
    }
}

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The database's own message names what could not be opened and why.
    #[error("{0}")]
    Db(DbError),
    #[error(transparent)]
    Geo(#[from] GeoError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// A built, listening service, ready to [`Application::run_until`].
pub struct Application {
    listener: TcpListener,
    state: AppState,
    shutdown: CancellationToken,
    writer: JoinHandle<()>,
    inbox: JoinHandle<()>,
    /// The daily prune of raw payloads that created nothing ([`crate::retention`]).
    pruner: JoinHandle<()>,
}

impl Application {
    /// Connects and migrates the database, opens GeoIP, starts the click writer and binds
    /// the listener (port 0 picks a free port; see [`Application::local_addr`]).
    pub async fn build(config: Config) -> Result<Self, StartError> {
        if let Some(limit) = crate::serve::raise_open_file_limit() {
            tracing::debug!(limit, "open-file limit");
        }
        Self::build_with_clock(config, Arc::new(SystemClock)).await
    }

    /// [`Application::build`] with the clock that stamps recorded events (`chatref demo`
    /// runs a simulated month through the real service this way).
    pub async fn build_with_clock(
        config: Config,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, StartError> {
        let db = Db::connect(&config.database_url).await?;
        db.migrate().await?;
        let secret = db.service_secret(config.secret.as_ref()).await?;
        let key = TagKey::new(&secret);
        let geo = Arc::new(GeoIp::open(config.geoip_db.as_deref())?);
        if let Some(kind) = geo.database_type() {
            tracing::info!(database = kind, "GeoIP ready");
        }
        let metrics = Arc::new(Metrics::new());
        let shutdown = CancellationToken::new();
        let (clicks, writer) = writer::spawn(
            WriterContext {
                db: db.clone(),
                geo,
                key: key.clone(),
                metrics: metrics.clone(),
            },
            config.click_queue,
            shutdown.clone(),
        );
        let (inbox, inbox_task) =
            crate::inbox::Inbox::spawn(db.clone(), metrics.clone(), shutdown.clone());
        if let Some(started) = db.interrupted_rebuild().await? {
            tracing::warn!(%started, "an attribution rebuild did not finish: contacts and leads are incomplete until `chatref attribution rebuild` runs to the end");
        }
        let pruner = crate::retention::spawn_pruner(
            db.clone(),
            clock.clone(),
            config.raw_retention,
            shutdown.clone(),
        );
        let listener = TcpListener::bind(config.bind)
            .await
            .map_err(|source| StartError::Bind {
                addr: config.bind,
                source,
            })?;
        let state = AppState(Arc::new(Shared {
            db: db.clone(),
            config: Arc::new(config),
            key,
            forms: crate::users::sessions::FormKey::new(&secret),
            links: Arc::new(DashMap::new()),
            unknown_codes: Default::default(),
            link_changes: Default::default(),
            clicks,
            metrics,
            qr_cache: Arc::new(crate::qr::cache::RenderCache::default()),
            renders: Arc::new(tokio::sync::Semaphore::new(crate::http::qr::RENDER_PERMITS)),
            inbox,
            clock,
        }));
        Ok(Application {
            listener,
            state,
            shutdown,
            writer,
            inbox: inbox_task,
            pruner,
        })
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    /// The shared state (tests read the database through it).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `stop` completes, then finishes in-flight requests, flushes the click
    /// queue and the webhook inbox, and closes the database.
    pub async fn run_until(
        self,
        stop: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let Application {
            listener,
            state,
            shutdown,
            writer,
            inbox,
            pruner,
        } = self;
        let db = state.db.clone();
        tracing::info!(
            addr = %listener.local_addr()?,
            backend = db.backend(),
            public_url = %state.config.public_url,
            "chatref listening"
        );
        let limits = state.config.limits;
        let refused = state.metrics.connections_refused.clone();
        let app = crate::http::router(state);
        let served = crate::serve::serve(listener, app, limits, refused, stop).await;
        shutdown.cancel();
        if let Err(error) = writer.await {
            tracing::error!(%error, "click writer ended abnormally");
        }
        if let Err(error) = inbox.await {
            tracing::error!(%error, "webhook inbox ended abnormally");
        }
        if let Err(error) = pruner.await {
            tracing::error!(%error, "raw payload pruner ended abnormally");
        }
        db.close().await;
        served
    }
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("stop requested; finishing requests and flushing clicks");
}
