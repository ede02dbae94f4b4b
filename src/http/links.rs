//! Link endpoints: create one, create one per store, list a campaign's, show one with stats.

use axum::{Json, extract::State, http::StatusCode};

use super::{
    error::ApiError,
    extract::{ApiJson, ApiPath},
};
use crate::{
    app::AppState,
    links::{
        BulkLinkRequest, LinkRequest, LinkStats, LinkView,
        create::{create_bulk, create_link},
    },
};

pub async fn create(
    State(state): State<AppState>,
    ApiPath(campaign_id): ApiPath<i64>,
    ApiJson(request): ApiJson<LinkRequest>,
) -> Result<(StatusCode, Json<LinkView>), ApiError> {
    let link = create_link(&state.db, campaign_id, request).await?;
    Ok((
        StatusCode::CREATED,
        Json(LinkView::new(&link, &state.config, &state.key)),
    ))
}

pub async fn bulk(
    State(state): State<AppState>,
    ApiPath(campaign_id): ApiPath<i64>,
    ApiJson(request): ApiJson<BulkLinkRequest>,
) -> Result<(StatusCode, Json<Vec<LinkView>>), ApiError> {
    let links = create_bulk(&state.db, campaign_id, request).await?;
    Ok((
        StatusCode::CREATED,
        Json(
            links
                .iter()
                .map(|l| LinkView::new(l, &state.config, &state.key))
                .collect(),
        ),
    ))
}

pub async fn list(
    State(state): State<AppState>,
    ApiPath(campaign_id): ApiPath<i64>,
) -> Result<Json<Vec<LinkView>>, ApiError> {
    let views = LinkView::of_campaign(&state.db, &state.config, &state.key, campaign_id).await?;
    Ok(Json(views))
}

pub async fn show(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<LinkStats>, ApiError> {
    Ok(Json(
        LinkStats::load(&state.db, &state.config, &state.key, id).await?,
    ))
}
