//! Funnel reports: spend → clicks → (page views →) leads → qualified → purchases, per
//! campaign and per kind, and the answer the product exists for: does sending people
//! straight into a chat bring leads cheaper than a landing page?
//!
//! Definitions (the database only counts; these decide):
//! - Clicks are human clicks (scans included); bots and prefetches are shown apart.
//! - A lead is a first message for a direct-to-chat campaign and a form lead for a
//!   landing-page campaign; qualified and purchases are the conversions posted later.
//! - Everything is counted by when it happened, in calendar days of the report time zone
//!   ([`zone`]); spend by the day it was billed.
//! - Rates and costs are computed here, at the edge, and are `None` when their denominator
//!   is zero. Money stays exact; a cost is rounded to the micro-unit.
//! - The comparison states each kind's cost per lead, their ratio, leads per 1,000 spent,
//!   and whether the click-to-lead rates differ at 95 % (two-proportion test, Wilson
//!   intervals), with the sample sizes, so nobody moves a budget on 12 clicks.

pub mod charts;
pub mod csv;
pub mod figures;
pub mod folder;
pub mod format;
pub mod html;
pub mod model;
pub mod stats;
pub mod zone;

use std::collections::{BTreeMap, HashMap};

use time::{Date, Duration};

use crate::{
    campaigns::{Campaign, CampaignKind},
    db::{
        Db, DbError,
        reports::{Dimension, Scope},
    },
    money::Money,
};
pub use model::*;
pub use zone::ReportZone;

/// Longest range a report covers.
pub const MAX_DAYS: i64 = 731;
/// Range when none is given: the last 30 days, today included.
pub const DEFAULT_DAYS: i64 = 30;

/// Why a report could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Db(#[from] DbError),
}

/// What a report is asked for, before it is checked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReportRequest {
    pub from: Option<String>,
    pub to: Option<String>,
    pub campaigns: Vec<String>,
    pub kind: Option<String>,
    pub platform: Option<String>,
    pub store: Option<String>,
    pub compare: bool,
}

impl ReportRequest {
    /// Reads query pairs: `from`, `to`, `campaign` (repeatable), `kind`, `platform`,
    /// `store`, `compare=previous`. Unknown names are refused.
    pub fn from_pairs<'a>(
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Self, ReportError> {
        let mut request = ReportRequest::default();
        for (name, value) in pairs {
            let value = value.trim();
            let text = || (!value.is_empty()).then(|| value.to_owned());
            match name {
                "from" => request.from = text(),
                "to" => request.to = text(),
                "campaign" => request.campaigns.extend(text()),
                "kind" => request.kind = text(),
                "platform" => request.platform = text(),
                "store" => request.store = text(),
                "compare" => {
                    request.compare = match value {
                        "previous" | "true" | "1" => true,
                        "" | "none" | "false" | "0" => false,
                        other => {
                            return Err(ReportError::Invalid(format!(
                                "compare `{other}` is not previous or none"
                            )));
                        }
                    }
                }
                other => {
                    return Err(ReportError::Invalid(format!(
                        "unknown parameter `{other}`; expected from, to, campaign, kind, platform, store, compare"
                    )));
                }
            }
        }
        Ok(request)
    }
}

