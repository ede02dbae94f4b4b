//! Links in the store.

use std::collections::BTreeMap;

use sqlx::FromRow;
use time::OffsetDateTime;

use super::{Db, DbError, conflict_on_unique, on_backend};
use crate::links::{Link, LinkChange, LinkCode, NewLink};

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
    active: bool,
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
            active: row.active,
            created_at: row.created_at,
            campaign_name: row.campaign_name,
            campaign_channel: row.campaign_channel,
        })
    }
}

/// The settings row whose value changes (a fresh random value) whenever links are created or
/// edited, so a running service notices changes made by another process (the CLI, another
/// instance) and drops its cached links.
const VERSION_KEY: &str = "links_version";

/// The conflict message when a campaign already has a link for `store`.
fn store_taken(store: Option<&str>) -> String {
    format!(
        "store `{}` already has a link in this campaign",
        store.unwrap_or_default()
    )
}

/// Sets a new links version inside the caller's transaction.
const BUMP_VERSION: &str = "INSERT INTO settings (key, value) VALUES ($1, $2) \
     ON CONFLICT (key) DO UPDATE SET value = excluded.value";

const SELECT: &str = "SELECT l.id, l.campaign_id, l.code, l.account_id, a.platform, a.handle, \
     l.destination_url, l.label, l.store, l.prefill_text, l.utm, l.wechat_qr_url, l.active, l.created_at, \
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
                .map_err(|e| conflict_on_unique(e, || store_taken(link.store.as_deref())))?;
                ids.push(id);
            }
            sqlx::query(BUMP_VERSION)
                .bind(VERSION_KEY)
                .bind(uuid::Uuid::new_v4().to_string())
                .execute(&mut *tx)
                .await?;
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

    /// Applies a validated change to link `id` and returns the link as stored: only the
    /// columns the change names are written, so two edits of different fields both stand.
    /// [`DbError::NotFound`] for an unknown link, [`DbError::Conflict`] for a store name the
    /// campaign already has.
    pub async fn update_link(&self, id: i64, change: &LinkChange) -> Result<Link, DbError> {
        let utm = change
            .utm
            .as_ref()
            .map(|utm| serde_json::to_string(utm).expect("a string map serialises"));
        let store = change.store.clone().flatten();
        let updated = on_backend!(self, write pool => {
            let mut tx = pool.begin().await?;
            let updated = sqlx::query(
                "UPDATE links SET \
                 label = CASE WHEN $1 THEN $2 ELSE label END, \
                 store = CASE WHEN $3 THEN $4 ELSE store END, \
                 prefill_text = CASE WHEN $5 THEN $6 ELSE prefill_text END, \
                 utm = CASE WHEN $7 THEN $8 ELSE utm END, \
                 wechat_qr_url = CASE WHEN $9 THEN $10 ELSE wechat_qr_url END, \
                 active = CASE WHEN $11 THEN $12 ELSE active END \
                 WHERE id = $13",
            )
            .bind(change.label.is_some())
            .bind(change.label.clone().flatten())
            .bind(change.store.is_some())
            .bind(&store)
            .bind(change.prefill_text.is_some())
            .bind(change.prefill_text.clone().flatten())
            .bind(utm.is_some())
            .bind(&utm)
            .bind(change.wechat_qr_url.is_some())
            .bind(change.wechat_qr_url.clone().flatten())
            .bind(change.active.is_some())
            .bind(change.active)
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(|e| conflict_on_unique(e, || store_taken(store.as_deref())))?
            .rows_affected();
            sqlx::query(BUMP_VERSION)
                .bind(VERSION_KEY)
                .bind(uuid::Uuid::new_v4().to_string())
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok::<_, DbError>(updated)
        })?;
        if updated == 0 {
            return Err(DbError::NotFound("link", id));
        }
        self.link(id).await
    }

    /// The value that changes whenever links are created or edited (`None` before the first
    /// change), read by the redirect about once a second.
    pub async fn links_version(&self) -> Result<Option<String>, DbError> {
        Ok(on_backend!(self, pool => {
            sqlx::query_scalar("SELECT value FROM settings WHERE key = $1")
                .bind(VERSION_KEY)
                .fetch_optional(pool)
                .await
        })?)
    }

    /// The campaign's links that have a store, as (link id, store name).
    pub async fn link_stores(&self, campaign_id: i64) -> Result<Vec<(i64, String)>, DbError> {
        Ok(on_backend!(self, pool => {
            sqlx::query_as("SELECT id, store FROM links WHERE campaign_id = $1 AND store IS NOT NULL")
                .bind(campaign_id)
                .fetch_all(pool)
                .await
        })?)
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
