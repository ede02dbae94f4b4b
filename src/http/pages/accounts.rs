//! `GET /accounts`: every chat account with the webhook URL to paste into its platform, a
//! short set-up checklist per platform, and when the URL last received a call, so a
//! marketer notices a webhook that was never set up or has stopped.

use askama::Template;
use axum::{extract::State, http::StatusCode, response::Response};
use time::OffsetDateTime;

use super::{CurrentUser, Layout, PageError, render};
use crate::{accounts, app::AppState, platforms::Platform};

/// What the page shows for one account.
pub struct AccountLine {
    pub id: i64,
    /// The platform's stored name (`telegram`), which picks the checklist.
    pub platform: &'static str,
    pub platform_name: &'static str,
    pub handle: String,
    pub name: Option<String>,
    pub external_id: Option<String>,
    pub webhook_url: String,
    pub secret_names: &'static [&'static str],
    /// When the webhook URL last received a call (UTC), or `None` for never.
    pub last_call: Option<String>,
}

#[derive(Template)]
#[template(path = "accounts.html")]
struct AccountsPage {
    layout: Layout,
    accounts: Vec<AccountLine>,
}

super::layout_fields!(AccountsPage);

/// A time as the page shows it: `2026-12-02 16:40 UTC`.
pub fn utc_minute(at: OffsetDateTime) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    format!("{} {:02}:{:02} UTC", at.date(), at.hour(), at.minute())
}

/// How a platform's name reads on a page.
fn platform_name(platform: Platform) -> &'static str {
    match platform {
        Platform::Messenger => "Messenger",
        Platform::Instagram => "Instagram",
        Platform::Whatsapp => "WhatsApp",
        Platform::Telegram => "Telegram",
        Platform::Viber => "Viber",
        Platform::Line => "LINE",
        Platform::Wechat => "WeChat",
    }
}

/// `GET /accounts`.
pub async fn list(
    State(state): State<AppState>,
    current: CurrentUser,
) -> Result<Response, PageError> {
    let accounts = accounts::list_with_activity(&state.db, &state.config)
        .await?
        .into_iter()
        .map(|entry| {
            let account = entry.view.account;
            AccountLine {
                id: account.id,
                platform: account.platform.as_str(),
                platform_name: platform_name(account.platform),
                secret_names: account.platform.secret_names(),
                handle: account.handle,
                name: account.name,
                external_id: account.external_id,
                webhook_url: entry.view.webhook_url,
                last_call: entry.last_call_at.map(utc_minute),
            }
        })
        .collect();
    Ok(render(
        StatusCode::OK,
        &AccountsPage {
            layout: Layout::new(Some(&current)),
            accounts,
        },
    ))
}