/// Makes the funnel report.
pub async fn funnel(
    db: &Db,
    zone: &ReportZone,
    request: &ReportRequest,
) -> Result<FunnelReport, ReportError> {
    let invalid = |m: String| ReportError::Invalid(m);
    let date = |name: &str, value: &Option<String>| -> Result<Option<Date>, ReportError> {
        value
            .as_deref()
            .map(|v| crate::spend::parse_date(v).map_err(|e| invalid(format!("{name}: {e}"))))
            .transpose()
    };
    let to = date("to", &request.to)?.unwrap_or_else(|| zone.today());
    let from = date("from", &request.from)?.unwrap_or(to - Duration::days(DEFAULT_DAYS - 1));
    if from > to {
        return Err(invalid(format!("from {from} is after to {to}")));
    }
    if (to - from).whole_days() + 1 > MAX_DAYS {
        return Err(invalid(format!(
            "the range covers {} days; a report covers at most {MAX_DAYS} (two years)",
            (to - from).whole_days() + 1
        )));
    }
    let kind: Option<CampaignKind> = request
        .kind
        .as_deref()
        .map(|k| k.parse().map_err(invalid))
        .transpose()?;
    let platform = request
        .platform
        .as_deref()
        .map(|p| match p {
            "web" => Ok("web".to_owned()),
            p => p
                .parse::<crate::platforms::Platform>()
                .map(|p| p.as_str().to_owned())
                .map_err(|e| invalid(format!("platform: {e} (or web for landing pages)"))),
        })
        .transpose()?;

    let all = db.list_campaigns().await?;
    let mut chosen_ids = Vec::new();
    for text in &request.campaigns {
        let id: i64 = text
            .parse()
            .map_err(|_| invalid(format!("campaign `{text}` is not a campaign id")))?;
        if !all.iter().any(|c| c.id == id) {
            return Err(invalid(format!("campaign {id} does not exist")));
        }
        chosen_ids.push(id);
    }
    let campaigns: Vec<&Campaign> = all
        .iter()
        .filter(|c| chosen_ids.is_empty() || chosen_ids.contains(&c.id))
        .filter(|c| kind.is_none_or(|k| c.kind == k))
        .collect();
    let mut currencies: Vec<&str> = campaigns.iter().map(|c| c.currency.as_str()).collect();
    currencies.sort_unstable();
    currencies.dedup();
    if currencies.len() > 1 {
        return Err(invalid(format!(
            "the campaigns use several currencies ({}); choose campaigns of one currency with campaign=ID",
            currencies.join(", ")
        )));
    }
    let currency = currencies.first().copied().unwrap_or("USD").to_owned();

    let scope = Scope {
        start: zone.start_of(from),
        end: zone.start_of(to + Duration::days(1)),
        from,
        to,
        campaign_ids: campaigns.iter().map(|c| c.id).collect(),
        every_campaign: campaigns.len() == all.len(),
        platform: platform.clone(),
        store: request.store.clone(),
    };
    let kinds: HashMap<i64, CampaignKind> = campaigns.iter().map(|c| (c.id, c.kind)).collect();
    let counted = count(db, &scope).await?;

    let mut rows = Vec::with_capacity(campaigns.len());
    let mut per_kind: BTreeMap<&'static str, (Counts, Vec<i64>)> = BTreeMap::new();
    for campaign in &campaigns {
        let counts = counted
            .counts
            .get(&campaign.id)
            .cloned()
            .unwrap_or_default();
        let mut delays = counted
            .delays
            .get(&campaign.id)
            .cloned()
            .unwrap_or_default();
        let total = per_kind.entry(campaign.kind.as_str()).or_default();
        total.0 = add(&total.0, &counts);
        total.1.extend_from_slice(&delays);
        rows.push(CampaignRow {
            id: campaign.id,
            name: campaign.name.clone(),
            kind: campaign.kind,
            funnel: derive(campaign.kind, counts, &mut delays),
        });
    }
    let mut kind_funnel = |kind: CampaignKind| {
        let (counts, mut delays) = per_kind.remove(kind.as_str()).unwrap_or_default();
        derive(kind, counts, &mut delays)
    };
    let by_kind = ByKind {
        direct_to_chat: kind_funnel(CampaignKind::DirectToChat),
        landing_page: kind_funnel(CampaignKind::LandingPage),
    };
    let comparison = compare(&by_kind, &currency);
    let breakdowns = breakdowns(db, zone, &scope, &kinds).await?;

    let previous = if request.compare {
        let length = (to - from).whole_days() + 1;
        let prev_to = from - Duration::days(1);
        let prev_from = prev_to - Duration::days(length - 1);
        let prev_scope = Scope {
            start: zone.start_of(prev_from),
            end: zone.start_of(from),
            from: prev_from,
            to: prev_to,
            ..scope.clone()
        };
        let counted = count(db, &prev_scope).await?;
        let totals = |kind: CampaignKind| {
            let mut counts = Counts::default();
            let mut delays = Vec::new();
            for campaign in campaigns.iter().filter(|c| c.kind == kind) {
                if let Some(c) = counted.counts.get(&campaign.id) {
                    counts = add(&counts, c);
                }
                if let Some(d) = counted.delays.get(&campaign.id) {
                    delays.extend_from_slice(d);
                }
            }
            derive(kind, counts, &mut delays)
        };
        Some(Previous {
            from: prev_from,
            to: prev_to,
            by_kind: ByKind {
                direct_to_chat: totals(CampaignKind::DirectToChat),
                landing_page: totals(CampaignKind::LandingPage),
            },
        })
    } else {
        None
    };

    let mut notes = Vec::new();
    if platform.is_some() || request.store.is_some() {
        notes.push(
            "Spend is recorded per campaign: with a platform or store filter, costs use the whole campaign's spend."
                .to_owned(),
        );
    }
    Ok(FunnelReport {
        from,
        to,
        timezone: zone.name().to_owned(),
        currency,
        filters: Filters {
            campaigns: chosen_ids,
            kind,
            platform,
            store: request.store.clone(),
            compare_previous: request.compare,
        },
        campaigns: rows,
        by_kind,
        comparison,
        breakdowns,
        previous,
        notes,
    })
}

