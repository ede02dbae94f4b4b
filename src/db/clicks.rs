//! Clicks in the store: batched inserts from the click writer and per-link counts.

use sqlx::{FromRow, QueryBuilder};
use time::OffsetDateTime;

use super::{Db, DbError, on_backend};
use crate::clicks::{ClickClass, Via};

/// One enriched click, as the writer stores it. No raw IP: `visitor` is a keyed hash.
#[derive(Debug, Clone, PartialEq)]
pub struct ClickRecord {
    pub click_id: String,
    pub link_id: i64,
    pub at: OffsetDateTime,
    pub via: Via,
    pub class: ClickClass,
    pub visitor: String,
    pub country: Option<String>,
    pub region: Option<String>,
    pub city: Option<String>,
    pub device: Option<String>,
    pub os: Option<String>,
    pub browser: Option<String>,
    pub referrer_host: Option<String>,
    pub user_agent: Option<String>,
}

/// Click totals of one link; `human` excludes bots and prefetches, `unique` counts distinct
/// human visitors, `qr_scans` the human clicks that came through a printed code.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, FromRow, serde::Serialize)]
pub struct ClickCounts {
    pub human: i64,
    pub bot: i64,
    pub prefetch: i64,
    pub unique: i64,
    pub qr_scans: i64,
}

/// Rows per INSERT statement: 14 parameters each stays far below SQLite's and PostgreSQL's
/// bound-parameter limits.
const ROWS_PER_STATEMENT: usize = 500;

impl Db {
    /// Inserts a batch of clicks in one transaction; a click id already stored is skipped,
    /// so a retried batch cannot double-count. Returns how many rows were new.
    pub async fn insert_clicks(&self, clicks: &[ClickRecord]) -> Result<u64, DbError> {
        if clicks.is_empty() {
            return Ok(0);
        }
        on_backend!(self, write pool => {
            let mut tx = pool.begin().await?;
            let mut inserted = 0;
            for chunk in clicks.chunks(ROWS_PER_STATEMENT) {
                let mut builder = QueryBuilder::new(
                    "INSERT INTO clicks (click_id, link_id, at, via, class, visitor, country, region, city, device, os, browser, referrer_host, user_agent) ",
                );
                builder.push_values(chunk, |mut row, click| {
                    row.push_bind(&click.click_id)
                        .push_bind(click.link_id)
                        .push_bind(click.at)
                        .push_bind(click.via.as_str())
                        .push_bind(click.class.as_str())
                        .push_bind(&click.visitor)
                        .push_bind(&click.country)
                        .push_bind(&click.region)
                        .push_bind(&click.city)
                        .push_bind(&click.device)
                        .push_bind(&click.os)
                        .push_bind(&click.browser)
                        .push_bind(&click.referrer_host)
                        .push_bind(&click.user_agent);
                });
                builder.push(" ON CONFLICT (click_id) DO NOTHING");
                inserted += builder.build().execute(&mut *tx).await?.rows_affected();
            }
            tx.commit().await?;
            Ok(inserted)
        })
    }

    /// Click totals of one link.
    pub async fn click_counts(&self, link_id: i64) -> Result<ClickCounts, DbError> {
        Ok(on_backend!(self, pool => {
            sqlx::query_as(
                "SELECT \
                   COALESCE(SUM(CASE WHEN class = 'human' THEN 1 ELSE 0 END), 0) AS human, \
                   COALESCE(SUM(CASE WHEN class = 'bot' THEN 1 ELSE 0 END), 0) AS bot, \
                   COALESCE(SUM(CASE WHEN class = 'prefetch' THEN 1 ELSE 0 END), 0) AS prefetch, \
                   COUNT(DISTINCT CASE WHEN class = 'human' THEN visitor END) AS \"unique\", \
                   COALESCE(SUM(CASE WHEN class = 'human' AND via = 'qr' THEN 1 ELSE 0 END), 0) AS qr_scans \
                 FROM clicks WHERE link_id = $1",
            )
            .bind(link_id)
            .fetch_one(pool)
            .await
        })?)
    }

    /// Every stored click of a link, oldest first (for exports and tests).
    pub async fn clicks_of_link(&self, link_id: i64) -> Result<Vec<ClickRecord>, DbError> {
        #[derive(FromRow)]
        struct Row {
            click_id: String,
            link_id: i64,
            at: OffsetDateTime,
            via: String,
            class: String,
            visitor: String,
            country: Option<String>,
            region: Option<String>,
            city: Option<String>,
            device: Option<String>,
            os: Option<String>,
            browser: Option<String>,
            referrer_host: Option<String>,
            user_agent: Option<String>,
        }
        let rows: Vec<Row> = on_backend!(self, pool => {
            sqlx::query_as(
                "SELECT click_id, link_id, at, via, class, visitor, country, region, city, device, os, browser, referrer_host, user_agent \
                 FROM clicks WHERE link_id = $1 ORDER BY id",
            )
            .bind(link_id)
            .fetch_all(pool)
            .await
        })?;
        rows.into_iter()
            .map(|r| {
                Ok(ClickRecord {
                    click_id: r.click_id,
                    link_id: r.link_id,
                    at: r.at,
                    via: Via::parse(&r.via)
                        .ok_or_else(|| DbError::Corrupt(format!("click via `{}`", r.via)))?,
                    class: ClickClass::parse(&r.class)
                        .ok_or_else(|| DbError::Corrupt(format!("click class `{}`", r.class)))?,
                    visitor: r.visitor,
                    country: r.country,
                    region: r.region,
                    city: r.city,
                    device: r.device,
                    os: r.os,
                    browser: r.browser,
                    referrer_host: r.referrer_host,
                    user_agent: r.user_agent,
                })
            })
            .collect()
    }
}
