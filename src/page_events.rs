//! Landing-page events: the page a landing-page link leads to reports a `page_view` when it
//! opens and a `lead` when its form is sent, with the click tag the redirect appended
//! (`chatref_click`).
//!
//! The rules:
//! - The click tag must verify (its MAC) and carry a click id; a forged, foreign or bare
//!   link tag stores nothing. Its link must be a landing-page link.
//! - One page view and one lead per click at most: a reload or a second submit counts once.
//! - The event does not wait for the click itself to be written (the redirect records clicks
//!   in the background), so it is accepted as soon as the tag verifies.

use serde::{Deserialize, Serialize};

use crate::{
    db::{Db, DbError},
    links::{RefTag, TagKey},
    money::{AmountInput, Money},
};

/// What a landing page reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PageEventKind {
    PageView,
    Lead,
}

impl PageEventKind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            PageEventKind::PageView => "page_view",
            PageEventKind::Lead => "lead",
        }
    }
}

impl std::str::FromStr for PageEventKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "page_view" => Ok(PageEventKind::PageView),
            "lead" => Ok(PageEventKind::Lead),
            other => Err(format!("type `{other}` is not page_view or lead")),
        }
    }
}

/// What `POST /t/event` (JSON) and `GET /t/event.gif` (query) accept.
#[derive(Debug, Deserialize)]
pub struct PageEventRequest {
    pub click_id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub value: Option<AmountInput>,
}

/// A verified event, ready to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageEvent {
    pub click_id: String,
    pub kind: PageEventKind,
    pub campaign_id: i64,
    pub link_id: i64,
    pub value: Option<Money>,
}

/// Why an event was refused.
#[derive(Debug, thiserror::Error)]
pub enum PageEventError {
    #[error("{0}")]
    Invalid(String),
    #[error("click_id is not a click tag of this service")]
    Unknown,
    #[error("link {0} is not a landing-page link")]
    NotLanding(i64),
    #[error(transparent)]
    Db(#[from] DbError),
}

/// Whether the event was new (a repeat changes nothing).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Recorded {
    pub recorded: bool,
}

/// Verifies and stores a landing-page event.
pub async fn record(
    db: &Db,
    key: &TagKey,
    request: PageEventRequest,
    at: time::OffsetDateTime,
) -> Result<Recorded, PageEventError> {
    let kind: PageEventKind = request.kind.parse().map_err(PageEventError::Invalid)?;
    let value = request
        .value
        .map(|v| {
            v.parse()
                .map_err(|e| PageEventError::Invalid(format!("value: {e}")))
        })
        .transpose()?;
    let tag = RefTag::verify(key, request.click_id.trim()).ok_or(PageEventError::Unknown)?;
    let click_id = tag.click_id.ok_or(PageEventError::Unknown)?;
    let link = db
        .link_by_code(tag.code.as_str())
        .await?
        .ok_or(PageEventError::Unknown)?;
    if link.destination_url.is_none() {
        return Err(PageEventError::NotLanding(link.id));
    }
    let event = PageEvent {
        click_id: click_id.as_str().to_owned(),
        kind,
        campaign_id: link.campaign_id,
        link_id: link.id,
        value,
    };
    let recorded = db.insert_page_event(&event, at).await?;
    Ok(Recorded { recorded })
}
