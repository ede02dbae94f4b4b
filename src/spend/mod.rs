//! Ad spend: money per campaign per day (the ad account's calendar day, as the platform
//! bills it), entered through the API or imported from an ad platform's export.
//!
//! The rules:
//! - Amounts are exact (micro-units) in the campaign's currency; a row in another currency
//!   is an error, never converted or mixed.
//! - Spend is kept per campaign, day and source (`api`, `meta_ads`, `google_ads`, `plain`):
//!   entering or importing the same day again replaces that source's figure, so re-importing
//!   a file (or an overlapping one) never doubles spend.
//! - Imported rows are matched to campaigns by an external id mapped on the campaign (a
//!   Meta or Google campaign id), else by exact name. Rows of campaigns chatref does not know
//!   are left out and listed, so the marketer can map them.
//! - A file with any bad row imports nothing and answers every bad row with its line.

pub mod import;

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

use crate::{
    campaigns::Campaign,
    db::{Db, DbError},
    money::{AmountInput, Money},
};
pub use import::{Format, ImportError, LineError};

time::serde::format_description!(iso_date, Date, "[year]-[month]-[day]");

/// One day's spend of a campaign from one source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SpendEntry {
    pub campaign_id: i64,
    #[serde(with = "iso_date")]
    pub date: Date,
    pub source: String,
    pub amount: Money,
    pub impressions: Option<i64>,
    pub clicks: Option<i64>,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// What `POST /api/campaigns/{id}/spend` accepts.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpendRequest {
    pub date: String,
    pub amount: AmountInput,
    pub impressions: Option<i64>,
    pub clicks: Option<i64>,
}

