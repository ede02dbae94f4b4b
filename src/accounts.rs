//! Chat accounts: one presence on one platform, with the secrets its webhooks are verified
//! with. Secrets are write-only: they are stored, never returned or logged.
//!
//! An account may also carry the platform's own id for it (`external_id`: Page id, Instagram
//! professional account id, WhatsApp `phone_number_id`, LINE bot user id). One Meta app posts
//! the events of all its Pages, Instagram accounts and numbers to the single callback URL set
//! on the app, so webhook events are routed to accounts by that id ([`Routes`]).

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::{
    config::Config,
    db::{Db, DbError},
    platforms::{InvalidHandle, Platform, instagram, line, messenger, whatsapp},
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
    /// The platform's own id for the account, which routes webhook events to it.
    pub external_id: Option<String>,
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
    /// Page id, Instagram account id, WhatsApp `phone_number_id` or LINE bot user id.
    #[serde(default)]
    pub external_id: Option<String>,
    #[serde(default)]
    pub secrets: BTreeMap<String, String>,
}

/// A validated account, ready to store.
#[derive(Debug, Clone)]
pub struct NewAccount {
    pub platform: Platform,
    pub handle: String,
    pub name: Option<String>,
    pub external_id: Option<String>,
    pub secrets: AccountSecrets,
}

impl NewAccount {
    /// Validates platform, handle, external id and the platform's secret names.
    pub fn parse(request: AccountRequest) -> Result<Self, InvalidHandle> {
        let platform: Platform = request.platform.parse().map_err(InvalidHandle)?;
        let handle = platform.normalize_handle(&request.handle)?;
        let external_id = request
            .external_id
            .map(|id| normalize_external_id(platform, &id))
            .transpose()?;
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
        // A pasted secret with a newline or tab in it would never match what the platform
        // signs with; say so now rather than refuse every webhook later.
        if let Some((name, _)) = request
            .secrets
            .iter()
            .find(|(_, v)| v.chars().any(char::is_control))
        {
            return Err(InvalidHandle(format!(
                "secret `{name}` contains a control character (a newline or tab pasted with it?)"
            )));
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
            external_id,
            secrets: request
                .secrets
                .into_iter()
                .map(|(k, v)| (k, Secret::new(v)))
                .collect(),
        })
    }
}

/// Checks the platform's own id of an account and returns it as webhooks carry it. Only the
/// platforms whose webhooks name the business they were sent to take one: Telegram, Viber
/// and WeChat accounts each have a webhook URL of their own.
pub fn normalize_external_id(platform: Platform, id: &str) -> Result<String, InvalidHandle> {
    let id = id.trim();
    match platform {
        Platform::Messenger => messenger::normalize_external_id(id),
        Platform::Instagram => instagram::normalize_external_id(id),
        Platform::Whatsapp => whatsapp::normalize_external_id(id),
        Platform::Line => line::normalize_external_id(id),
        Platform::Telegram | Platform::Viber | Platform::Wechat => Err(InvalidHandle(format!(
            "external_id routes messenger, instagram, whatsapp and line webhooks; a {platform} account has a webhook URL of its own and takes none"
        ))),
    }
}

/// Which account each event of a webhook call belongs to, for one platform: the accounts of
/// that platform by external id.
///
/// The rules: an event that names no recipient (Telegram, Viber, WeChat, or a Meta body
/// without the id) belongs to the account of the URL it came to, and so does every event
/// while no account of the platform has an external id (one URL per account, as before).
/// Otherwise an event goes to the account whose external id is its recipient; a recipient
/// no account has is [`Route::Unrouted`]: recorded nowhere rather than under the wrong
/// account (its raw body is kept). The URL's account still verifies the call: all Pages
/// and numbers of one Meta app share its app secret.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Routes {
    by_external_id: HashMap<String, i64>,
}

/// Where one event goes (see [`Routes`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// Record it under this account.
    Account(i64),
    /// Its recipient is no account's: record nothing, count it.
    Unrouted,
}

impl Routes {
    /// Routes from `(external_id, account_id)` pairs of one platform.
    pub fn new(pairs: impl IntoIterator<Item = (String, i64)>) -> Self {
        Routes {
            by_external_id: pairs.into_iter().collect(),
        }
    }

