//! The funnel report as one typed value: JSON, CSV, HTML, charts and the report folder are
//! views of it, so they cannot disagree.

use serde::Serialize;
use time::Date;

use super::stats::{Difference, Rate};
use crate::{campaigns::CampaignKind, money::Money};

time::serde::format_description!(pub(crate) iso_date, Date, "[year]-[month]-[day]");

/// What was asked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Filters {
    pub campaigns: Vec<i64>,
    pub kind: Option<CampaignKind>,
    pub platform: Option<String>,
    pub store: Option<String>,
    pub compare_previous: bool,
}

/// Counts and money of one funnel (a campaign, a kind, a period).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Spend in the range (micro-units of the report's currency).
    pub spend: Money,
    pub impressions: i64,
    /// Human clicks (scans included).
    pub clicks: i64,
    /// Link-preview bots and crawlers, shown apart, never counted as clicks.
    pub bot_clicks: i64,
    /// Browser prefetches, shown apart.
    pub prefetch_clicks: i64,
    /// Distinct human visitors.
    pub unique_clicks: i64,
    /// Landing-page views (landing-page campaigns only).
    pub page_views: i64,
    /// First messages (direct-to-chat) or form leads (landing page).
    pub leads: i64,
    pub qualified: i64,
    pub purchases: i64,
    /// Value of the purchases posted with a value.
    pub purchase_value: Money,
}

/// A funnel's counts with every rate and cost derived from them. Rates are fractions
/// (0.25 = 25 %); costs are `null` when their denominator is zero.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Funnel {
    #[serde(flatten)]
    pub counts: Counts,
    pub click_to_lead_rate: Option<f64>,
    /// Landing pages: share of clicks whose page view arrived (the rest bounced before it
    /// loaded). `null` for direct-to-chat.
    pub click_to_view_rate: Option<f64>,
    pub view_to_lead_rate: Option<f64>,
    pub lead_to_qualified_rate: Option<f64>,
    pub qualified_to_purchase_rate: Option<f64>,
    /// Share of human clicks that did not become a lead.
    pub click_drop_off: Option<f64>,
    pub cost_per_click: Option<Money>,
    pub cost_per_lead: Option<Money>,
    pub cost_per_qualified: Option<Money>,
    pub cost_per_purchase: Option<Money>,
    /// Leads per 1,000 of spend (currency units).
    pub leads_per_1000_spend: Option<f64>,
    /// Median and 90th percentile of the seconds from click to lead, for leads joined to
    /// their click.
    pub median_seconds_to_lead: Option<i64>,
    pub p90_seconds_to_lead: Option<i64>,
    /// Leads the times above are computed from.
    pub timed_leads: usize,
}

/// One campaign's row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CampaignRow {
    pub id: i64,
    pub name: String,
    pub kind: CampaignKind,
    #[serde(flatten)]
    pub funnel: Funnel,
}

/// Totals per kind.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ByKind {
    pub direct_to_chat: Funnel,
    pub landing_page: Funnel,
}

/// Landing page against direct to chat, with the sample sizes that make it trustworthy.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    /// Landing page's cost per lead divided by direct-to-chat's: 2.0 means a chat lead costs
    /// half as much. `null` when either has no leads or no spend.
    pub cost_per_lead_ratio: Option<f64>,
    pub leads_per_1000_spend: KindValues,
    /// Click-to-lead rate of each kind with its 95 % Wilson interval.
    pub click_to_lead: KindRates,
    /// Two-proportion test of the click-to-lead rates at 95 %.
    pub difference: Difference,
    /// The comparison in one or two plain sentences.
    pub verdict: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KindValues {
    pub direct_to_chat: Option<f64>,
    pub landing_page: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KindRates {
    pub direct_to_chat: Rate,
    pub landing_page: Rate,
}

/// One day of the range (report time zone), per kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DayRow {
    #[serde(with = "iso_date")]
    pub date: Date,
    pub kind: CampaignKind,
    pub spend: Money,
    pub clicks: i64,
    pub leads: i64,
    pub cost_per_lead: Option<Money>,
}

/// Human clicks and leads for one value of a dimension (country, device, platform, store,
/// attribution method), per kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SliceRow {
    /// The value; `unknown` when the dimension was not known.
    pub value: String,
    pub kind: CampaignKind,
    pub clicks: i64,
    pub leads: i64,
}

/// The breakdowns of the range.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Breakdowns {
    pub by_day: Vec<DayRow>,
    pub by_country: Vec<SliceRow>,
    pub by_device: Vec<SliceRow>,
    pub by_platform: Vec<SliceRow>,
    pub by_store: Vec<SliceRow>,
    pub by_method: Vec<SliceRow>,
}

/// The previous period of the same length, for comparison.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Previous {
    #[serde(with = "iso_date")]
    pub from: Date,
    #[serde(with = "iso_date")]
    pub to: Date,
    pub by_kind: ByKind,
}

/// The funnel report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FunnelReport {
    #[serde(with = "iso_date")]
    pub from: Date,
    #[serde(with = "iso_date")]
    pub to: Date,
    /// The IANA zone whose calendar days the range and the daily rows use.
    pub timezone: String,
    /// The currency of every money figure (the campaigns' common currency).
    pub currency: String,
    pub filters: Filters,
    pub campaigns: Vec<CampaignRow>,
    pub by_kind: ByKind,
    pub comparison: Comparison,
    pub breakdowns: Breakdowns,
    pub previous: Option<Previous>,
    /// Things the reader should know (e.g. spend is per campaign when filtering by store).
    pub notes: Vec<String>,
}
