//! Browser sessions and sign-in failures in the store.

use sqlx::FromRow;
use time::OffsetDateTime;

use super::{Db, DbError, on_backend, users::UserRow};
use crate::{
    secret::Secret,
    users::sessions::{CLEANUP_BATCH, Session},
};

impl Db {
    /// Stores a new session by the hash of its id, after deleting a batch of expired ones.
    pub async fn insert_session(
        &self,
        id_hash: &str,
        session: &Session,
        now: OffsetDateTime,
    ) -> Result<(), DbError> {
        on_backend!(self, write pool => {
            let mut tx = pool.begin().await?;
            sqlx::query(
                "DELETE FROM sessions WHERE id_hash IN \
                 (SELECT id_hash FROM sessions WHERE expires_at <= $1 LIMIT $2)",
            )
            .bind(now)
            .bind(CLEANUP_BATCH)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO sessions (id_hash, user_id, csrf_token, created_at, expires_at) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(id_hash)
            .bind(session.user.id)
            .bind(session.csrf_token.expose())
            .bind(now)
            .bind(session.expires_at)
            .execute(&mut *tx)
            .await?;
            tx.commit().await
        })?;
        Ok(())
    }

    /// The session stored under this id hash, expired or not, with its user.
    pub async fn session(&self, id_hash: &str) -> Result<Option<Session>, DbError> {
        #[derive(FromRow)]
        struct Found {
            #[sqlx(flatten)]
            user: UserRow,
            csrf_token: String,
            expires_at: OffsetDateTime,
        }
        let row: Option<Found> = on_backend!(self, pool => {
            sqlx::query_as(
                "SELECT u.id, u.email, u.role, u.created_at, s.csrf_token, s.expires_at \
                 FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id_hash = $1",
            )
            .bind(id_hash)
            .fetch_optional(pool)
            .await
        })?;
        row.map(|r| {
            Ok(Session {
                user: r.user.into_user()?,
                csrf_token: Secret::new(r.csrf_token),
                expires_at: r.expires_at,
            })
        })
        .transpose()
    }

    /// Deletes a session (signing out); a missing one is not an error.
    pub async fn delete_session(&self, id_hash: &str) -> Result<(), DbError> {
        on_backend!(self, write pool => {
            sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
                .bind(id_hash)
                .execute(pool)
                .await
            .map(|_| ())
        })?;
        Ok(())
    }

    /// The newest `limit` failure times of `key` after `since`, newest first.
    pub async fn sign_in_failures(
        &self,
        key: &str,
        since: OffsetDateTime,
        limit: usize,
    ) -> Result<Vec<OffsetDateTime>, DbError> {
        let times = on_backend!(self, pool => {
            sqlx::query_scalar(
                "SELECT at FROM sign_in_failures WHERE key = $1 AND at > $2 \
                 ORDER BY at DESC LIMIT $3",
            )
            .bind(key)
            .bind(since)
            .bind(limit as i64)
            .fetch_all(pool)
            .await
        })?;
        Ok(times)
    }

    /// Records one failure at `now` under each key, after deleting a batch of failures from
    /// before `forget_before` (they no longer count).
    pub async fn record_sign_in_failure(
        &self,
        keys: &[&str],
        now: OffsetDateTime,
        forget_before: OffsetDateTime,
    ) -> Result<(), DbError> {
        on_backend!(self, write pool => {
            let mut tx = pool.begin().await?;
            // No row id to pick a batch by, so the oldest rows go by their time: a batch may
            // take a few more rows than CLEANUP_BATCH when times tie, which does no harm.
            sqlx::query(
                "DELETE FROM sign_in_failures WHERE at < $1 AND at <= \
                 (SELECT MAX(at) FROM (SELECT at FROM sign_in_failures WHERE at < $1 \
                  ORDER BY at LIMIT $2) oldest)",
            )
            .bind(forget_before)
            .bind(CLEANUP_BATCH)
            .execute(&mut *tx)
            .await?;
            for key in keys {
                sqlx::query("INSERT INTO sign_in_failures (key, at) VALUES ($1, $2)")
                    .bind(key)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await
        })?;
        Ok(())
    }

    /// Forgets the failures of `key` (after a successful sign-in).
    pub async fn clear_sign_in_failures(&self, key: &str) -> Result<(), DbError> {
        on_backend!(self, write pool => {
            sqlx::query("DELETE FROM sign_in_failures WHERE key = $1")
                .bind(key)
                .execute(pool)
                .await
            .map(|_| ())
        })?;
        Ok(())
    }
}
