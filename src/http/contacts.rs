//! `GET /api/contacts` (JSON) and `GET /api/contacts.csv`: who started chats, from which
//! campaign, link, store and by which attribution method (for broadcast segments per source).

use axum::{
    Json,
    extract::State,
    http::{
        HeaderValue,
        header::{CONTENT_DISPOSITION, CONTENT_TYPE, LINK},
    },
    response::{IntoResponse, Response},
};
use serde::Deserialize;

use super::{error::ApiError, extract::ApiQuery};
use crate::{
    app::AppState,
    contacts::{self, ContactRow},
};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContactQuery {
    campaign: Option<i64>,
    /// Contacts older than this contact id (the `next` link carries it).
    before: Option<i64>,
    /// Page size, 1 to 1,000 (default 1,000).
    limit: Option<i64>,
}

/// A page of contacts, newest first; a full page carries `Link: <…>; rel="next"`.
pub async fn list(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<ContactQuery>,
) -> Result<Response, ApiError> {
    let limit = query.limit.unwrap_or(contacts::PAGE);
    if !(1..=contacts::PAGE).contains(&limit) {
        return Err(ApiError::invalid(format!(
            "limit must be 1 to {}, got {limit}",
            contacts::PAGE
        )));
    }
    let rows = contacts::page(&state.db, query.campaign, query.before, limit).await?;
    let next = (rows.len() as i64 == limit)
        .then(|| rows.last().map(|r| r.id))
        .flatten()
        .map(|last| {
            let campaign = query
                .campaign
                .map(|c| format!("&campaign={c}"))
                .unwrap_or_default();
            format!("</api/contacts?before={last}&limit={limit}{campaign}>; rel=\"next\"")
        });
    let mut response = Json::<Vec<ContactRow>>(rows).into_response();
    if let Some(next) = next.and_then(|n| HeaderValue::from_str(&n).ok()) {
        response.headers_mut().insert(LINK, next);
    }
    Ok(response)
}

/// Every contact as CSV, streamed a page at a time (a million contacts are never built in
/// memory at once).
pub async fn csv(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<ContactQuery>,
) -> Result<impl IntoResponse, ApiError> {
    // The first page is read before answering, so a database failure is still a JSON error.
    let first = contacts::page(&state.db, query.campaign, None, contacts::PAGE).await?;
    let campaign = query.campaign;
    let chunks = futures_util::stream::unfold(Some((first, true)), move |state_of| {
        let db = state.db.clone();
        async move {
            let (rows, header) = state_of?;
            if rows.is_empty() && !header {
                return None;
            }
            let text = contacts::csv_chunk(&rows, header);
            let next = match rows.last() {
                Some(last) if rows.len() as i64 == contacts::PAGE => {
                    match contacts::page(&db, campaign, Some(last.id), contacts::PAGE).await {
                        Ok(more) => Some((more, false)),
                        Err(error) => {
                            tracing::error!(%error, "contacts export cut short");
                            return Some((Err(std::io::Error::other(error.to_string())), None));
                        }
                    }
                }
                _ => None,
            };
            Some((Ok::<_, std::io::Error>(axum::body::Bytes::from(text)), next))
        }
    });
    Ok((
        [
            (CONTENT_TYPE, "text/csv; charset=utf-8"),
            (CONTENT_DISPOSITION, "attachment; filename=\"contacts.csv\""),
        ],
        axum::body::Body::from_stream(chunks),
    ))
}
