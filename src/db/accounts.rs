//! Accounts in the store.

use std::collections::BTreeMap;

use sqlx::FromRow;
use time::OffsetDateTime;

use super::{Db, DbError, conflict_on_unique, on_backend};
use crate::{
    accounts::{Account, AccountSecrets, NewAccount, secrets_to_json},
    platforms::Platform,
    secret::Secret,
};

#[derive(FromRow)]
struct AccountRow {
    id: i64,
    platform: String,
    handle: String,
    external_id: Option<String>,
    name: Option<String>,
    created_at: OffsetDateTime,
}

impl TryFrom<AccountRow> for Account {
    type Error = DbError;
    fn try_from(row: AccountRow) -> Result<Self, DbError> {
        Ok(Account {
            id: row.id,
            platform: row.platform.parse().map_err(DbError::Corrupt)?,
            handle: row.handle,
            external_id: row.external_id,
            name: row.name,
            created_at: row.created_at,
        })
    }
}

const COLUMNS: &str = "id, platform, handle, external_id, name, created_at";

/// What a unique violation on `accounts` means: the same handle, or the same external id,
/// twice on one platform (the index on the latter is named after its column).
fn account_conflict(
    error: sqlx::Error,
    platform: Platform,
    handle: &str,
    external_id: Option<&str>,
) -> DbError {
    let on_external_id = error.as_database_error().is_some_and(|e| {
        e.message().contains("external_id")
            || e.constraint().is_some_and(|c| c.contains("external_id"))
    });
    conflict_on_unique(error, || match external_id {
        Some(external_id) if on_external_id => {
            format!("another {platform} account already has external_id `{external_id}`")
        }
        _ => format!("a {platform} account with handle `{handle}` already exists"),
    })
}

/// The `(external_id, id)` pairs of one platform's accounts, for
/// [`crate::accounts::Routes`].
pub(super) const ROUTES: &str =
    "SELECT external_id, id FROM accounts WHERE platform = $1 AND external_id IS NOT NULL";

impl Db {
    /// Stores a new account; the same handle twice on one platform is a conflict.
    pub async fn insert_account(&self, account: &NewAccount) -> Result<Account, DbError> {
        let now = super::now();
        let row: AccountRow = on_backend!(self, write pool => {
            sqlx::query_as(&format!(
                "INSERT INTO accounts (platform, handle, external_id, name, secrets, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) RETURNING {COLUMNS}"
            ))
            .bind(account.platform.as_str())
            .bind(&account.handle)
            .bind(&account.external_id)
            .bind(&account.name)
            .bind(secrets_to_json(&account.secrets))
            .bind(now)
            .fetch_one(pool)
            .await
        })
        .map_err(|e| {
            account_conflict(
                e,
                account.platform,
                &account.handle,
                account.external_id.as_deref(),
            )
        })?;
        row.try_into()
    }

    /// Sets (or clears, with `None`) an account's external id; another account of the
    /// platform with the same id is a conflict.
    pub async fn set_account_external_id(
        &self,
        account: &Account,
        external_id: Option<&str>,
    ) -> Result<Account, DbError> {
        let row: Option<AccountRow> = on_backend!(self, write pool => {
            sqlx::query_as(&format!(
                "UPDATE accounts SET external_id = $1 WHERE id = $2 RETURNING {COLUMNS}"
            ))
            .bind(external_id)
            .bind(account.id)
            .fetch_optional(pool)
            .await
        })
        .map_err(|e| account_conflict(e, account.platform, &account.handle, external_id))?;
        Account::try_from(row.ok_or(DbError::NotFound("account", account.id))?)
    }

    /// Every account, oldest first.
    pub async fn list_accounts(&self) -> Result<Vec<Account>, DbError> {
        let rows: Vec<AccountRow> = on_backend!(self, pool => {
            sqlx::query_as(&format!("SELECT {COLUMNS} FROM accounts ORDER BY id"))
                .fetch_all(pool)
                .await
        })?;
        rows.into_iter().map(Account::try_from).collect()
    }

    /// Every account's id with when its webhook URL last received a call (`None`: never),
    /// by the newest stored call (ids grow with arrival).
    pub async fn last_webhook_calls(&self) -> Result<Vec<(i64, Option<OffsetDateTime>)>, DbError> {
        Ok(on_backend!(self, pool => {
            sqlx::query_as(
                "SELECT a.id, (SELECT e.received_at FROM webhook_events e WHERE e.account_id = a.id \
                 ORDER BY e.id DESC LIMIT 1) AS received_at FROM accounts a ORDER BY a.id",
            )
            .fetch_all(pool)
            .await
        })?)
    }

    /// One account by id; [`DbError::NotFound`] when there is none.
    pub async fn account(&self, id: i64) -> Result<Account, DbError> {
        let row: Option<AccountRow> = on_backend!(self, pool => {
            sqlx::query_as(&format!("SELECT {COLUMNS} FROM accounts WHERE id = $1"))
                .bind(id)
                .fetch_optional(pool)
                .await
        })?;
        Account::try_from(row.ok_or(DbError::NotFound("account", id))?)
    }

    /// What verifying an account's webhooks needs, in one query: its platform and its
    /// secrets (never for the API).
    pub async fn webhook_account(
        &self,
        id: i64,
    ) -> Result<Option<(Platform, AccountSecrets)>, DbError> {
        let row: Option<(String, String)> = on_backend!(self, pool => {
            sqlx::query_as("SELECT platform, secrets FROM accounts WHERE id = $1")
                .bind(id)
                .fetch_optional(pool)
                .await
        })?;
        row.map(|(platform, text)| {
            let platform: Platform = platform.parse().map_err(DbError::Corrupt)?;
            let secrets = serde_json::from_str::<BTreeMap<String, String>>(&text)
                .map(|map| map.into_iter().map(|(k, v)| (k, Secret::new(v))).collect())
                .map_err(|e| DbError::Corrupt(format!("account {id} secrets: {e}")))?;
            Ok((platform, secrets))
        })
        .transpose()
    }
}
