//! `GET /api/contacts` (JSON) and `GET /api/contacts.csv`: who started chats, from which
//! campaign, link, store and by which attribution method (for broadcast segments per source).

use axum::{
    Json,
    extract::State,
    http::header::{CONTENT_DISPOSITION, CONTENT_TYPE},
    response::IntoResponse,
};
use serde::Deserialize;

use super::{error::ApiError, extract::ApiQuery};
use crate::{
    app::AppState,
    contacts::{self, ContactRow},
};

#[derive(Deserialize)]
pub struct ContactQuery {
    campaign: Option<i64>,
}

pub async fn list(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<ContactQuery>,
) -> Result<Json<Vec<ContactRow>>, ApiError> {
    Ok(Json(contacts::list(&state.db, query.campaign).await?))
}

pub async fn csv(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<ContactQuery>,
) -> Result<impl IntoResponse, ApiError> {
    let rows = contacts::list(&state.db, query.campaign).await?;
    Ok((
        [
            (CONTENT_TYPE, "text/csv; charset=utf-8"),
            (CONTENT_DISPOSITION, "attachment; filename=\"contacts.csv\""),
        ],
        contacts::to_csv(&rows),
    ))
}