/// Why spend was not recorded.
#[derive(Debug, thiserror::Error)]
pub enum SpendError {
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Import(#[from] ImportError),
    /// Some rows of an import are bad; nothing was imported.
    #[error("{} rows are invalid; nothing was imported", .errors.len())]
    Rows {
        format: Format,
        skipped: usize,
        errors: Vec<LineError>,
    },
    #[error(transparent)]
    Db(#[from] DbError),
}

/// The source name of spend entered through the API.
pub const API_SOURCE: &str = "api";

/// Parses a `YYYY-MM-DD` day.
pub fn parse_date(text: &str) -> Result<Date, String> {
    Date::parse(
        text.trim(),
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .map_err(|_| format!("date `{text}` is not a day like 2026-11-23"))
}

/// Records (or replaces) one day's spend of a campaign entered through the API.
pub async fn record(
    db: &Db,
    campaign_id: i64,
    request: SpendRequest,
) -> Result<SpendEntry, SpendError> {
    db.campaign(campaign_id).await?;
    let date = parse_date(&request.date).map_err(SpendError::Invalid)?;
    let amount = request
        .amount
        .parse()
        .map_err(|e| SpendError::Invalid(format!("amount: {e}")))?;
    for (field, value) in [
        ("impressions", request.impressions),
        ("clicks", request.clicks),
    ] {
        if value.is_some_and(|v| v < 0) {
            return Err(SpendError::Invalid(format!("{field} must not be negative")));
        }
    }
    let entry = SpendEntry {
        campaign_id,
        date,
        source: API_SOURCE.into(),
        amount,
        impressions: request.impressions,
        clicks: request.clicks,
        updated_at: crate::db::now(),
    };
    db.upsert_spend(std::slice::from_ref(&entry)).await?;
    Ok(entry)
}

/// What an import did.
#[derive(Debug, Clone, Serialize)]
pub struct ImportOutcome {
    pub format: Format,
    /// Campaign-days written (replacing that source's earlier figures).
    pub imported: usize,
    /// Summary and footer rows, and rows of campaigns chatref does not know.
    pub skipped: usize,
    /// Campaigns in the file that match no campaign here, with their spend in the file.
    pub unmatched: Vec<Unmatched>,
    pub errors: Vec<LineError>,
}

/// A campaign of the file that matches none here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unmatched {
    pub campaign: String,
    pub external_id: Option<String>,
    pub rows: usize,
    pub amount: Money,
}

/// Imports a parsed ad platform export ([`import::parse`]; CPU work the caller runs off
/// the async workers): all rows or none.
pub async fn import(db: &Db, parsed: import::ParsedSpend) -> Result<ImportOutcome, SpendError> {
    let campaigns = db.list_campaigns().await?;
    let by_external = db.campaign_external_ids().await?;
    let by_name: HashMap<&str, &Campaign> =
        campaigns.iter().map(|c| (c.name.as_str(), c)).collect();
    let by_id: HashMap<i64, &Campaign> = campaigns.iter().map(|c| (c.id, c)).collect();

    let mut errors = parsed.errors;
    let mut skipped = parsed.skipped;
    let mut unmatched: BTreeMap<(String, Option<String>), Unmatched> = BTreeMap::new();
    let mut entries = Vec::with_capacity(parsed.rows.len());
    let now = crate::db::now();
    for row in parsed.rows {
        let campaign = row
            .campaign_external_id
            .as_deref()
            .and_then(|id| by_external.get(id))
            .and_then(|id| by_id.get(id))
            .or_else(|| by_name.get(row.campaign_name.as_str()))
            .copied();
        let Some(campaign) = campaign else {
            skipped += 1;
            let key = (row.campaign_name.clone(), row.campaign_external_id.clone());
            let entry = unmatched.entry(key).or_insert_with(|| Unmatched {
                campaign: row.campaign_name.clone(),
                external_id: row.campaign_external_id.clone(),
                rows: 0,
                amount: Money::from_micros(0),
            });
            entry.rows += 1;
            entry.amount =
                Money::from_micros(entry.amount.micros().saturating_add(row.amount.micros()));
            continue;
        };
        if let Some(currency) = row.currency.as_deref()
            && currency != campaign.currency
        {
            errors.push(LineError {
                line: row.line,
                message: format!(
                    "amount is in {currency} but campaign `{}` is in {}; convert the export or the campaign",
                    campaign.name, campaign.currency
                ),
            });
            continue;
        }
        entries.push(SpendEntry {
            campaign_id: campaign.id,
            date: row.date,
            source: parsed.format.as_str().into(),
            amount: row.amount,
            impressions: row.impressions,
            clicks: row.clicks,
            updated_at: now,
        });
    }
    if !errors.is_empty() {
        errors.sort_by_key(|e| e.line);
        return Err(SpendError::Rows {
            format: parsed.format,
            skipped,
            errors,
        });
    }
    // Two file rows for one campaign-day (matched once by id, once by name) add up.
    let mut merged: BTreeMap<(i64, Date), SpendEntry> = BTreeMap::new();
    for entry in entries {
        match merged.entry((entry.campaign_id, entry.date)) {
            std::collections::btree_map::Entry::Vacant(v) => {
                v.insert(entry);
            }
            std::collections::btree_map::Entry::Occupied(mut o) => {
                let kept = o.get_mut();
                kept.amount = Money::from_micros(kept.amount.micros() + entry.amount.micros());
                kept.impressions = add(kept.impressions, entry.impressions);
                kept.clicks = add(kept.clicks, entry.clicks);
            }
        }
    }
    let entries: Vec<SpendEntry> = merged.into_values().collect();
    db.upsert_spend(&entries).await?;
    tracing::info!(format = %parsed.format, imported = entries.len(), skipped, "spend imported");
    Ok(ImportOutcome {
        format: parsed.format,
        imported: entries.len(),
        skipped,
        unmatched: unmatched.into_values().collect(),
        errors: Vec::new(),
    })
}

fn add(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (None, None) => None,
        (a, b) => Some(a.unwrap_or(0).saturating_add(b.unwrap_or(0))),
    }
}
