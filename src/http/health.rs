//! `GET /healthz` and `GET /metrics`.

use axum::{
    extract::State,
    http::{StatusCode, header::CONTENT_TYPE},
    response::IntoResponse,
};

use crate::app::AppState;

/// 200 `ok` when the service records what it is sent: the database answers, no background
/// task is down after a panic, and no click was dropped at a full queue lately
/// ([`crate::clicks::writer::DROPS_UNHEALTHY_FOR`]). 503 with the reason otherwise.
pub async fn healthz(State(state): State<AppState>) -> impl IntoResponse {
    if state.metrics.tasks_down() > 0 {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "a background task is restarting",
        );
    }
    if state.clicks.dropping() {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "click queue full: clicks are being dropped",
        );
    }
    match state.db.ping().await {
        Ok(()) => (StatusCode::OK, "ok"),
        Err(error) => {
            tracing::warn!(%error, "health check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
        }
    }
}

/// Prometheus/OpenMetrics text.
pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(
            CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.render(state.clicks.depth()),
    )
}
