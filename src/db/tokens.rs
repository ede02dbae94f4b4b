//! API tokens in the store: looked up by the SHA-256 of the presented token.

use sqlx::FromRow;
use time::OffsetDateTime;

use super::{Db, DbError, on_backend, users::UserRow};
use crate::users::{Email, User, tokens::ApiToken};

#[derive(FromRow)]
struct TokenRow {
    id: i64,
    user_id: i64,
    user_email: String,
    name: String,
    role: String,
    created_at: OffsetDateTime,
    last_used_at: Option<OffsetDateTime>,
    revoked_at: Option<OffsetDateTime>,
}

impl TokenRow {
    fn into_token(self) -> Result<ApiToken, DbError> {
        Ok(ApiToken {
            id: self.id,
            user_id: self.user_id,
            user_email: Email::parse(&self.user_email)
                .map_err(|e| DbError::Corrupt(e.to_string()))?,
            name: self.name,
            role: self.role.parse().map_err(DbError::Corrupt)?,
            created_at: self.created_at,
            last_used_at: self.last_used_at,
            revoked_at: self.revoked_at,
        })
    }
}

const SELECT: &str = "SELECT t.id, t.user_id, u.email AS user_email, t.name, t.role, \
     t.created_at, t.last_used_at, t.revoked_at FROM api_tokens t JOIN users u ON u.id = t.user_id";

impl Db {
    /// Stores a token of `owner` by its hash.
    pub async fn insert_token(
        &self,
        owner: &User,
        name: &str,
        role: crate::users::Role,
        token_hash: &str,
        now: OffsetDateTime,
    ) -> Result<ApiToken, DbError> {
        let id: i64 = on_backend!(self, write pool => {
            sqlx::query_scalar(
                "INSERT INTO api_tokens (user_id, name, role, token_hash, created_at) \
                 VALUES ($1, $2, $3, $4, $5) RETURNING id",
            )
            .bind(owner.id)
            .bind(name)
            .bind(role.as_str())
            .bind(token_hash)
            .bind(now)
            .fetch_one(pool)
            .await
        })?;
        self.token(id).await?.ok_or(DbError::NotFound("token", id))
    }

    /// Tokens of one user, or of everyone; newest first.
    pub async fn list_tokens(&self, user_id: Option<i64>) -> Result<Vec<ApiToken>, DbError> {
        let rows: Vec<TokenRow> = on_backend!(self, pool => {
            sqlx::query_as(&format!(
                "{SELECT} WHERE $1 IS NULL OR t.user_id = $1 ORDER BY t.id DESC"
            ))
            .bind(user_id)
            .fetch_all(pool)
            .await
        })?;
        rows.into_iter().map(TokenRow::into_token).collect()
    }

    /// One token by id.
    pub async fn token(&self, id: i64) -> Result<Option<ApiToken>, DbError> {
        let row: Option<TokenRow> = on_backend!(self, pool => {
            sqlx::query_as(&format!("{SELECT} WHERE t.id = $1"))
                .bind(id)
                .fetch_optional(pool)
                .await
        })?;
        row.map(TokenRow::into_token).transpose()
    }

    /// The token stored with this hash, and its user.
    pub async fn token_by_hash(
        &self,
        token_hash: &str,
    ) -> Result<Option<(ApiToken, User)>, DbError> {
        #[derive(FromRow)]
        struct Found {
            #[sqlx(flatten)]
            token: TokenRow,
            user_role: String,
            user_created_at: OffsetDateTime,
        }
        let row: Option<Found> = on_backend!(self, pool => {
            sqlx::query_as(
                "SELECT t.id, t.user_id, u.email AS user_email, t.name, t.role, t.created_at, \
                 t.last_used_at, t.revoked_at, u.role AS user_role, u.created_at AS user_created_at \
                 FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = $1",
            )
            .bind(token_hash)
            .fetch_optional(pool)
            .await
        })?;
        let Some(found) = row else { return Ok(None) };
        let user = UserRow {
            id: found.token.user_id,
            email: found.token.user_email.clone(),
            role: found.user_role,
            created_at: found.user_created_at,
        }
        .into_user()?;
        Ok(Some((found.token.into_token()?, user)))
    }

    /// Records a use of the token.
    pub async fn touch_token(&self, id: i64, now: OffsetDateTime) -> Result<(), DbError> {
        on_backend!(self, write pool => {
            sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
                .bind(now)
                .bind(id)
                .execute(pool)
                .await
            .map(|_| ())
        })?;
        Ok(())
    }

    /// Revokes the token (keeping the first revocation time when already revoked).
    pub async fn revoke_token(&self, id: i64, now: OffsetDateTime) -> Result<(), DbError> {
        on_backend!(self, write pool => {
            sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
                .bind(now)
                .bind(id)
                .execute(pool)
                .await
            .map(|_| ())
        })?;
        Ok(())
    }
}
