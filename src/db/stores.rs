//! The store dimension: what each store's (or placement's) link brought.

use sqlx::FromRow;

use super::{Db, DbError, on_backend};

/// One link's results, for per-store tables.
#[derive(Debug, Clone, PartialEq, Eq, FromRow, serde::Serialize)]
pub struct StoreStats {
    pub link_id: i64,
    pub code: String,
    pub store: Option<String>,
    pub label: Option<String>,
    /// Human scans of the printed code (`via=qr`).
    pub scans: i64,
    /// Human clicks, scans included.
    pub clicks: i64,
    /// Customers whose first message came through this link: the leads of a
    /// direct-to-chat campaign.
    pub chats: i64,
    pub qualified: i64,
    pub purchases: i64,
}

impl Db {
    /// Per-link (so per-store) results of a campaign, by store name (byte order), links
    /// without a store last. Sorted here rather than in SQL: the backends disagree on where
    /// NULL goes and PostgreSQL's order follows the database's collation.
    pub async fn store_stats(&self, campaign_id: i64) -> Result<Vec<StoreStats>, DbError> {
        let mut stats: Vec<StoreStats> = on_backend!(self, pool => {
            sqlx::query_as(
                "SELECT l.id AS link_id, l.code, l.store, l.label, \
                   (SELECT COUNT(*) FROM clicks k WHERE k.link_id = l.id AND k.class = 'human' AND k.via = 'qr') AS scans, \
                   (SELECT COUNT(*) FROM clicks k WHERE k.link_id = l.id AND k.class = 'human') AS clicks, \
                   (SELECT COUNT(*) FROM conversions v WHERE v.link_id = l.id AND v.type = 'first_message') AS chats, \
                   (SELECT COUNT(*) FROM conversions v WHERE v.link_id = l.id AND v.type = 'qualified') AS qualified, \
                   (SELECT COUNT(*) FROM conversions v WHERE v.link_id = l.id AND v.type = 'purchase') AS purchases \
                 FROM links l WHERE l.campaign_id = $1",
            )
            .bind(campaign_id)
            .fetch_all(pool)
            .await
        })?;
        stats.sort_by(|a, b| {
            (a.store.is_none(), &a.store, a.link_id).cmp(&(b.store.is_none(), &b.store, b.link_id))
        });
        Ok(stats)
    }
}
