//! `GET /contacts`: who started chats, newest first, a page at a time, with the campaign,
//! link, store and attribution method that brought them and the time from click to first
//! message; optionally one campaign's. The export is the API's CSV (`/contacts.csv`).

use askama::Template;
use axum::{
    extract::{Query, State},
    http::StatusCode,
    response::Response,
};
use serde::Deserialize;

use super::{CurrentUser, Layout, PageError, accounts::utc_minute, render};
use crate::{app::AppState, campaigns::Campaign, contacts, reports::html::duration};

/// Contacts per page of the dashboard.
pub const PAGE: i64 = 50;

/// What the page shows for one contact.
pub struct ContactLine {
    pub first_seen: String,
    pub platform: String,
    pub contact: String,
    pub campaign_id: Option<i64>,
    pub campaign: Option<String>,
    pub store: Option<String>,
    pub link_code: Option<String>,
    pub method: String,
    pub from_click: Option<String>,
}

#[derive(Template)]
#[template(path = "contacts.html")]
struct ContactsPage {
    layout: Layout,
    campaigns: Vec<Campaign>,
    campaign: Option<i64>,
    rows: Vec<ContactLine>,
    first_page: bool,
    next: Option<String>,
    csv_url: String,
}

super::layout_fields!(ContactsPage);

impl ContactsPage {
    fn is_chosen(&self, id: &i64) -> bool {
        self.campaign == Some(*id)
    }
}

/// `?campaign=ID&before=CONTACT_ID`: one campaign's contacts, and where the page starts.
#[derive(Debug, Deserialize)]
pub struct ContactsQuery {
    campaign: Option<String>,
    before: Option<i64>,
}

/// `GET /contacts`.
pub async fn list(
    State(state): State<AppState>,
    current: CurrentUser,
    Query(query): Query<ContactsQuery>,
) -> Result<Response, PageError> {
    // The filter form sends an empty value for "every campaign".
    let campaign = query
        .campaign
        .as_deref()
        .and_then(|c| c.trim().parse::<i64>().ok());
    let rows = contacts::page(&state.db, campaign, query.before, PAGE).await?;
    let filter = campaign
        .map(|c| format!("campaign={c}"))
        .unwrap_or_default();
    let next = match rows.last() {
        Some(last) if rows.len() as i64 == PAGE => Some(format!(
            "/contacts?before={}{}{filter}",
            last.id,
            if filter.is_empty() { "" } else { "&" }
        )),
        _ => None,
    };
    let csv_url = if filter.is_empty() {
        "/contacts.csv".to_owned()
    } else {
        format!("/contacts.csv?{filter}")
    };
    let rows = rows
        .into_iter()
        .map(|row| ContactLine {
            first_seen: utc_minute(row.first_seen_at),
            platform: row.platform,
            contact: row.platform_user,
            campaign_id: row.campaign_id,
            campaign: row.campaign_name,
            store: row.store,
            link_code: row.link_code,
            method: row.method,
            from_click: row.seconds_from_click.map(duration),
        })
        .collect();
    Ok(render(
        StatusCode::OK,
        &ContactsPage {
            layout: Layout::new(Some(&current)),
            campaigns: state.db.list_campaigns().await?,
            campaign,
            rows,
            first_page: query.before.is_none(),
            next,
            csv_url,
        },
    ))
}
