//! `POST /api/accounts`, `GET /api/accounts`.

use axum::{Json, extract::State, http::StatusCode};
use serde::Serialize;

use super::{error::ApiError, extract::ApiJson};
use crate::{
    accounts::{Account, AccountRequest, NewAccount},
    app::AppState,
    config::Config,
};

/// An account with the webhook URL to paste into the platform's console.
#[derive(Serialize)]
pub struct AccountView {
    #[serde(flatten)]
    pub account: Account,
    pub webhook_url: String,
}

impl AccountView {
    /// The view of an account under this service's public origin.
    pub fn new(account: Account, config: &Config) -> Self {
        let webhook_url = format!(
            "{}/webhooks/{}/{}",
            config.public_url.as_str().trim_end_matches('/'),
            account.platform,
            account.id
        );
        AccountView {
            account,
            webhook_url,
        }
    }
}

pub async fn create(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<AccountRequest>,
) -> Result<(StatusCode, Json<AccountView>), ApiError> {
    let account = NewAccount::parse(request).map_err(|e| ApiError::invalid(e.0))?;
    let stored = state.db.insert_account(&account).await?;
    tracing::info!(id = stored.id, platform = %stored.platform, "account created");
    Ok((
        StatusCode::CREATED,
        Json(AccountView::new(stored, &state.config)),
    ))
}

pub async fn list(State(state): State<AppState>) -> Result<Json<Vec<AccountView>>, ApiError> {
    let accounts = state.db.list_accounts().await?;
    Ok(Json(
        accounts
            .into_iter()
            .map(|a| AccountView::new(a, &state.config))
            .collect(),
    ))
}