    /// The account an event sent to `recipient` belongs to, when it came to the URL of
    /// `url_account`.
    pub fn route(&self, url_account: i64, recipient: Option<&str>) -> Route {
        match recipient {
            Some(recipient) if !self.by_external_id.is_empty() => self
                .by_external_id
                .get(recipient)
                .map_or(Route::Unrouted, |&account| Route::Account(account)),
            _ => Route::Account(url_account),
        }
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

/// Sets or clears the external id of an existing account (accounts created before routing
/// existed keep their id and webhook URL, and so their contacts).
pub async fn set_external_id(
    db: &Db,
    config: &Config,
    id: i64,
    external_id: Option<&str>,
) -> Result<AccountView, AccountError> {
    let account = db.account(id).await?;
    let external_id = external_id
        .map(|e| normalize_external_id(account.platform, e))
        .transpose()?;
    let stored = db
        .set_account_external_id(&account, external_id.as_deref())
        .await?;
    tracing::info!(id, platform = %stored.platform, external_id = ?stored.external_id, "account external id set");
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

/// An account as the dashboard lists it: its webhook URL and when that URL last received
/// a call, so a marketer sees a webhook that was never set up or has stopped.
#[derive(Debug)]
pub struct AccountActivity {
    pub view: AccountView,
    /// The last webhook call received at the account's URL; `None` when none ever came.
    pub last_call_at: Option<OffsetDateTime>,
}

/// Every account with its webhook URL and last webhook call.
pub async fn list_with_activity(db: &Db, config: &Config) -> Result<Vec<AccountActivity>, DbError> {
    let last_calls: HashMap<i64, Option<OffsetDateTime>> =
        db.last_webhook_calls().await?.into_iter().collect();
    Ok(list(db, config)
        .await?
        .into_iter()
        .map(|view| AccountActivity {
            last_call_at: last_calls.get(&view.account.id).copied().flatten(),
            view,
        })
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
            external_id: None,
            secrets: secrets
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    #[test]
    fn secrets_with_control_characters_are_refused() {
        let err = NewAccount::parse(request(
            "telegram",
            "CoastShopBot",
            &[("secret_token", "abc\n")],
        ))
        .unwrap_err();
        assert!(err.0.contains("control character"), "{}", err.0);
        assert!(!err.0.contains("abc"), "the secret is not repeated");
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

    fn with_external_id(platform: &str, handle: &str, id: &str) -> Result<NewAccount, String> {
        let request = AccountRequest {
            external_id: Some(id.into()),
            ..request(platform, handle, &[])
        };
        NewAccount::parse(request).map_err(|e| e.0)
    }

    #[test]
    fn external_ids_follow_the_platform() {
        let page = with_external_id("messenger", "CoastClothing", " 106712345678901 ").unwrap();
        assert_eq!(page.external_id.as_deref(), Some("106712345678901"));
        assert!(with_external_id("instagram", "coast", "17841400000000000").is_ok());
        assert!(with_external_id("whatsapp", "15551234567", "106540352242922").is_ok());
        let line = with_external_id("line", "@478eozzg", &format!("U{}", "A0".repeat(16))).unwrap();
        assert_eq!(line.external_id, Some(format!("U{}", "a0".repeat(16))));
        for (platform, handle, bad, words) in [
            ("messenger", "CoastClothing", "CoastClothing", "digits"),
            ("messenger", "CoastClothing", "", "digits"),
            ("whatsapp", "15551234567", "+15551234567", "phone_number_id"),
            ("instagram", "coast", &"1".repeat(65), "digits"),
            ("line", "@478eozzg", "@478eozzg", "destination"),
            (
                "line",
                "@478eozzg",
                &format!("U{}", "g".repeat(32)),
                "destination",
            ),
            ("telegram", "shopbot", "123", "URL of its own"),
        ] {
            let err = with_external_id(platform, handle, bad).unwrap_err();
            assert!(err.contains(words), "{platform} {bad}: {err}");
        }
        assert!(with_external_id("messenger", "CoastClothing", &"1".repeat(64)).is_ok());
    }

    #[test]
    fn events_go_to_the_account_of_their_recipient() {
        let none = Routes::default();
        assert_eq!(none.route(1, Some("106")), Route::Account(1));
        assert_eq!(none.route(1, None), Route::Account(1));
        let routes = Routes::new([("106".to_owned(), 1), ("207".to_owned(), 2)]);
        assert_eq!(routes.route(1, Some("207")), Route::Account(2));
        assert_eq!(routes.route(2, Some("106")), Route::Account(1));
        assert_eq!(routes.route(1, None), Route::Account(1));
        assert_eq!(routes.route(1, Some("999")), Route::Unrouted);
    }
}
