//! `POST /api/campaigns`, `GET /api/campaigns`, `GET /api/campaigns/{id}`,
//! `GET /api/campaigns/{id}/stores`.

use axum::{Json, extract::State, http::StatusCode};

use super::{
    error::ApiError,
    extract::{ApiJson, ApiPath},
};
use crate::{
    app::AppState,
    campaigns::{self, Campaign, CampaignError, CampaignRequest},
    stores::{self, StoreStats},
};

impl From<CampaignError> for ApiError {
    fn from(error: CampaignError) -> Self {
        match error {
            CampaignError::Invalid(m) => ApiError::invalid(m.message),
            CampaignError::Db(e) => e.into(),
        }
    }
}

pub async fn create(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<CampaignRequest>,
) -> Result<(StatusCode, Json<Campaign>), ApiError> {
    let stored = campaigns::create(&state.db, request).await?;
    Ok((StatusCode::CREATED, Json(stored)))
}

pub async fn list(State(state): State<AppState>) -> Result<Json<Vec<Campaign>>, ApiError> {
    Ok(Json(state.db.list_campaigns().await?))
}

pub async fn show(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Campaign>, ApiError> {
    Ok(Json(state.db.campaign(id).await?))
}

/// Scans, clicks, chats and later conversions per store.
pub async fn stores(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Vec<StoreStats>>, ApiError> {
    Ok(Json(stores::results(&state.db, id).await?))
}
