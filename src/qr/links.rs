//! QR codes of stored links: what they encode and how a campaign's sheet is labelled.

use super::SheetItem;
use crate::{
    config::Config,
    db::{Db, DbError},
    links::Link,
};

/// Why a campaign's codes cannot be printed.
#[derive(Debug, thiserror::Error)]
pub enum PrintError {
    #[error("campaign {0} has no links to print")]
    NoLinks(i64),
    #[error(transparent)]
    Db(#[from] DbError),
}

/// The links of a campaign to print, in sheet order; an unknown campaign or one without
/// links is an error.
pub async fn printable_links(db: &Db, campaign_id: i64) -> Result<Vec<Link>, PrintError> {
    db.campaign(campaign_id).await?;
    let links = db.list_links(campaign_id).await?;
    if links.is_empty() {
        return Err(PrintError::NoLinks(campaign_id));
    }
    Ok(links)
}

/// One sheet cell per link: the code of its scan URL, the store (or label, or code) as title
/// and the short URL in text for people who cannot scan.
pub fn sheet_items(config: &Config, links: &[Link]) -> Vec<SheetItem> {
    links
        .iter()
        .map(|link| SheetItem {
            qr_text: config.qr_url(&link.code),
            title: link
                .store
                .clone()
                .or_else(|| link.label.clone())
                .unwrap_or_else(|| link.code.clone()),
            subtitle: config.short_url(&link.code),
        })
        .collect()
}

/// A file name for a link's code in a ZIP: the store or label, made safe, plus the code.
pub fn file_stem(link: &Link) -> String {
    let name = link
        .store
        .as_deref()
        .or(link.label.as_deref())
        .unwrap_or("link");
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{}-{}", safe.trim_matches('_'), link.code)
}
