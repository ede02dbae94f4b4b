//! Contacts: customers who started a chat, with the campaign, link, store and method that
//! brought them, and how long after the click they wrote (for broadcast segments per source).

use time::format_description::well_known::Rfc3339;

pub use crate::db::ContactRow;
use crate::{
    db::{Db, DbError},
    export::CsvText,
};

/// Contacts per page of the API and per chunk of a CSV export.
pub const PAGE: i64 = 1_000;

/// Contacts with their source, newest first; optionally one campaign's.
pub async fn list(db: &Db, campaign_id: Option<i64>) -> Result<Vec<ContactRow>, DbError> {
    let mut rows = db.list_contacts(campaign_id).await?;
    fill_seconds(&mut rows);
    Ok(rows)
}

/// One page: at most `limit` contacts older than contact `before`, newest first.
pub async fn page(
    db: &Db,
    campaign_id: Option<i64>,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<ContactRow>, DbError> {
    let mut rows = db.contacts_page(campaign_id, before, limit).await?;
    fill_seconds(&mut rows);
    Ok(rows)
}

fn fill_seconds(rows: &mut [ContactRow]) {
    for row in rows.iter_mut() {
        row.seconds_from_click = row
            .click_at
            .map(|clicked| (row.first_seen_at - clicked).whole_seconds());
    }
}

/// The contacts as CSV (the API's `/api/contacts.csv` and `chatref contact list --csv`).
pub fn to_csv(rows: &[ContactRow]) -> String {
    csv_chunk(rows, true)
}

/// Rows as CSV, with the header line or without it (the later chunks of a stream).
pub fn csv_chunk(rows: &[ContactRow], header: bool) -> String {
    let text = csv_with_header(rows);
    if header {
        text
    } else {
        text.split_once('\n')
            .map(|(_, rest)| rest.to_owned())
            .unwrap_or_default()
    }
}

fn csv_with_header(rows: &[ContactRow]) -> String {
    let mut csv = CsvText::new([
        "platform",
        "account_id",
        "contact",
        "first_seen_at",
        "method",
        "campaign_id",
        "campaign",
        "link_id",
        "link_code",
        "store",
        "click_id",
        "seconds_from_click",
    ]);
    for r in rows {
        let text = |v: &Option<String>| v.clone().unwrap_or_default();
        let num = |v: Option<i64>| v.map(|n| n.to_string()).unwrap_or_default();
        let cells = [
            r.platform.clone(),
            r.account_id.to_string(),
            r.platform_user.clone(),
            r.first_seen_at.format(&Rfc3339).unwrap_or_default(),
            r.method.clone(),
            num(r.campaign_id),
            text(&r.campaign_name),
            num(r.link_id),
            text(&r.link_code),
            text(&r.store),
            text(&r.click_id),
            num(r.seconds_from_click),
        ];
        csv.row(cells.iter().map(String::as_str));
    }
    csv.finish()
}
