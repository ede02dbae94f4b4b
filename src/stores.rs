//! The store dimension: one link (and printed code) per shop or placement, and what each
//! brought: scans, clicks, chats (the leads) and later conversions.

pub use crate::db::StoreStats;
use crate::db::{Db, DbError};

/// Per-link (so per-store) results of a campaign, by store name.
pub async fn results(db: &Db, campaign_id: i64) -> Result<Vec<StoreStats>, DbError> {
    db.campaign(campaign_id).await?;
    db.store_stats(campaign_id).await
}
