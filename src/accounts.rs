//! Chat accounts: one presence on one platform, with the secrets its webhooks are verified
//! with. Secrets are write-only: they are stored, never returned or logged.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::{
    config::Config,
    db::{Db, DbError},
    platforms::{InvalidHandle, Platform},
    secret::Secret,
};

/// The webhook secrets of one account, by name (`app_secret`, `verify_token`, …).
pub type AccountSecrets = BTreeMap<String, Secret>;

/// A stored chat account as the API shows it.
#[derive(Debug, Clone, Serialize)]
pub struct Account {
    pub id: i64,
    pub platform: Platform,
    pub handle: String,
    pub name: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// What `POST /api/accounts` and `chatref account create` accept.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountRequest {
    pub platform: String,
    pub handle: String,
    pub name: Option<String>,
    #[serde(default)]
    pub secrets: BTreeMap<String, String>,
}

/// A validated account, ready to store.
#[derive(Debug, Clone)]
pub struct NewAccount {
    pub platform: Platform,
    pub handle: String,
    pub name: Option<String>,
    pub secrets: AccountSecrets,
}

impl NewAccount {
    /// Validates platform, handle and the platform's secret names.
    pub fn parse(request: AccountRequest) -> Result<Self, InvalidHandle> {
        let platform: Platform = request.platform.parse().map_err(InvalidHandle)?;
        let handle = platform.normalize_handle(&request.handle)?;
        let expected = platform.secret_names();
        if let Some(unknown) = request
            .secrets
            .keys()
            .find(|k| !expected.contains(&k.as_str()))
        {
            return Err(InvalidHandle(format!(
                "unknown secret `{unknown}` for {platform}; expected {}",
                expected.join(", ")
            )));
        }
        if let Some((name, _)) = request.secrets.iter().find(|(_, v)| v.trim().is_empty()) {
            return Err(InvalidHandle(format!("secret `{name}` must not be empty")));
        }
        platform.check_secrets(&request.secrets)?;
        let name = request
            .name
            .map(|n| n.trim().to_owned())
            .filter(|n| !n.is_empty());
        if name.as_ref().is_some_and(|n| n.chars().count() > 200) {
            return Err(InvalidHandle("name must be at most 200 characters".into()));
        }
        Ok(NewAccount {
            platform,
            handle,
            name,
            secrets: request
                .secrets
                .into_iter()
                .map(|(k, v)| (k, Secret::new(v)))
                .collect(),
        })
    }
}

/// An account with the webhook URL to paste into the platform's console.
#[derive(Debug, Serialize)]
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

/// Why an account was not created.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error(transparent)]
    Invalid(#[from] InvalidHandle),
    #[error(transparent)]
    Db(#[from] DbError),
}

/// Adds a chat account.
pub async fn create(
    db: &Db,
    config: &Config,
    request: AccountRequest,
) -> Result<AccountView, AccountError> {
    let account = NewAccount::parse(request)?;
    let stored = db.insert_account(&account).await?;
    tracing::info!(id = stored.id, platform = %stored.platform, "account created");
    Ok(AccountView::new(stored, config))
}

/// Every account with its webhook URL.
pub async fn list(db: &Db, config: &Config) -> Result<Vec<AccountView>, DbError> {
    Ok(db
        .list_accounts()
        .await?
        .into_iter()
        .map(|a| AccountView::new(a, config))
        .collect())
}

/// Encodes secrets for the database's JSON column.
pub fn secrets_to_json(secrets: &AccountSecrets) -> String {
    let plain: BTreeMap<&str, &str> = secrets
        .iter()
        .map(|(k, v)| (k.as_str(), v.expose()))
        .collect();
    serde_json::to_string(&plain).expect("a string map always serialises")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(platform: &str, handle: &str, secrets: &[(&str, &str)]) -> AccountRequest {
        AccountRequest {
            platform: platform.into(),
            handle: handle.into(),
            name: None,
            secrets: secrets
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    #[test]
    fn secret_names_follow_the_platform() {
        assert!(
            NewAccount::parse(request("telegram", "shopbot", &[("secret_token", "x")])).is_ok()
        );
        let err =
            NewAccount::parse(request("telegram", "shopbot", &[("app_secret", "x")])).unwrap_err();
        assert!(err.0.contains("secret_token"), "{err}");
        assert!(
            NewAccount::parse(request("telegram", "shopbot", &[("secret_token", " ")])).is_err()
        );
    }
}
