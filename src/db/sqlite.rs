//! SQLite set-up for a server: WAL, `synchronous = NORMAL`, a busy timeout, foreign keys, one
//! writer connection and a read-only pool (DEPENDENCIES.md, Storage).

use std::{str::FromStr, time::Duration};

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use super::{Db, DbError};

pub(super) async fn connect(url: &str) -> Result<Db, DbError> {
    let options = SqliteConnectOptions::from_str(url)?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(Duration::from_secs(5))
        .foreign_keys(true);
    let open_error = |error: sqlx::Error| DbError::Open {
        target: options.get_filename().display().to_string(),
        cause: error.to_string(),
    };
    let write = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options.clone())
        .await
        .map_err(open_error)?;
    let read = SqlitePoolOptions::new()
        .max_connections(4)
        .connect_with(options.clone().read_only(true))
        .await
        .map_err(open_error)?;
    Ok(Db::Sqlite { write, read })
}
