//! Users in the store. Addresses are unique without case (`users_email_ci`); the area
//! lower-cases them before they get here.

use sqlx::FromRow;
use time::OffsetDateTime;

use super::{Db, DbError, conflict_on_unique, on_backend};
use crate::users::{Email, Role, User};

#[derive(FromRow)]
pub(super) struct UserRow {
    pub(super) id: i64,
    pub(super) email: String,
    pub(super) role: String,
    pub(super) created_at: OffsetDateTime,
}

impl UserRow {
    pub(super) fn into_user(self) -> Result<User, DbError> {
        Ok(User {
            id: self.id,
            email: Email::parse(&self.email).map_err(|e| DbError::Corrupt(e.to_string()))?,
            role: self.role.parse().map_err(DbError::Corrupt)?,
            created_at: self.created_at,
        })
    }
}

const COLUMNS: &str = "id, email, role, created_at";

impl Db {
    /// Stores a user; an address already taken (in any case) is a conflict.
    pub async fn insert_user(
        &self,
        email: &Email,
        password_hash: &str,
        role: Role,
        now: OffsetDateTime,
    ) -> Result<User, DbError> {
        let row: UserRow = on_backend!(self, write pool => {
            sqlx::query_as(&format!(
                "INSERT INTO users (email, password_hash, role, created_at) \
                 VALUES ($1, $2, $3, $4) RETURNING {COLUMNS}"
            ))
            .bind(email.as_str())
            .bind(password_hash)
            .bind(role.as_str())
            .bind(now)
            .fetch_one(pool)
            .await
            .map_err(|e| conflict_on_unique(e, || format!("a user with the address {email} already exists")))
        })?;
        row.into_user()
    }

    /// Every user, oldest first.
    pub async fn list_users(&self) -> Result<Vec<User>, DbError> {
        let rows: Vec<UserRow> = on_backend!(self, pool => {
            sqlx::query_as(&format!("SELECT {COLUMNS} FROM users ORDER BY id"))
                .fetch_all(pool)
                .await
        })?;
        rows.into_iter().map(UserRow::into_user).collect()
    }

    /// A user by address, with their password hash (for signing in).
    pub async fn user_by_email(&self, email: &Email) -> Result<Option<(User, String)>, DbError> {
        #[derive(FromRow)]
        struct WithHash {
            #[sqlx(flatten)]
            user: UserRow,
            password_hash: String,
        }
        let row: Option<WithHash> = on_backend!(self, pool => {
            sqlx::query_as(&format!(
                "SELECT {COLUMNS}, password_hash FROM users WHERE lower(email) = lower($1)"
            ))
            .bind(email.as_str())
            .fetch_optional(pool)
            .await
        })?;
        row.map(|r| Ok((r.user.into_user()?, r.password_hash)))
            .transpose()
    }
}
