//! Service-wide settings kept in the database, such as the generated ref-tag secret.

use rand::{Rng, distr::Alphanumeric};

use super::{Db, DbError, on_backend};
use crate::secret::Secret;

impl Db {
    /// The ref-tag secret: `configured` when given, otherwise the one generated on first start
    /// and kept in the database, so tags stay valid across restarts and instances.
    pub async fn service_secret(&self, configured: Option<&Secret>) -> Result<Secret, DbError> {
        if let Some(secret) = configured {
            return Ok(secret.clone());
        }
        let fresh: String = rand::rng()
            .sample_iter(Alphanumeric)
            .take(48)
            .map(char::from)
            .collect();
        on_backend!(self, write pool => {
            sqlx::query("INSERT INTO settings (key, value) VALUES ('secret', $1) ON CONFLICT (key) DO NOTHING")
                .bind(&fresh)
                .execute(pool)
                .await?;
            let value: String = sqlx::query_scalar("SELECT value FROM settings WHERE key = 'secret'")
                .fetch_one(pool)
                .await?;
            Ok(Secret::new(value))
        })
    }
}
