//! The replay guard for webhooks whose signature leaves the body out (WeChat plain mode): each
//! signed `(timestamp, nonce)` of an account is remembered with the hash of its body, in the
//! database so every instance sharing it sees the same claims.

use sha2::{Digest, Sha256};

use super::{Db, DbError, on_backend};

/// Expired pairs deleted per claim: enough to keep up with arrivals (each claim adds one row),
/// small enough that a claim never waits on a long delete.
const CLEANUP_BATCH: i64 = 100;

/// What claiming a `(timestamp, nonce)` found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NonceClaim {
    /// Not seen before: now remembered with this body.
    New,
    /// Seen with the same body: a redelivery, which the inbox dedupes.
    SameBody,
    /// Seen with another body: a replay of the signed query with a forged body.
    OtherBody,
}

impl Db {
    /// Claims `(account_id, timestamp, nonce)` for `body`, atomically on either backend
    /// (concurrent claims of one pair see one winner), after deleting up to
    /// [`CLEANUP_BATCH`] pairs whose `timestamp` is before `forget_before` (Unix seconds):
    /// requests carrying those no longer pass the clock check.
    pub async fn claim_webhook_nonce(
        &self,
        account_id: i64,
        timestamp: i64,
        nonce: &str,
        body: &[u8],
        forget_before: i64,
    ) -> Result<NonceClaim, DbError> {
        let body_sha256 = hex::encode(Sha256::digest(body));
        // Housekeeping only: a failure here must not refuse the webhook.
        let cleanup = on_backend!(self, write pool => {
            sqlx::query(
                "DELETE FROM webhook_nonces WHERE (account_id, sent_at, nonce) IN \
                 (SELECT account_id, sent_at, nonce FROM webhook_nonces WHERE sent_at < $1 \
                  ORDER BY sent_at LIMIT $2)",
            )
            .bind(forget_before)
            .bind(CLEANUP_BATCH)
            .execute(pool)
            .await
            .map(|_| ())
        });
        if let Err(error) = cleanup {
            tracing::warn!(%error, "could not delete expired webhook nonces");
        }

        let claim = on_backend!(self, write pool => {
            // The insert either claims the pair or, when another request holds it, waits for
            // that one to commit and does nothing; the select then reads the winner's hash.
            let mut tx = pool.begin().await?;
            let inserted = sqlx::query(
                "INSERT INTO webhook_nonces (account_id, sent_at, nonce, body_sha256) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (account_id, sent_at, nonce) DO NOTHING",
            )
            .bind(account_id)
            .bind(timestamp)
            .bind(nonce)
            .bind(&body_sha256)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            let claim = if inserted == 1 {
                NonceClaim::New
            } else {
                let stored: Option<String> = sqlx::query_scalar(
                    "SELECT body_sha256 FROM webhook_nonces \
                     WHERE account_id = $1 AND sent_at = $2 AND nonce = $3",
                )
                .bind(account_id)
                .bind(timestamp)
                .bind(nonce)
                .fetch_optional(&mut *tx)
                .await?;
                // A pair that conflicted but is gone was just deleted as expired: refuse it
                // rather than guess.
                match stored {
                    Some(hash) if hash == body_sha256 => NonceClaim::SameBody,
                    _ => NonceClaim::OtherBody,
                }
            };
            tx.commit().await?;
            Ok::<_, sqlx::Error>(claim)
        })?;
        Ok(claim)
    }
}
