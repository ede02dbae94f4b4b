//! Pruning raw webhook payloads that created nothing (the rules are in
//! [`crate::retention`]); both queries filter on the `webhook_events_prunable` index.

use time::OffsetDateTime;

use super::{Db, DbError, on_backend};

impl Db {
    /// How many payloads that created nothing were received before `before`.
    pub async fn count_prunable_payloads(&self, before: OffsetDateTime) -> Result<u64, DbError> {
        let count: i64 = on_backend!(self, pool => {
            sqlx::query_scalar(
                "SELECT COUNT(*) FROM webhook_events WHERE outcome = 'nothing' AND received_at < $1",
            )
            .bind(before)
            .fetch_one(pool)
            .await
        })?;
        Ok(count as u64)
    }

    /// Deletes at most `limit` payloads that created nothing and were received before
    /// `before`, oldest first, in one statement; returns how many.
    pub async fn prune_payloads(&self, before: OffsetDateTime, limit: i64) -> Result<u64, DbError> {
        let done = on_backend!(self, write pool => {
            sqlx::query(
                "DELETE FROM webhook_events WHERE id IN \
                 (SELECT id FROM webhook_events WHERE outcome = 'nothing' AND received_at < $1 \
                  ORDER BY received_at LIMIT $2)",
            )
            .bind(before)
            .bind(limit)
            .execute(pool)
            .await
            .map(|done| done.rows_affected())
        })?;
        Ok(done)
    }
}
