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
    tracing::info!(id = link.id, code = %link.code, "link created");
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
    tracing::info!(campaign_id, count = links.len(), "store links created");
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
    if state.db.get_campaign(campaign_id).await?.is_none() {
        return Err(ApiError::not_found(format!(
            "campaign {campaign_id} does not exist"
        )));
    }
    let links = state.db.list_links(campaign_id).await?;
    Ok(Json(
        links
            .iter()
            .map(|l| LinkView::new(l, &state.config, &state.key))
            .collect(),
    ))
}

pub async fn show(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<LinkStats>, ApiError> {
    let link = state
        .db
        .get_link(id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("link {id} does not exist")))?;
    let clicks = state.db.click_counts(id).await?;
    let leads = state.db.link_leads(id).await?;
    Ok(Json(LinkStats {
        link: LinkView::new(&link, &state.config, &state.key),
        clicks,
        leads: leads.total,
        leads_by_method: leads.by_method,
    }))
}
