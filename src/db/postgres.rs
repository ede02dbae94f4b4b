//! PostgreSQL set-up: one pool for reads and writes; the server handles concurrent writers.

use std::time::Duration;

use sqlx::{
    Connection,
    postgres::{PgConnectOptions, PgConnection, PgPoolOptions},
};

use super::{Db, DbError};

/// Longest wait for the server at start-up.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

pub(super) async fn connect(url: &str) -> Result<Db, DbError> {
    let options: PgConnectOptions = url.parse()?;
    let target = format!("{}:{}", options.get_host(), options.get_port());
    let open_error = |cause: String| DbError::Open {
        target: target.clone(),
        cause,
    };
    // One plain connection first: a pool that cannot connect only reports that it timed
    // out, while the connection says why (refused, unknown host, bad password, no database).
    match tokio::time::timeout(CONNECT_TIMEOUT, PgConnection::connect_with(&options)).await {
        Ok(Ok(connection)) => {
            let _ = connection.close().await;
        }
        Ok(Err(error)) => return Err(open_error(error.to_string())),
        Err(_) => {
            return Err(open_error(format!(
                "no answer within {} s",
                CONNECT_TIMEOUT.as_secs()
            )));
        }
    }
    let pool = PgPoolOptions::new()
        .max_connections(16)
        .acquire_timeout(CONNECT_TIMEOUT)
        .connect_with(options)
        .await
        .map_err(|error| open_error(error.to_string()))?;
    Ok(Db::Postgres(pool))
}
