//! Landing-page events.

use time::OffsetDateTime;

use super::{Db, DbError, on_backend};
use crate::{money::Money, page_events::PageEvent};

impl Db {
    /// Stores an event unless the click already has one of its kind; true when stored.
    pub async fn insert_page_event(
        &self,
        event: &PageEvent,
        at: OffsetDateTime,
    ) -> Result<bool, DbError> {
        let inserted: Option<i64> = on_backend!(self, write pool => {
            sqlx::query_scalar(
                "INSERT INTO page_events (click_id, type, campaign_id, link_id, at, value_micros) \
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (click_id, type) DO NOTHING RETURNING id",
            )
            .bind(&event.click_id)
            .bind(event.kind.as_str())
            .bind(event.campaign_id)
            .bind(event.link_id)
            .bind(at)
            .bind(event.value.map(Money::micros))
            .fetch_optional(pool)
            .await
        })?;
        Ok(inserted.is_some())
    }
}
