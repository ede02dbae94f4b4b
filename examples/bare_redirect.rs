//! The baseline for `scripts/bench-redirect`: a bare axum 0.8 server whose `GET /r/{code}`
//! answers the same 302 as chatref (a Telegram deep link carrying a 28-character tag,
//! `Cache-Control: private, no-store`) without looking anything up or recording a click.
//!
//! It runs on the same tokio multi-thread runtime as `chatref serve` (one worker per core)
//! and is served the same way (`axum::serve` with connect info), so the difference between
//! the two is what chatref does per redirect.
//!
//!     cargo run --release --example bare_redirect -- 127.0.0.1:8090
//!
//! The address comes from the first argument, else `BARE_BIND`, else `127.0.0.1:8090`.
//! SIGTERM or Ctrl-C stops it.

use std::{
    net::SocketAddr,
    sync::atomic::{AtomicU64, Ordering},
};

use axum::{
    Router,
    extract::Path,
    http::{
        HeaderValue, StatusCode,
        header::{CACHE_CONTROL, LOCATION},
    },
    response::{IntoResponse, Response},
    routing::get,
};

const NO_STORE: HeaderValue = HeaderValue::from_static("private, no-store");

static NEXT: AtomicU64 = AtomicU64::new(0);

/// 302 to `https://t.me/CoastShopBot?start=<tag>`; the tag has chatref's shape
/// (`{code}-{click id}-{mac}`, 28 characters) and changes per request, so the Location
/// header is built per request as chatref's is.
async fn follow(Path(code): Path<String>) -> Response {
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let code: String = code.chars().take(8).collect();
    let location = format!(
        "https://t.me/CoastShopBot?start={code:0>8}-{n:012x}-{:06x}",
        n & 0xff_ffff
    );
    let Ok(location) = HeaderValue::try_from(location) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    (
        StatusCode::FOUND,
        [(LOCATION, location), (CACHE_CONTROL, NO_STORE)],
    )
        .into_response()
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let bind = std::env::args()
        .nth(1)
        .or_else(|| std::env::var("BARE_BIND").ok())
        .unwrap_or_else(|| "127.0.0.1:8090".into());
    let addr: SocketAddr = bind.parse().map_err(|_| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("`{bind}` is not an address like 127.0.0.1:8090"),
        )
    })?;
    let app = Router::new()
        .route("/r/{code}", get(follow))
        .route("/healthz", get(|| async { "ok" }));
    let listener = tokio::net::TcpListener::bind(addr).await?;
    eprintln!("bare_redirect listening on {}", listener.local_addr()?);
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(stop())
    .await
}

async fn stop() {
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("installing a SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {},
        _ = terminate.recv() => {},
    }
}
