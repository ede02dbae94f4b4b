//! PostgreSQL set-up: one pool for reads and writes; the server handles concurrent writers.

use std::time::Duration;

use sqlx::postgres::PgPoolOptions;

use super::{Db, DbError};

pub(super) async fn connect(url: &str) -> Result<Db, DbError> {
    let pool = PgPoolOptions::new()
        .max_connections(16)
        .acquire_timeout(Duration::from_secs(10))
        .connect(url)
        .await?;
    Ok(Db::Postgres(pool))
}
