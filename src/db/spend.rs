//! Spend rows and campaigns' external ids.

use std::collections::HashMap;

use sqlx::FromRow;
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

impl Db {
    /// Writes spend entries in one transaction, replacing the same campaign, day and source.
    pub async fn upsert_spend(&self, entries: &[SpendEntry]) -> Result<(), DbError> {
        on_backend!(self, write pool => {
            let mut tx = pool.begin().await?;
            for entry in entries {
                sqlx::query(
                    "INSERT INTO spend (campaign_id, day, source, amount_micros, impressions, clicks, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7) \
                     ON CONFLICT (campaign_id, day, source) DO UPDATE SET amount_micros = excluded.amount_micros, \
                     impressions = excluded.impressions, clicks = excluded.clicks, updated_at = excluded.updated_at",
                )
                .bind(entry.campaign_id)
                .bind(entry.date)
                .bind(&entry.source)
                .bind(entry.amount.micros())
                .bind(entry.impressions)
                .bind(entry.clicks)
                .bind(entry.updated_at)
                .execute(&mut *tx)
                .await?;
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
