//! Spend rows and campaigns' external ids.

use std::collections::HashMap;

use sqlx::{FromRow, QueryBuilder};
use time::{Date, OffsetDateTime};

use super::{Db, DbError, conflict_on_unique, on_backend};
use crate::{money::Money, spend::SpendEntry};

#[derive(FromRow)]
struct SpendRow {
    campaign_id: i64,
    day: Date,
    source: String,
    amount_micros: i64,
    impressions: Option<i64>,
    clicks: Option<i64>,
    updated_at: OffsetDateTime,
}

/// Rows per spend INSERT: 7 parameters each, far below both databases' limits.
const SPEND_ROWS_PER_STATEMENT: usize = 500;

impl Db {
    /// Writes spend entries in one transaction, replacing the same campaign, day and source
    /// (when a key repeats, the last entry wins, as if written one by one). Multi-row
    /// statements of [`SPEND_ROWS_PER_STATEMENT`] rows: one statement per row made a
    /// 90,000-row import take 11–23 s.
    pub async fn upsert_spend(&self, entries: &[SpendEntry]) -> Result<(), DbError> {
        // A statement may not update the same row twice (PostgreSQL refuses it): keep the
        // last entry of each key, in first-seen order.
        let mut last_of_key = HashMap::new();
        for (index, entry) in entries.iter().enumerate() {
            last_of_key.insert(
                (entry.campaign_id, entry.date, entry.source.as_str()),
                index,
            );
        }
        let mut kept: Vec<usize> = last_of_key.into_values().collect();
        kept.sort_unstable();
        let unique: Vec<&SpendEntry> = kept.into_iter().map(|i| &entries[i]).collect();
        on_backend!(self, write pool => {
            let mut tx = pool.begin().await?;
            for chunk in unique.chunks(SPEND_ROWS_PER_STATEMENT) {
                let mut builder = QueryBuilder::new(
                    "INSERT INTO spend (campaign_id, day, source, amount_micros, impressions, clicks, updated_at) ",
                );
                builder.push_values(chunk, |mut row, entry| {
                    row.push_bind(entry.campaign_id)
                        .push_bind(entry.date)
                        .push_bind(&entry.source)
                        .push_bind(entry.amount.micros())
                        .push_bind(entry.impressions)
                        .push_bind(entry.clicks)
                        .push_bind(entry.updated_at);
                });
                builder.push(
                    " ON CONFLICT (campaign_id, day, source) DO UPDATE SET amount_micros = excluded.amount_micros, \
                     impressions = excluded.impressions, clicks = excluded.clicks, updated_at = excluded.updated_at",
                );
                builder.build().execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok::<_, DbError>(())
        })
    }

    /// A campaign's spend, by day then source.
    pub async fn list_spend(&self, campaign_id: i64) -> Result<Vec<SpendEntry>, DbError> {
        let rows: Vec<SpendRow> = on_backend!(self, pool => {
            sqlx::query_as(
                "SELECT campaign_id, day, source, amount_micros, impressions, clicks, updated_at FROM spend \
                 WHERE campaign_id = $1 ORDER BY day, source",
            )
            .bind(campaign_id)
            .fetch_all(pool)
            .await
        })?;
        Ok(rows
            .into_iter()
            .map(|r| SpendEntry {
                campaign_id: r.campaign_id,
                date: r.day,
                source: r.source,
                amount: Money::from_micros(r.amount_micros),
                impressions: r.impressions,
                clicks: r.clicks,
                updated_at: r.updated_at,
            })
            .collect())
    }

    /// Maps an ad platform's campaign id to a campaign; an id mapped to another campaign is
    /// a conflict.
    pub async fn add_campaign_external_id(
        &self,
        campaign_id: i64,
        external_id: &str,
    ) -> Result<(), DbError> {
        self.campaign(campaign_id).await?;
        on_backend!(self, write pool => {
            sqlx::query(
                "INSERT INTO campaign_external_ids (external_id, campaign_id) VALUES ($1, $2) \
                 ON CONFLICT (external_id) DO NOTHING",
            )
            .bind(external_id)
            .bind(campaign_id)
            .execute(pool)
            .await
            .map(|_| ())
        })
        .map_err(|e| conflict_on_unique(e, || format!("external id {external_id} is taken")))?;
        let owner = self
            .campaign_external_ids()
            .await?
            .get(external_id)
            .copied();
        match owner {
            Some(owner) if owner != campaign_id => Err(DbError::Conflict(format!(
                "external id {external_id} already belongs to campaign {owner}"
            ))),
            _ => Ok(()),
        }
    }

    /// Every external id and its campaign.
    pub async fn campaign_external_ids(&self) -> Result<HashMap<String, i64>, DbError> {
        let rows: Vec<(String, i64)> = on_backend!(self, pool => {
            sqlx::query_as("SELECT external_id, campaign_id FROM campaign_external_ids")
                .fetch_all(pool)
                .await
        })?;
        Ok(rows.into_iter().collect())
    }
}
