//! Accepting connections: a header-read timeout, a connection cap and graceful shutdown.
//!
//! `axum::serve` waits as long as a client likes for its request headers, so about 20,000
//! connections that never finish them exhaust the open-file limit and every route stops
//! answering. Here each connection gets [`Limits::header_timeout`] to send its headers (on
//! keep-alive connections, that is also how long it may sit idle between requests), at most
//! [`Limits::max_connections`] are open at once (past that, new ones are closed at once and
//! counted, with a log line), and the process raises its soft open-file limit to the hard
//! one at start so the cap, not the kernel, is what binds.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use axum::Router;
use hyper_util::{
    rt::{TokioExecutor, TokioIo, TokioTimer},
    server::{conn::auto::Builder, graceful::GracefulShutdown},
    service::TowerToHyperService,
};
use tokio::{net::TcpListener, sync::Semaphore};
use tower::Service;

/// How long and how many.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Time a client has to send a request's headers, and to start the next request on a
    /// kept-alive connection.
    pub header_timeout: Duration,
    /// Connections open at once.
    pub max_connections: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            header_timeout: Duration::from_secs(10),
            max_connections: 50_000,
        }
    }
}

/// Raises the soft open-file limit to the hard limit (Unix), so a burst of sockets meets
/// the connection cap before the kernel's limit; returns the limit in force.
pub fn raise_open_file_limit() -> Option<u64> {
    rlimit::increase_nofile_limit(u64::MAX).ok()
}

/// Serves `router` on `listener` until `stop` completes, then lets in-flight requests
/// finish. `refused` counts connections closed at the cap.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    refused: prometheus_client::metrics::counter::Counter,
    stop: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let mut make_service = router.into_make_service_with_connect_info::<SocketAddr>();
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = GracefulShutdown::new();
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .keep_alive(true);
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(Some(limits.header_timeout))
        .keep_alive_timeout(limits.header_timeout);
    tokio::pin!(stop);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(error) => {
                    // Out of file descriptors or a reset before accept: keep serving.
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
            },
            _ = &mut stop => break,
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            let total = refused.inc() + 1;
            // One line per thousand refusals: visible, without flooding the log.
            if total % 1_000 == 1 {
                tracing::warn!(
                    max_connections = limits.max_connections,
                    refused = total,
                    "connection cap reached; closing new connections"
                );
            }
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let tower_service = match make_service.call(peer).await {
            Ok(service) => service,
            Err(never) => match never {},
        };
        let connection = builder
            .serve_connection_with_upgrades(
                TokioIo::new(stream),
                TowerToHyperService::new(tower_service),
            )
            .into_owned();
        let watched = graceful.watch(connection);
        tokio::spawn(async move {
            // Errors here are a client's broken connection or timeout: nothing to act on.
            let _ = watched.await;
            drop(slot);
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}