/// Every campaign with its funnel over one range, in its own currency.
#[derive(Debug, Clone)]
pub struct CampaignFunnel {
    pub campaign: Campaign,
    pub funnel: Funnel,
}

/// The campaign list's figures: every campaign's funnel from `from` to `to` (the report's
/// defaults when `None`). A funnel report is in one currency, so one is made per currency
/// among the campaigns; the rows come back in campaign order. Also returns the range used.
pub async fn campaign_funnels(
    db: &Db,
    zone: &ReportZone,
    from: Option<String>,
    to: Option<String>,
) -> Result<(Date, Date, Vec<CampaignFunnel>), ReportError> {
    let campaigns = db.list_campaigns().await?;
    let mut by_currency: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for campaign in &campaigns {
        by_currency
            .entry(campaign.currency.as_str())
            .or_default()
            .push(campaign.id.to_string());
    }
    let mut range = None;
    let mut funnels: HashMap<i64, Funnel> = HashMap::new();
    // With no campaign at all one report still runs, to check the range and say what it is.
    let groups: Vec<Vec<String>> = if by_currency.is_empty() {
        vec![Vec::new()]
    } else {
        by_currency.into_values().collect()
    };
    for ids in groups {
        let request = ReportRequest {
            from: from.clone(),
            to: to.clone(),
            campaigns: ids,
            ..ReportRequest::default()
        };
        let report = funnel(db, zone, &request).await?;
        range = Some((report.from, report.to));
        funnels.extend(report.campaigns.into_iter().map(|row| (row.id, row.funnel)));
    }
    let (from, to) = range.expect("at least one report ran");
    let rows = campaigns
        .into_iter()
        .filter_map(|campaign| {
            let funnel = funnels.remove(&campaign.id)?;
            Some(CampaignFunnel { campaign, funnel })
        })
        .collect();
    Ok((from, to, rows))
}

/// Counts per campaign and the click-to-lead delays, from the database.
struct Counted {
    counts: HashMap<i64, Counts>,
    delays: HashMap<i64, Vec<i64>>,
}

async fn count(db: &Db, scope: &Scope) -> Result<Counted, DbError> {
    let mut counts: HashMap<i64, Counts> = HashMap::new();
    for spend in db.report_spend(scope).await? {
        let c = counts.entry(spend.campaign_id).or_default();
        c.spend = Money::from_micros(spend.amount_micros);
        c.impressions = spend.impressions.unwrap_or(0);
    }
    for row in db.report_clicks(scope).await? {
        let c = counts.entry(row.campaign_id).or_default();
        match row.class.as_str() {
            "human" => {
                c.clicks += row.clicks;
                c.unique_clicks += row.visitors;
            }
            "bot" => c.bot_clicks += row.clicks,
            _ => c.prefetch_clicks += row.clicks,
        }
    }
    for row in db.report_events(scope).await? {
        let c = counts.entry(row.campaign_id).or_default();
        match row.event.as_str() {
            "page_view" => c.page_views += row.events,
            "lead" => c.leads += row.events,
            "qualified" => c.qualified += row.events,
            "purchase" => {
                c.purchases += row.events;
                c.purchase_value =
                    Money::from_micros(c.purchase_value.micros() + row.value_micros.unwrap_or(0));
            }
            _ => {}
        }
    }
    let mut delays: HashMap<i64, Vec<i64>> = HashMap::new();
    for (campaign_id, seconds) in db.report_lead_delays(scope).await? {
        // A platform stamps whole seconds: a message in the click's second reads as -0.
        delays.entry(campaign_id).or_default().push(seconds.max(0));
    }
    Ok(Counted { counts, delays })
}

