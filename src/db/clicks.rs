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

/// Rows per SQLite INSERT statement, largest first: a batch is cut greedily into these
/// sizes, so every statement is one of five prepared once and kept in the connection's
/// statement cache. (With free sizes each new batch size compiled and cached another
/// statement of up to 7,000 parameters: slow, and ~50 MB of cache under load.) 14 parameters
/// a row keeps 500 rows far below SQLite's bound-parameter limit.
const STATEMENT_ROWS: [usize; 5] = [500, 125, 25, 5, 1];

/// `clicks` cut into runs of [`STATEMENT_ROWS`] sizes.
fn statement_chunks(mut clicks: &[ClickRecord]) -> impl Iterator<Item = &[ClickRecord]> {
    std::iter::from_fn(move || {
        let size = STATEMENT_ROWS.into_iter().find(|&n| n <= clicks.len())?;
        let (chunk, rest) = clicks.split_at(size);
        clicks = rest;
        Some(chunk)
    })
}

impl Db {
    /// Inserts a batch of clicks in one transaction; a click id already stored is skipped,
    /// so a retried batch cannot double-count. Returns how many rows were new.
    ///
    /// SQLite takes multi-row `VALUES` statements of [`STATEMENT_ROWS`] sizes (prepared
    /// once each and cached). PostgreSQL takes the whole batch as
    /// one array per column through `UNNEST`: one statement with 14 parameters instead of
    /// 14 per row, which its planner and protocol handle far faster for large batches.
    pub async fn insert_clicks(&self, clicks: &[ClickRecord]) -> Result<u64, DbError> {
        if clicks.is_empty() {
            return Ok(0);
        }
        match self {
            Db::Sqlite { write, .. } => {
                let mut tx = write.begin().await?;
                let mut inserted = 0;
                for chunk in statement_chunks(clicks) {
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
            }
            Db::Postgres(pool) => {
                fn column<'a, T>(
                    clicks: &'a [ClickRecord],
                    f: impl Fn(&'a ClickRecord) -> T,
                ) -> Vec<T> {
                    clicks.iter().map(f).collect()
                }
                let inserted = sqlx::query(
                    "INSERT INTO clicks (click_id, link_id, at, via, class, visitor, country, region, city, device, os, browser, referrer_host, user_agent) \
                     SELECT * FROM UNNEST($1::text[], $2::bigint[], $3::timestamptz[], $4::text[], $5::text[], $6::text[], \
                                          $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[]) \
                     ON CONFLICT (click_id) DO NOTHING",
                )
                .bind(column(clicks, |c| c.click_id.as_str()))
                .bind(column(clicks, |c| c.link_id))
                .bind(column(clicks, |c| c.at))
                .bind(column(clicks, |c| c.via.as_str()))
                .bind(column(clicks, |c| c.class.as_str()))
                .bind(column(clicks, |c| c.visitor.as_str()))
                .bind(column(clicks, |c| c.country.as_deref()))
                .bind(column(clicks, |c| c.region.as_deref()))
                .bind(column(clicks, |c| c.city.as_deref()))
                .bind(column(clicks, |c| c.device.as_deref()))
                .bind(column(clicks, |c| c.os.as_deref()))
                .bind(column(clicks, |c| c.browser.as_deref()))
                .bind(column(clicks, |c| c.referrer_host.as_deref()))
                .bind(column(clicks, |c| c.user_agent.as_deref()))
                .execute(pool)
                .await?
                .rows_affected();
                Ok(inserted)
            }
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn clicks(n: usize) -> Vec<ClickRecord> {
        (0..n)
            .map(|i| ClickRecord {
                click_id: format!("{i:012}"),
                link_id: 1,
                at: time::OffsetDateTime::UNIX_EPOCH,
                via: Via::Link,
                class: ClickClass::Human,
                visitor: String::new(),
                country: None,
                region: None,
                city: None,
                device: None,
                os: None,
                browser: None,
                referrer_host: None,
                user_agent: None,
            })
            .collect()
    }

    #[test]
    fn batches_are_cut_into_the_few_prepared_statement_sizes() {
        for n in [0, 1, 4, 6, 499, 500, 1_234, 20_000] {
            let batch = clicks(n);
            let sizes: Vec<usize> = statement_chunks(&batch).map(<[_]>::len).collect();
            assert_eq!(sizes.iter().sum::<usize>(), n, "every click once");
            assert!(
                sizes.iter().all(|s| STATEMENT_ROWS.contains(s)),
                "{sizes:?}"
            );
            assert!(sizes.windows(2).all(|w| w[0] >= w[1]), "largest first");
        }
        let joined: Vec<String> = statement_chunks(&clicks(1_234))
            .flatten()
            .map(|c| c.click_id.clone())
            .collect();
        assert_eq!(
            joined,
            clicks(1_234)
                .into_iter()
                .map(|c| c.click_id)
                .collect::<Vec<_>>()
        );
    }
}
