//! `POST /api/campaigns`, `GET /api/campaigns`, `GET /api/campaigns/{id}`.

use axum::{Json, extract::State, http::StatusCode};

use super::{
    error::ApiError,
    extract::{ApiJson, ApiPath},
};
use crate::{
    app::AppState,
    campaigns::{Campaign, CampaignRequest, NewCampaign},
    db::StoreStats,
};

pub async fn create(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<CampaignRequest>,
) -> Result<(StatusCode, Json<Campaign>), ApiError> {
    let campaign = NewCampaign::parse(request).map_err(ApiError::invalid)?;
    let stored = state.db.insert_campaign(&campaign).await?;
    tracing::info!(id = stored.id, "campaign created");
    Ok((StatusCode::CREATED, Json(stored)))
}

pub async fn list(State(state): State<AppState>) -> Result<Json<Vec<Campaign>>, ApiError> {
    Ok(Json(state.db.list_campaigns().await?))
}

pub async fn show(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Campaign>, ApiError> {
    state
        .db
        .get_campaign(id)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::not_found(format!("campaign {id} does not exist")))
}

/// `GET /api/campaigns/{id}/stores`: scans, clicks, chats and later conversions per store.
pub async fn stores(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Vec<StoreStats>>, ApiError> {
    if state.db.get_campaign(id).await?.is_none() {
        return Err(ApiError::not_found(format!("campaign {id} does not exist")));
    }
    Ok(Json(state.db.store_stats(id).await?))
}