fn add(a: &Counts, b: &Counts) -> Counts {
    let money = |x: Money, y: Money| Money::from_micros(x.micros() + y.micros());
    Counts {
        spend: money(a.spend, b.spend),
        impressions: a.impressions + b.impressions,
        clicks: a.clicks + b.clicks,
        bot_clicks: a.bot_clicks + b.bot_clicks,
        prefetch_clicks: a.prefetch_clicks + b.prefetch_clicks,
        unique_clicks: a.unique_clicks + b.unique_clicks,
        page_views: a.page_views + b.page_views,
        leads: a.leads + b.leads,
        qualified: a.qualified + b.qualified,
        purchases: a.purchases + b.purchases,
        purchase_value: money(a.purchase_value, b.purchase_value),
    }
}

/// `spend / n`, rounded half up to the micro-unit; `None` for no units.
pub fn cost_per(spend: Money, n: i64) -> Option<Money> {
    (n > 0).then(|| Money::from_micros((spend.micros() + n / 2) / n))
}

fn rate(part: i64, whole: i64) -> Option<f64> {
    stats::ratio(part as f64, whole as f64)
}

/// Every rate and cost of a funnel's counts.
pub fn derive(kind: CampaignKind, counts: Counts, delays: &mut [i64]) -> Funnel {
    delays.sort_unstable();
    let landing = kind == CampaignKind::LandingPage;
    let spend_units = counts.spend.micros() as f64 / 1_000_000.0;
    Funnel {
        click_to_lead_rate: rate(counts.leads, counts.clicks),
        click_to_view_rate: if landing {
            rate(counts.page_views, counts.clicks)
        } else {
            None
        },
        view_to_lead_rate: if landing {
            rate(counts.leads, counts.page_views)
        } else {
            None
        },
        lead_to_qualified_rate: rate(counts.qualified, counts.leads),
        qualified_to_purchase_rate: rate(counts.purchases, counts.qualified),
        click_drop_off: rate(counts.leads, counts.clicks).map(|r| (1.0 - r).max(0.0)),
        cost_per_click: cost_per(counts.spend, counts.clicks),
        cost_per_lead: cost_per(counts.spend, counts.leads),
        cost_per_qualified: cost_per(counts.spend, counts.qualified),
        cost_per_purchase: cost_per(counts.spend, counts.purchases),
        leads_per_1000_spend: stats::ratio(counts.leads as f64 * 1000.0, spend_units),
        median_seconds_to_lead: stats::percentile(delays, 0.5),
        p90_seconds_to_lead: stats::percentile(delays, 0.9),
        timed_leads: delays.len(),
        counts,
    }
}

/// The comparison of the two kinds, with a plain-words verdict.
pub fn compare(by_kind: &ByKind, currency: &str) -> Comparison {
    let chat = &by_kind.direct_to_chat;
    let page = &by_kind.landing_page;
    let (cs, ct) = (
        chat.counts.leads.max(0) as u64,
        chat.counts.clicks.max(0) as u64,
    );
    let (ps, pt) = (
        page.counts.leads.max(0) as u64,
        page.counts.clicks.max(0) as u64,
    );
    let difference = stats::two_proportion(cs, ct, ps, pt);
    let cost_per_lead_ratio = match (chat.cost_per_lead, page.cost_per_lead) {
        (Some(c), Some(p)) => stats::ratio(p.micros() as f64, c.micros() as f64),
        _ => None,
    };
    let click_to_lead = KindRates {
        direct_to_chat: stats::wilson(cs.min(ct), ct),
        landing_page: stats::wilson(ps.min(pt), pt),
    };
    let verdict = verdict(by_kind, cost_per_lead_ratio, &difference, currency);
    Comparison {
        cost_per_lead_ratio,
        leads_per_1000_spend: KindValues {
            direct_to_chat: chat.leads_per_1000_spend,
            landing_page: page.leads_per_1000_spend,
        },
        click_to_lead,
        difference,
        verdict,
    }
}

fn percent(r: Option<f64>) -> String {
    r.map(|r| format!("{:.1} %", r * 100.0))
        .unwrap_or_else(|| "—".into())
}

