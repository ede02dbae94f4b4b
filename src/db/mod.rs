//! The storage contract: product operations over SQLite (embedded default) or PostgreSQL
//! (production), chosen once from the database URL.
//!
//! [`Db`] is an enum over the two pools. Methods are written once: the [`on_backend!`]
//! macro stamps the same body into a match arm per backend, so SQL text both dialects accept
//! (`$1` placeholders, `ON CONFLICT`, `RETURNING`) is shared and each arm is type-checked
//! against its own driver. What really differs (connection set-up, DDL) lives in
//! `sqlite.rs`, `postgres.rs` and `migrations/<backend>/`.

mod accounts;
mod campaigns;
mod clicks;
mod conversions;
mod links;
mod nonces;
mod page_events;
mod postgres;
pub mod reports;
mod retention;
mod sessions;
mod settings;
mod spend;
mod sqlite;
mod stores;
mod tokens;
mod users;
mod webhooks;

use sqlx::{PgPool, SqlitePool};

pub use clicks::{ClickCounts, ClickRecord};
pub use conversions::ConversionSource;
pub use nonces::NonceClaim;
pub use stores::StoreStats;
pub use webhooks::{
    ClueEvent, ContactRow, IngestSummary, LeadCounts, ReplayPayload, ReplaySummary, StoredPayload,
    WebhookCall,
};

/// A storage failure. Each message carries its cause in its own text (no `source()`
/// chain), so a caller printing the whole chain shows the cause once.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("database error: {0}")]
    Database(sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(sqlx::migrate::MigrateError),
    /// The database could not be opened at start-up: `target` names the server's host and
    /// port or the SQLite file, `cause` is what the driver said.
    #[error("cannot open the database at {target}: {cause}")]
    Open { target: String, cause: String },
    /// The campaign, link or account asked for by id does not exist.
    #[error("{0} {1} does not exist")]
    NotFound(&'static str, i64),
    /// A uniqueness rule of the product was hit (same handle, store name, ad id).
    #[error("{0}")]
    Conflict(String),
    /// The task that writes for this caller has stopped (the service is shutting down).
    #[error("the {0} has stopped")]
    Stopped(&'static str),
    /// A stored value no longer parses (written by a newer version, or edited by hand).
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
}

/// The store: one SQLite writer plus read pool, or one PostgreSQL pool.
#[derive(Debug, Clone)]
pub enum Db {
    /// SQLite allows one writer at a time; every write goes through the single-connection
    /// `write` pool so WAL never returns `SQLITE_BUSY_SNAPSHOT`, reads use `read`.
    Sqlite {
        write: SqlitePool,
        read: SqlitePool,
    },
    Postgres(PgPool),
}

/// Runs `$body` with `$pool` bound to the backend's read pool (or write pool with `write`).
macro_rules! on_backend {
    ($store:expr, write $pool:ident => $body:expr) => {
        match $store {
            $crate::db::Db::Sqlite { write: $pool, .. } => $body,
            $crate::db::Db::Postgres($pool) => $body,
        }
    };
    ($store:expr, $pool:ident => $body:expr) => {
        match $store {
            $crate::db::Db::Sqlite { read: $pool, .. } => $body,
            $crate::db::Db::Postgres($pool) => $body,
        }
    };
}
pub(crate) use on_backend;

impl Db {
    /// Opens the database named by `url` (`sqlite://path` is created if missing).
    pub async fn connect(url: &str) -> Result<Self, DbError> {
        if url.starts_with("sqlite:") {
            sqlite::connect(url).await
        } else {
            postgres::connect(url).await
        }
    }

    /// Applies pending migrations of this backend.
    pub async fn migrate(&self) -> Result<(), DbError> {
        match self {
            Db::Sqlite { write, .. } => sqlx::migrate!("migrations/sqlite").run(write).await?,
            Db::Postgres(pool) => sqlx::migrate!("migrations/postgres").run(pool).await?,
        }
        Ok(())
    }

    /// `sqlite` or `postgres`, for logs and the health check.
    pub fn backend(&self) -> &'static str {
        match self {
            Db::Sqlite { .. } => "sqlite",
            Db::Postgres(_) => "postgres",
        }
    }

    /// Checks the database answers.
    pub async fn ping(&self) -> Result<(), DbError> {
        on_backend!(self, pool => sqlx::query("SELECT 1").execute(pool).await.map(|_| ()))?;
        Ok(())
    }

    /// Closes every connection (after the click writer has flushed).
    pub async fn close(&self) {
        match self {
            Db::Sqlite { write, read } => {
                read.close().await;
                write.close().await;
            }
            Db::Postgres(pool) => pool.close().await,
        }
    }
}

impl From<sqlx::Error> for DbError {
    fn from(error: sqlx::Error) -> Self {
        DbError::Database(error)
    }
}

impl From<sqlx::migrate::MigrateError> for DbError {
    fn from(error: sqlx::migrate::MigrateError) -> Self {
        DbError::Migrate(error)
    }
}

impl DbError {
    /// Whether the database could not be reached (retrying later may work), as opposed to
    /// refusing the request itself.
    pub fn is_unavailable(&self) -> bool {
        match self {
            DbError::Database(e) => {
                matches!(
                    e,
                    sqlx::Error::Io(_)
                        | sqlx::Error::Tls(_)
                        | sqlx::Error::PoolTimedOut
                        | sqlx::Error::PoolClosed
                        | sqlx::Error::WorkerCrashed
                ) || e.as_database_error().is_some_and(|d| {
                    // SQLite busy/locked, PostgreSQL admin shutdown, cannot connect now, too many connections.
                    matches!(
                        d.code().as_deref(),
                        Some("5" | "6" | "57P01" | "57P03" | "53300")
                    )
                })
            }
            DbError::Stopped(_) | DbError::Open { .. } => true,
            _ => false,
        }
    }
}

/// The current time at microsecond precision, the finest both databases keep, so every
/// stored time reads back exactly as it was written on either backend.
pub fn now() -> time::OffsetDateTime {
    let now = time::OffsetDateTime::now_utc();
    now.replace_nanosecond(now.nanosecond() / 1_000 * 1_000)
        .expect("a truncated nanosecond is in range")
}

/// Maps a unique-constraint violation to a product conflict with `message`.
pub(crate) fn conflict_on_unique(error: sqlx::Error, message: impl FnOnce() -> String) -> DbError {
    match &error {
        sqlx::Error::Database(db) if db.is_unique_violation() => DbError::Conflict(message()),
        _ => DbError::Database(error),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    fn names(dir: &str) -> BTreeSet<String> {
        std::fs::read_dir(format!("{}/migrations/{dir}", env!("CARGO_MANIFEST_DIR")))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect()
    }

    #[test]
    fn both_backends_have_the_same_migrations() {
        assert_eq!(names("sqlite"), names("postgres"));
        assert!(!names("sqlite").is_empty());
    }
}
