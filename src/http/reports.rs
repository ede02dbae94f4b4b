//! `GET /api/reports/funnel` (JSON), `GET /api/reports/funnel.csv` (also as
//! `/reports/funnel.csv` with a session) and the HTML page `GET /reports/funnel`: three
//! views of one [`crate::reports::FunnelReport`].

use axum::{
    Json,
    extract::{RawQuery, State},
    http::header::{CONTENT_DISPOSITION, CONTENT_TYPE},
    response::{Html, IntoResponse},
};

use super::error::ApiError;
use crate::{
    app::AppState,
    reports::{self, FunnelReport, ReportError, ReportRequest},
};

impl From<ReportError> for ApiError {
    fn from(error: ReportError) -> Self {
        match error {
            ReportError::Invalid(m) => ApiError::invalid(m),
            ReportError::Db(e) => e.into(),
        }
    }
}

async fn report(state: &AppState, query: Option<&str>) -> Result<FunnelReport, ApiError> {
    let pairs: Vec<(String, String)> =
        url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
            .into_owned()
            .collect();
    let request = ReportRequest::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))?;
    Ok(reports::funnel(&state.db, &state.config.timezone, &request).await?)
}

pub async fn json(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
) -> Result<Json<FunnelReport>, ApiError> {
    Ok(Json(report(&state, query.as_deref()).await?))
}

pub async fn csv(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
) -> Result<impl IntoResponse, ApiError> {
    let report = report(&state, query.as_deref()).await?;
    let file = format!(
        "attachment; filename=\"funnel-{}-{}.csv\"",
        report.from, report.to
    );
    Ok((
        [
            (CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (CONTENT_DISPOSITION, file),
        ],
        reports::csv::render(&report),
    ))
}

pub async fn page(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
) -> Result<Html<String>, ApiError> {
    let report = report(&state, query.as_deref()).await?;
    let query = query.unwrap_or_default();
    let suffix = if query.is_empty() {
        String::new()
    } else {
        format!("?{query}")
    };
    let links = reports::html::PageLinks {
        // The session route, so a signed-in browser can follow it (the API's needs a token).
        csv_url: Some(format!("/reports/funnel.csv{suffix}")),
        json_url: Some(format!("/api/reports/funnel{suffix}")),
    };
    let page = tokio::task::spawn_blocking(move || -> Result<String, String> {
        let figures = reports::figures::draw(&report).map_err(|e| e.to_string())?;
        reports::html::render(&report, &figures, &links).map_err(|e| e.to_string())
    })
    .await
    .map_err(|e| e.to_string())
    .and_then(|r| r)
    .map_err(|e| {
        ApiError::new(
            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            "render_failed",
            e,
        )
    })?;
    Ok(Html(page))
}
