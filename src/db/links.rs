//! Links in the store.

use std::collections::BTreeMap;

use sqlx::FromRow;
use time::OffsetDateTime;

use super::{Db, DbError, conflict_on_unique, on_backend};
use crate::links::{Link, LinkCode, NewLink};

#[derive(FromRow)]
struct LinkRow {
    id: i64,
    campaign_id: i64,
    code: String,
    account_id: Option<i64>,
    platform: Option<String>,
    handle: Option<String>,
    destination_url: Option<String>,
    label: Option<String>,
    store: Option<String>,
    prefill_text: Option<String>,
    utm: String,
    wechat_qr_url: Option<String>,
    created_at: OffsetDateTime,
    campaign_name: String,
    campaign_channel: String,
}

impl TryFrom<LinkRow> for Link {
    type Error = DbError;
    fn try_from(row: LinkRow) -> Result<Self, DbError> {
        Ok(Link {
            id: row.id,
            campaign_id: row.campaign_id,
            code: row.code,
            account_id: row.account_id,
            platform: row
                .platform
                .map(|p| p.parse())
                .transpose()
                .map_err(DbError::Corrupt)?,
            handle: row.handle,
            destination_url: row.destination_url,
            label: row.label,
            store: row.store,
            prefill_text: row.prefill_text,
            utm: serde_json::from_str::<BTreeMap<String, String>>(&row.utm)
                .map_err(|e| DbError::Corrupt(format!("link {} utm: {e}", row.id)))?,
            wechat_qr_url: row.wechat_qr_url,
            created_at: row.created_at,
            campaign_name: row.campaign_name,
            campaign_channel: row.campaign_channel,
        })
    }
}

const SELECT: &str = "SELECT l.id, l.campaign_id, l.code, l.account_id, a.platform, a.handle, \
     l.destination_url, l.label, l.store, l.prefill_text, l.utm, l.wechat_qr_url, l.created_at, \
     c.name AS campaign_name, c.channel AS campaign_channel \
     FROM links l JOIN campaigns c ON c.id = l.campaign_id LEFT JOIN accounts a ON a.id = l.account_id";

impl Db {
    /// Stores links in one transaction, each with a fresh random code: all or nothing, so a
    /// bulk store list is never half-created. A store name already used in the campaign is a
    /// conflict.
    pub async fn insert_links(&self, links: &[NewLink]) -> Result<Vec<Link>, DbError> {
        let now = super::now();
        let ids: Vec<i64> = on_backend!(self, write pool => {
            let mut tx = pool.begin().await?;
            let mut ids = Vec::with_capacity(links.len());
            for link in links {
                // A code collision (1 in 2·10^14 per pair) would surface as a conflict; the
                // caller can simply retry.
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO links (campaign_id, account_id, destination_url, code, label, store, prefill_text, utm, wechat_qr_url, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
                )
                .bind(link.campaign_id)
                .bind(link.account_id)
                .bind(&link.destination_url)
                .bind(LinkCode::generate().as_str())
                .bind(&link.label)
                .bind(&link.store)
                .bind(&link.prefill_text)
                .bind(serde_json::to_string(&link.utm).expect("a string map serialises"))
                .bind(&link.wechat_qr_url)
                .bind(now)
                .fetch_one(&mut *tx)
                .await
                .map_err(|e| conflict_on_unique(e, || format!(
                    "store `{}` already has a link in this campaign",
                    link.store.as_deref().unwrap_or_default()
                )))?;
                ids.push(id);
            }
            tx.commit().await?;
            Ok::<_, DbError>(ids)
        })?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            // Committed above, so a new read sees it on either backend (SQLite WAL included).
            out.push(self.link(id).await?);
        }
        Ok(out)
    }

    /// One link by id; [`DbError::NotFound`] when there is none.
    pub async fn link(&self, id: i64) -> Result<Link, DbError> {
        let row: Option<LinkRow> = on_backend!(self, pool => {
            sqlx::query_as(&format!("{SELECT} WHERE l.id = $1"))
                .bind(id)
                .fetch_optional(pool)
                .await
        })?;
        Link::try_from(row.ok_or(DbError::NotFound("link", id))?)
    }

    /// One link by its short code (the redirect's cache miss path).
    pub async fn link_by_code(&self, code: &str) -> Result<Option<Link>, DbError> {
        let row: Option<LinkRow> = on_backend!(self, pool => {
            sqlx::query_as(&format!("{SELECT} WHERE l.code = $1"))
                .bind(code)
                .fetch_optional(pool)
                .await
        })?;
        row.map(Link::try_from).transpose()
    }

    /// A campaign's links, oldest first.
    pub async fn list_links(&self, campaign_id: i64) -> Result<Vec<Link>, DbError> {
        let rows: Vec<LinkRow> = on_backend!(self, pool => {
            sqlx::query_as(&format!("{SELECT} WHERE l.campaign_id = $1 ORDER BY l.id"))
                .bind(campaign_id)
                .fetch_all(pool)
                .await
        })?;
        rows.into_iter().map(Link::try_from).collect()
    }

    /// The store names already used in a campaign, for per-row errors on bulk creation.
    pub async fn campaign_stores(&self, campaign_id: i64) -> Result<Vec<String>, DbError> {
        Ok(on_backend!(self, pool => {
            sqlx::query_scalar("SELECT store FROM links WHERE campaign_id = $1 AND store IS NOT NULL")
                .bind(campaign_id)
                .fetch_all(pool)
                .await
        })?)
    }
}
