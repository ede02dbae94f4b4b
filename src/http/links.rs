//! Link endpoints: create one, create one per store, list a campaign's, show one with stats,
//! edit one. Every change also updates what the redirect has cached.

use axum::{Json, extract::State, http::StatusCode};

use super::{
    error::ApiError,
    extract::{ApiJson, ApiPath},
    redirect::forget_link,
};
use crate::{
    app::AppState,
    links::{
        BulkLinkRequest, LinkPatch, LinkRequest, LinkStats, LinkView,
        create::{create_bulk, create_link},
        update::{UpdateError, update as update_link},
    },
};

impl From<UpdateError> for ApiError {
    fn from(error: UpdateError) -> Self {
        match error {
            UpdateError::Link(e) => e.into(),
            UpdateError::Db(e) => e.into(),
        }
    }
}

pub async fn create(
    State(state): State<AppState>,
    ApiPath(campaign_id): ApiPath<i64>,
    ApiJson(request): ApiJson<LinkRequest>,
) -> Result<(StatusCode, Json<LinkView>), ApiError> {
    let link = create_link(&state.db, campaign_id, request).await?;
    // Codes are random, so any remembered unknown code could be this one.
    state.unknown_codes.clear();
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
    state.unknown_codes.clear();
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

/// `PATCH /api/links/{id}`: label, store, prefilled text, UTM, WeChat code URL, `active`.
pub async fn update(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(patch): ApiJson<LinkPatch>,
) -> Result<Json<LinkView>, ApiError> {
    let link = update_link(&state.db, id, patch).await?;
    forget_link(&state, &link.code);
    Ok(Json(LinkView::new(&link, &state.config, &state.key)))
}