fn verdict(
    by_kind: &ByKind,
    ratio: Option<f64>,
    difference: &stats::Difference,
    currency: &str,
) -> String {
    let chat = &by_kind.direct_to_chat;
    let page = &by_kind.landing_page;
    if chat.counts.clicks == 0 && page.counts.clicks == 0 {
        return "No clicks in this range yet: nothing to compare.".into();
    }
    if chat.counts.clicks == 0 || page.counts.clicks == 0 {
        let (has, lacks) = if chat.counts.clicks == 0 {
            ("landing-page", "direct-to-chat")
        } else {
            ("direct-to-chat", "landing-page")
        };
        return format!(
            "Only {has} campaigns have clicks in this range; run a {lacks} campaign beside them to compare."
        );
    }
    let mut text = match (chat.cost_per_lead, page.cost_per_lead, ratio) {
        (Some(c), Some(p), Some(r)) if r >= 1.0 => format!(
            "A direct-to-chat lead cost {} against {} through a landing page: {r:.1}× cheaper.",
            html::money_with(c, currency),
            html::money_with(p, currency)
        ),
        (Some(c), Some(p), Some(r)) => format!(
            "A landing-page lead cost {} against {} through direct-to-chat: {:.1}× cheaper.",
            html::money_with(p, currency),
            html::money_with(c, currency),
            1.0 / r
        ),
        _ => "Cost per lead cannot be compared yet: one side has no leads or no spend.".into(),
    };
    text.push_str(&format!(
        " Click to lead: {} for chat against {} for landing pages, on {} and {} clicks; ",
        percent(chat.click_to_lead_rate),
        percent(page.click_to_lead_rate),
        html::count(chat.counts.clicks),
        html::count(page.counts.clicks),
    ));
    text.push_str(if !difference.min_sample_ok {
        "too few leads yet to tell the difference from chance."
    } else if difference.significant {
        "the difference is statistically significant at 95 %."
    } else {
        "the difference is not statistically significant at 95 % yet."
    });
    text
}

