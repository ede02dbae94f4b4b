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
use crate::{app::AppState, db::ContactRow};

#[derive(Deserialize)]
pub struct ContactQuery {
    campaign: Option<i64>,
}

pub async fn list(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<ContactQuery>,
) -> Result<Json<Vec<ContactRow>>, ApiError> {
    Ok(Json(state.db.list_contacts(query.campaign).await?))
}

pub async fn csv(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<ContactQuery>,
) -> Result<impl IntoResponse, ApiError> {
    let rows = state.db.list_contacts(query.campaign).await?;
    Ok((
        [
            (CONTENT_TYPE, "text/csv; charset=utf-8"),
            (CONTENT_DISPOSITION, "attachment; filename=\"contacts.csv\""),
        ],
        contacts_csv(&rows),
    ))
}

/// The CSV export shared by the API and the CLI.
pub fn contacts_csv(rows: &[ContactRow]) -> String {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer
        .write_record([
            "platform",
            "account_id",
            "contact",
            "first_seen_at",
            "method",
            "campaign_id",
            "campaign",
            "link_id",
            "link_code",
            "store",
            "click_id",
            "seconds_from_click",
        ])
        .expect("writing to memory");
    for r in rows {
        let opt = |v: &Option<String>| v.clone().unwrap_or_default();
        let num = |v: Option<i64>| v.map(|n| n.to_string()).unwrap_or_default();
        writer
            .write_record([
                r.platform.clone(),
                r.account_id.to_string(),
                r.platform_user.clone(),
                r.first_seen_at
                    .format(&time::format_description::well_known::Rfc3339)
                    .unwrap_or_default(),
                r.method.clone(),
                num(r.campaign_id),
                opt(&r.campaign_name),
                num(r.link_id),
                opt(&r.link_code),
                opt(&r.store),
                opt(&r.click_id),
                num(r.seconds_from_click),
            ])
            .expect("writing to memory");
    }
    String::from_utf8(writer.into_inner().expect("flushing memory")).expect("CSV of UTF-8 is UTF-8")
}
