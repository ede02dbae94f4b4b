//! Spend: `POST|GET /api/campaigns/{id}/spend`, `POST /api/spend/import` (an ad platform's
//! CSV export as the body) and `POST /api/campaigns/{id}/external_ids`.

use axum::{
    Json,
    body::Bytes,
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde::Deserialize;
use serde_json::json;

use super::{
    error::ApiError,
    extract::{ApiJson, ApiPath},
};
use crate::{
    app::AppState,
    spend::{self, ImportError, SpendEntry, SpendError, SpendRequest},
};

/// Largest import body: the importer's own limit.
pub const IMPORT_BODY_LIMIT: usize = spend::import::MAX_IMPORT_BYTES;

impl From<SpendError> for ApiError {
    fn from(error: SpendError) -> Self {
        match error {
            SpendError::Invalid(m) => ApiError::invalid(m),
            SpendError::Import(ImportError::TooLarge { .. }) => ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                error.to_string(),
            ),
            SpendError::Import(e) => ApiError::invalid(e.to_string()),
            SpendError::Rows { .. } => ApiError::invalid(error.to_string()),
            SpendError::Db(e) => e.into(),
        }
    }
}

pub async fn record(
    State(state): State<AppState>,
    ApiPath(campaign_id): ApiPath<i64>,
    ApiJson(request): ApiJson<SpendRequest>,
) -> Result<(StatusCode, Json<SpendEntry>), ApiError> {
    let entry = spend::record(&state.db, campaign_id, request).await?;
    Ok((StatusCode::CREATED, Json(entry)))
}

pub async fn list(
    State(state): State<AppState>,
    ApiPath(campaign_id): ApiPath<i64>,
) -> Result<Json<Vec<SpendEntry>>, ApiError> {
    state.db.campaign(campaign_id).await?;
    Ok(Json(state.db.list_spend(campaign_id).await?))
}

/// `{imported, skipped, unmatched, errors: []}`; a file with bad rows answers 422 with the
/// usual error object and `errors: [{line, message}]` beside it, and imports nothing.
pub async fn import(State(state): State<AppState>, body: Bytes) -> Result<Response, ApiError> {
    let parsed = tokio::task::spawn_blocking(move || spend::import::parse(&body))
        .await
        .map_err(|e| {
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "import_failed",
                e.to_string(),
            )
        })?
        .map_err(SpendError::from)?;
    match spend::import(&state.db, parsed).await {
        Ok(outcome) => Ok(Json(outcome).into_response()),
        Err(SpendError::Rows {
            format,
            skipped,
            errors,
        }) => {
            let message = format!("{} rows are invalid; nothing was imported", errors.len());
            let body = json!({
                "error": {"code": "invalid_rows", "message": message},
                "format": format,
                "imported": 0,
                "skipped": skipped,
                "errors": errors,
            });
            Ok((StatusCode::UNPROCESSABLE_ENTITY, Json(body)).into_response())
        }
        Err(other) => Err(other.into()),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExternalId {
    external_id: String,
}

/// Maps an ad platform's campaign id to the campaign, for spend imports.
pub async fn map_external_id(
    State(state): State<AppState>,
    ApiPath(campaign_id): ApiPath<i64>,
    ApiJson(request): ApiJson<ExternalId>,
) -> Result<StatusCode, ApiError> {
    let id = request.external_id.trim();
    if id.is_empty() || id.len() > 100 || id.chars().any(char::is_control) {
        return Err(ApiError::invalid(
            "external_id must be 1 to 100 printable characters",
        ));
    }
    state.db.add_campaign_external_id(campaign_id, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