async fn breakdowns(
    db: &Db,
    zone: &ReportZone,
    scope: &Scope,
    kinds: &HashMap<i64, CampaignKind>,
) -> Result<Breakdowns, DbError> {
    let present: Vec<CampaignKind> = [CampaignKind::DirectToChat, CampaignKind::LandingPage]
        .into_iter()
        .filter(|k| kinds.values().any(|v| v == k))
        .collect();
    // By day: every day of the range for each kind present, so gaps are explicit.
    let mut days: BTreeMap<(Date, &'static str), (i64, i64, i64)> = BTreeMap::new();
    let mut day = scope.from;
    while day <= scope.to {
        for kind in &present {
            days.insert((day, kind.as_str()), (0, 0, 0));
        }
        day += Duration::days(1);
    }
    let mut bump = |campaign: i64, date: Date, slot: usize, n: i64| {
        if let Some(kind) = kinds.get(&campaign)
            && let Some(entry) = days.get_mut(&(date, kind.as_str()))
        {
            match slot {
                0 => entry.0 += n,
                1 => entry.1 += n,
                _ => entry.2 += n,
            }
        }
    };
    for row in db.report_spend_by_day(scope).await? {
        bump(row.campaign_id, row.day, 0, row.count);
    }
    for segment in zone.segments(scope.start, scope.end) {
        let (clicks, leads) = db.report_days(scope, segment).await?;
        for row in clicks {
            bump(row.campaign_id, row.day, 1, row.count);
        }
        for row in leads {
            bump(row.campaign_id, row.day, 2, row.count);
        }
    }
    let by_day = days
        .into_iter()
        .map(|((date, kind), (spend, clicks, leads))| DayRow {
            date,
            kind: kind.parse().unwrap_or(CampaignKind::DirectToChat),
            spend: Money::from_micros(spend),
            clicks,
            leads,
            cost_per_lead: cost_per(Money::from_micros(spend), leads),
        })
        .collect();

    let mut slices = Vec::new();
    for dimension in [
        Dimension::Country,
        Dimension::Device,
        Dimension::Platform,
        Dimension::Store,
        Dimension::Method,
    ] {
        let (clicks, leads) = db.report_slices(scope, dimension).await?;
        let mut by_value: BTreeMap<(String, &'static str), (i64, i64)> = BTreeMap::new();
        for (rows, lead) in [(clicks, false), (leads, true)] {
            for row in rows {
                let Some(kind) = kinds.get(&row.campaign_id) else {
                    continue;
                };
                let entry = by_value.entry((row.value, kind.as_str())).or_default();
                if lead {
                    entry.1 += row.count;
                } else {
                    entry.0 += row.count;
                }
            }
        }
        let mut rows: Vec<SliceRow> = by_value
            .into_iter()
            .map(|((value, kind), (clicks, leads))| SliceRow {
                value,
                kind: kind.parse().unwrap_or(CampaignKind::DirectToChat),
                clicks,
                leads,
            })
            .collect();
        rows.sort_by(|a, b| {
            (b.clicks, b.leads, &a.value, a.kind.as_str()).cmp(&(
                a.clicks,
                a.leads,
                &b.value,
                b.kind.as_str(),
            ))
        });
        slices.push(rows);
    }
    let mut slices = slices.into_iter();
    let mut next = || slices.next().unwrap_or_default();
    Ok(Breakdowns {
        by_day,
        by_country: next(),
        by_device: next(),
        by_platform: next(),
        by_store: next(),
        by_method: next(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(spend: &str, clicks: i64, page_views: i64, leads: i64) -> Counts {
        Counts {
            spend: spend.parse().unwrap(),
            clicks,
            page_views,
            leads,
            ..Counts::default()
        }
    }

    #[test]
    fn costs_without_a_denominator_are_none_never_zero() {
        let f = derive(CampaignKind::DirectToChat, counts("100", 0, 0, 0), &mut []);
        assert_eq!((f.cost_per_click, f.cost_per_lead), (None, None));
        assert_eq!(f.click_to_lead_rate, None);
        assert_eq!(f.click_to_view_rate, None, "chat has no page views");
        let f = derive(CampaignKind::LandingPage, counts("0", 10, 5, 0), &mut []);
        assert_eq!(f.leads_per_1000_spend, None);
        assert_eq!(f.click_to_view_rate, Some(0.5));
    }

    #[test]
    fn costs_are_exact_and_rounded_half_up() {
        let f = derive(
            CampaignKind::LandingPage,
            counts("100", 40, 30, 3),
            &mut [30, 10, 20],
        );
        assert_eq!(f.cost_per_lead.unwrap().to_string(), "33.333333");
        assert_eq!(f.cost_per_click.unwrap().to_string(), "2.50");
        assert_eq!(f.view_to_lead_rate, Some(0.1));
        assert_eq!(f.leads_per_1000_spend, Some(30.0));
        assert_eq!(
            (f.median_seconds_to_lead, f.p90_seconds_to_lead),
            (Some(20), Some(30))
        );
        assert_eq!(
            cost_per("0.000002".parse().unwrap(), 3).unwrap().micros(),
            1
        );
    }

    #[test]
    fn the_verdict_names_the_cheaper_kind_and_the_evidence() {
        let by_kind = ByKind {
            direct_to_chat: derive(
                CampaignKind::DirectToChat,
                counts("100", 1000, 0, 100),
                &mut [],
            ),
            landing_page: derive(
                CampaignKind::LandingPage,
                counts("100", 1000, 600, 40),
                &mut [],
            ),
        };
        let c = compare(&by_kind, "USD");
        assert_eq!(c.cost_per_lead_ratio, Some(2.5));
        assert!(c.difference.significant);
        assert!(
            c.verdict.contains("direct-to-chat lead cost 1.00 USD"),
            "{}",
            c.verdict
        );
        assert!(c.verdict.contains("2.5× cheaper"), "{}", c.verdict);
        assert!(
            c.verdict.contains("1,000 and 1,000 clicks"),
            "{}",
            c.verdict
        );
        assert!(c.verdict.contains("significant at 95 %"), "{}", c.verdict);

        let small = ByKind {
            direct_to_chat: derive(CampaignKind::DirectToChat, counts("10", 12, 0, 3), &mut []),
            landing_page: derive(CampaignKind::LandingPage, counts("10", 12, 6, 1), &mut []),
        };
        let c = compare(&small, "USD");
        assert!(!c.difference.significant);
        assert!(c.verdict.contains("too few leads"), "{}", c.verdict);
    }

    #[test]
    fn requests_refuse_unknown_parameters_and_bad_compare() {
        let r = ReportRequest::from_pairs([
            ("from", "2026-11-01"),
            ("campaign", "3"),
            ("campaign", "4"),
        ])
        .unwrap();
        assert_eq!(r.campaigns, ["3", "4"]);
        assert!(ReportRequest::from_pairs([("form", "x")]).is_err());
        assert!(ReportRequest::from_pairs([("compare", "maybe")]).is_err());
    }
}
