//! Campaigns and their ad ids in the store.

use std::collections::HashMap;

use sqlx::FromRow;
use time::{Date, OffsetDateTime};

use super::{Db, DbError, conflict_on_unique, on_backend};
use crate::{
    campaigns::{Campaign, NewCampaign},
    money::Money,
};

#[derive(FromRow)]
struct CampaignRow {
    id: i64,
    name: String,
    kind: String,
    channel: String,
    currency: String,
    budget_micros: Option<i64>,
    starts_on: Option<Date>,
    ends_on: Option<Date>,
    created_at: OffsetDateTime,
}

impl CampaignRow {
    fn into_campaign(self, ad_ids: Vec<String>) -> Result<Campaign, DbError> {
        Ok(Campaign {
            id: self.id,
            name: self.name,
            kind: self.kind.parse().map_err(DbError::Corrupt)?,
            channel: self.channel.parse().map_err(DbError::Corrupt)?,
            currency: self.currency,
            budget: self.budget_micros.map(Money::from_micros),
            starts_on: self.starts_on,
            ends_on: self.ends_on,
            ad_ids,
            created_at: self.created_at,
        })
    }
}

const COLUMNS: &str =
    "id, name, kind, channel, currency, budget_micros, starts_on, ends_on, created_at";

impl Db {
    /// Stores a campaign and its ad ids in one transaction; an ad id already claimed by
    /// another campaign is a conflict and nothing is written.
    pub async fn insert_campaign(&self, campaign: &NewCampaign) -> Result<Campaign, DbError> {
        let now = super::now();
        let row: CampaignRow = on_backend!(self, write pool => {
            let mut tx = pool.begin().await?;
            let row: CampaignRow = sqlx::query_as(&format!(
                "INSERT INTO campaigns (name, kind, channel, currency, budget_micros, starts_on, ends_on, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING {COLUMNS}"
            ))
            .bind(&campaign.name)
            .bind(campaign.kind.as_str())
            .bind(campaign.channel.as_str())
            .bind(&campaign.currency)
            .bind(campaign.budget.map(Money::micros))
            .bind(campaign.starts_on)
            .bind(campaign.ends_on)
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
            for ad_id in &campaign.ad_ids {
                sqlx::query("INSERT INTO campaign_ad_ids (ad_id, campaign_id) VALUES ($1, $2)")
                    .bind(ad_id)
                    .bind(row.id)
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| conflict_on_unique(e, || format!("ad id {ad_id} already belongs to another campaign")))?;
            }
            tx.commit().await?;
            Ok::<_, DbError>(row)
        })?;
        row.into_campaign(campaign.ad_ids.clone())
    }

    /// Every campaign, oldest first.
    pub async fn list_campaigns(&self) -> Result<Vec<Campaign>, DbError> {
        let (rows, ads): (Vec<CampaignRow>, Vec<(i64, String)>) = on_backend!(self, pool => {
            let rows = sqlx::query_as(&format!("SELECT {COLUMNS} FROM campaigns ORDER BY id"))
                .fetch_all(pool)
                .await?;
            let ads = sqlx::query_as("SELECT campaign_id, ad_id FROM campaign_ad_ids ORDER BY ad_id")
                .fetch_all(pool)
                .await?;
            Ok::<_, DbError>((rows, ads))
        })?;
        let mut by_campaign: HashMap<i64, Vec<String>> = HashMap::new();
        for (campaign_id, ad_id) in ads {
            by_campaign.entry(campaign_id).or_default().push(ad_id);
        }
        rows.into_iter()
            .map(|row| {
                let ads = by_campaign.remove(&row.id).unwrap_or_default();
                row.into_campaign(ads)
            })
            .collect()
    }

    /// One campaign by id; [`DbError::NotFound`] when there is none.
    pub async fn campaign(&self, id: i64) -> Result<Campaign, DbError> {
        let found: Option<(CampaignRow, Vec<String>)> = on_backend!(self, pool => {
            let row: Option<CampaignRow> = sqlx::query_as(&format!("SELECT {COLUMNS} FROM campaigns WHERE id = $1"))
                .bind(id)
                .fetch_optional(pool)
                .await?;
            match row {
                Some(row) => {
                    let ads = sqlx::query_scalar("SELECT ad_id FROM campaign_ad_ids WHERE campaign_id = $1 ORDER BY ad_id")
                        .bind(id)
                        .fetch_all(pool)
                        .await?;
                    Ok::<_, DbError>(Some((row, ads)))
                }
                None => Ok(None),
            }
        })?;
        let (row, ads) = found.ok_or(DbError::NotFound("campaign", id))?;
        row.into_campaign(ads)
    }
}
