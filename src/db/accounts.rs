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
            name: row.name,
            created_at: row.created_at,
        })
    }
}

const COLUMNS: &str = "id, platform, handle, name, created_at";

impl Db {
    /// Stores a new account; the same handle twice on one platform is a conflict.
    pub async fn insert_account(&self, account: &NewAccount) -> Result<Account, DbError> {
        let now = super::now();
        let row: AccountRow = on_backend!(self, write pool => {
            sqlx::query_as(&format!(
                "INSERT INTO accounts (platform, handle, name, secrets, created_at) \
                 VALUES ($1, $2, $3, $4, $5) RETURNING {COLUMNS}"
            ))
            .bind(account.platform.as_str())
            .bind(&account.handle)
            .bind(&account.name)
            .bind(secrets_to_json(&account.secrets))
            .bind(now)
            .fetch_one(pool)
            .await
        })
        .map_err(|e| {
            conflict_on_unique(e, || {
                format!(
                    "a {} account with handle `{}` already exists",
                    account.platform, account.handle
                )
            })
        })?;
        row.try_into()
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
