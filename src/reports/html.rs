//! The funnel report as one self-contained HTML page (`templates/report.html`).
//!
//! The page answers first (the verdict and one card per kind), then shows the charts as
//! inline SVG, the campaigns and the breakdowns. It needs no JavaScript, no web font and
//! no other file: the stylesheet (`templates/report.css`) is embedded in the page.
//!
//! Every value is formatted here, into the plain strings the template shows: numbers with
//! thousands separators ("12,480"), money with two decimals ("1,250.50"), rates as
//! percentages with one decimal ("12.4 %"), and every missing value as "—", never 0 or
//! NaN. Askama escapes all of it; only the SVG drawn by [`super::charts`], which escapes
//! its own text, is inserted as markup.

use super::format::{group_thousands, month_abbreviation};
use askama::Template;
use time::{Date, OffsetDateTime};

use super::figures::{Figures, KINDS, kind_label};
use super::model::{CampaignRow, DayRow, Funnel, FunnelReport, SliceRow};
use super::stats::{Difference, Rate};
use crate::{campaigns::CampaignKind, money::Money};

/// The stylesheet, embedded in the page so that it is self-contained.
const CSS: &str = include_str!("../../templates/report.css");

/// What every missing value reads.
const MISSING: &str = "—";

/// Where the page links its downloads: the live page links the API with the same query,
/// the report folder its own `funnel.csv` and `funnel.json`. `None` leaves the link out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageLinks {
    pub csv_url: Option<String>,
    pub json_url: Option<String>,
}

/// Renders the report page, with the charts inline.
pub fn render(
    report: &FunnelReport,
    figures: &Figures,
    links: &PageLinks,
) -> Result<String, askama::Error> {
    ReportPage::new(report, figures, links, OffsetDateTime::now_utc()).render()
}

// ---------------------------------------------------------------------------
// The page's values
// ---------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "report.html")]
struct ReportPage<'a> {
    css: &'static str,
    product: &'static str,
    version: &'static str,
    range: String,
    previous_range: Option<String>,
    currency: &'a str,
    filters: Vec<FilterView>,
    links: &'a PageLinks,
    verdict: &'a str,
    cards: Vec<CardView>,
    ratio: String,
    significance: String,
    significant: bool,
    figures: Vec<FigureView<'a>>,
    campaigns: Vec<FunnelView>,
    totals: Vec<FunnelView>,
    days: Vec<DayGroup>,
    slices: Vec<SliceTable>,
    notes: &'a [String],
    generated: String,
}

/// A kind as shown in tables and cards.
struct KindView {
    /// CSS class: `dtc` or `lp`.
    class: &'static str,
    label: &'static str,
}

impl KindView {
    fn of(kind: CampaignKind) -> KindView {
        KindView {
            class: match kind {
                CampaignKind::DirectToChat => "dtc",
                CampaignKind::LandingPage => "lp",
            },
            label: kind_label(kind),
        }
    }
}

struct FilterView {
    label: &'static str,
    value: String,
}

/// One kind's card in "the answer".
struct CardView {
    kind: KindView,
    cost_per_lead: String,
    change: Option<ChangeView>,
    leads: String,
    clicks: String,
    spend: String,
    click_to_lead: String,
    leads_per_1000: String,
}

/// Cost per lead against the previous period.
struct ChangeView {
    /// `▲`, `▼` or `=`.
    arrow: &'static str,
    /// `better`, `worse` or `same`: a lower cost is better.
    class: &'static str,
    text: String,
}

struct FigureView<'a> {
    id: &'static str,
    svg: &'a str,
    caption: &'static str,
}

/// A campaign's row, or a kind's totals row.
struct FunnelView {
    name: String,
    kind: KindView,
    spend: String,
    impressions: String,
    clicks: String,
    bots: String,
    prefetch: String,
    unique: String,
    page_views: String,
    leads: String,
    qualified: String,
    purchases: String,
    click_to_lead: String,
    cost_per_click: String,
    cost_per_lead: String,
    cost_per_qualified: String,
    cost_per_purchase: String,
    median_to_lead: String,
    p90_to_lead: String,
}

/// The rows of one day, one per kind.
struct DayGroup {
    date: String,
    rows: Vec<DayView>,
}

struct DayView {
    kind: KindView,
    spend: String,
    clicks: String,
    leads: String,
    cost_per_lead: String,
}

struct SliceTable {
    id: &'static str,
    caption: &'static str,
    heading: &'static str,
    rows: Vec<SliceView>,
}

struct SliceView {
    value: String,
    unknown: bool,
    kind: KindView,
    clicks: String,
    leads: String,
    click_to_lead: String,
}

impl<'a> ReportPage<'a> {
    fn new(
        report: &'a FunnelReport,
        figures: &'a Figures,
        links: &'a PageLinks,
        now: OffsetDateTime,
    ) -> ReportPage<'a> {
        let currency = report.currency.as_str();
        let difference = &report.comparison.difference;
        ReportPage {
            css: CSS,
            product: "chatref",
            version: env!("CARGO_PKG_VERSION"),
            range: format!(
                "{}, {}",
                date_range(report.from, report.to),
                report.timezone
            ),
            previous_range: report
                .previous
                .as_ref()
                .map(|previous| date_range(previous.from, previous.to)),
            currency,
            filters: filters(report),
            links,
            verdict: &report.comparison.verdict,
            cards: KINDS.iter().map(|&kind| card(report, kind)).collect(),
            ratio: ratio_sentence(report.comparison.cost_per_lead_ratio),
            significance: significance_sentence(
                difference,
                &report.comparison.click_to_lead.direct_to_chat,
                &report.comparison.click_to_lead.landing_page,
            ),
            significant: difference.significant,
            figures: vec![
                FigureView {
                    id: "figure-funnel",
                    svg: &figures.funnel.svg,
                    caption: "Clicks, page views, leads, qualified leads and purchases of each \
                              kind. Page views apply to landing pages only (n/a for direct to \
                              chat).",
                },
                FigureView {
                    id: "figure-cost-per-lead",
                    svg: &figures.cost_per_lead.svg,
                    caption: "Cost per lead of each kind, day by day. A day with spend but no \
                              lead is a gap in the line.",
                },
                FigureView {
                    id: "figure-leads-by-store",
                    svg: &figures.leads_by_store.svg,
                    caption: "Leads per store and kind, largest first.",
                },
                FigureView {
                    id: "figure-by-country",
                    svg: &figures.by_country.svg,
                    caption: "Human clicks and leads per country, both kinds together.",
                },
            ],
            campaigns: report.campaigns.iter().map(campaign_view).collect(),
            totals: KINDS
                .iter()
                .map(|&kind| {
                    let funnel = match kind {
                        CampaignKind::DirectToChat => &report.by_kind.direct_to_chat,
                        CampaignKind::LandingPage => &report.by_kind.landing_page,
                    };
                    funnel_view(format!("All {}", kind_noun(kind)), kind, funnel)
                })
                .collect(),
            days: day_groups(&report.breakdowns.by_day),
            slices: vec![
                slice_table(
                    "by-country",
                    "By country",
                    "Country",
                    &report.breakdowns.by_country,
                ),
                slice_table(
                    "by-device",
                    "By device",
                    "Device",
                    &report.breakdowns.by_device,
                ),
                slice_table(
                    "by-platform",
                    "By chat platform",
                    "Platform",
                    &report.breakdowns.by_platform,
                ),
                slice_table("by-store", "By store", "Store", &report.breakdowns.by_store),
                slice_table(
                    "by-method",
                    "By attribution method",
                    "Method",
                    &report.breakdowns.by_method,
                ),
            ],
            notes: &report.notes,
            generated: generated_at(now),
        }
    }
}

/// "direct-to-chat campaigns", for the totals rows.
fn kind_noun(kind: CampaignKind) -> &'static str {
    match kind {
        CampaignKind::DirectToChat => "direct-to-chat campaigns",
        CampaignKind::LandingPage => "landing-page campaigns",
    }
}

fn filters(report: &FunnelReport) -> Vec<FilterView> {
    let filters = &report.filters;
    let mut views = Vec::new();
    if !filters.campaigns.is_empty() {
        let names: Vec<String> = filters
            .campaigns
            .iter()
            .map(|id| {
                report
                    .campaigns
                    .iter()
                    .find(|row| row.id == *id)
                    .map_or_else(|| format!("#{id}"), |row| row.name.clone())
            })
            .collect();
        views.push(FilterView {
            label: if names.len() == 1 {
                "Campaign"
            } else {
                "Campaigns"
            },
            value: names.join(", "),
        });
    }
    if let Some(kind) = filters.kind {
        views.push(FilterView {
            label: "Kind",
            value: kind_label(kind).to_owned(),
        });
    }
    if let Some(platform) = &filters.platform {
        views.push(FilterView {
            label: "Platform",
            value: platform.clone(),
        });
    }
    if let Some(store) = &filters.store {
        views.push(FilterView {
            label: "Store",
            value: store.clone(),
        });
    }
    views
}

fn card(report: &FunnelReport, kind: CampaignKind) -> CardView {
    let (funnel, rate, previous) = match kind {
        CampaignKind::DirectToChat => (
            &report.by_kind.direct_to_chat,
            &report.comparison.click_to_lead.direct_to_chat,
            report
                .previous
                .as_ref()
                .map(|previous| &previous.by_kind.direct_to_chat),
        ),
        CampaignKind::LandingPage => (
            &report.by_kind.landing_page,
            &report.comparison.click_to_lead.landing_page,
            report
                .previous
                .as_ref()
                .map(|previous| &previous.by_kind.landing_page),
        ),
    };
    let currency = &report.currency;
    let change = previous.and_then(|previous| {
        let current = funnel.cost_per_lead?;
        Some(match previous.cost_per_lead {
            Some(before) => cost_change(before, current, currency),
            None => ChangeView {
                arrow: "",
                class: "same",
                text: "no leads in the previous period to compare with".to_owned(),
            },
        })
    });
    CardView {
        kind: KindView::of(kind),
        cost_per_lead: funnel
            .cost_per_lead
            .map_or_else(|| MISSING.to_owned(), |cost| money_with(cost, currency)),
        change,
        leads: count(funnel.counts.leads),
        clicks: count(funnel.counts.clicks),
        spend: money_with(funnel.counts.spend, currency),
        click_to_lead: rate_with_interval(rate),
        leads_per_1000: decimal_opt(funnel.leads_per_1000_spend, 1),
    }
}

fn cost_change(before: Money, now: Money, currency: &str) -> ChangeView {
    let was = format!("was {}", money_with(before, currency));
    let change = if before.micros() > 0 {
        (now.micros() as f64 - before.micros() as f64) / before.micros() as f64
    } else {
        f64::NAN
    };
    if !change.is_finite() {
        return ChangeView {
            arrow: "",
            class: "same",
            text: format!("previous period: {was}"),
        };
    }
    // What the reader sees, rounded: a change that rounds to 0.0 % is no change.
    let shown = (change * 1000.0).round() / 10.0;
    if shown == 0.0 {
        ChangeView {
            arrow: "=",
            class: "same",
            text: format!("same as the previous period ({was})"),
        }
    } else if shown > 0.0 {
        ChangeView {
            arrow: "▲",
            class: "worse",
            text: format!(
                "{} higher than the previous period ({was})",
                percent(change)
            ),
        }
    } else {
        ChangeView {
            arrow: "▼",
            class: "better",
            text: format!(
                "{} lower than the previous period ({was})",
                percent(-change)
            ),
        }
    }
}

/// "A chat lead costs 0.42× a landing-page lead." from landing page's cost per lead over
/// direct to chat's.
fn ratio_sentence(page_over_chat: Option<f64>) -> String {
    match page_over_chat {
        Some(ratio) if ratio.is_finite() && ratio > 0.0 => {
            let chat_over_page = 1.0 / ratio;
            let mut sentence = format!(
                "A chat lead costs {}× a landing-page lead",
                decimal(chat_over_page, 2)
            );
            if ratio > 1.0 {
                sentence.push_str(&format!(
                    " (a landing-page lead costs {}× as much)",
                    decimal(ratio, 1)
                ));
            }
            sentence.push('.');
            sentence
        }
        _ => "Cost per lead cannot be compared yet: one of the kinds has no leads or no spend \
              in this range."
            .to_owned(),
    }
}

/// The two-proportion test of the click-to-lead rates in words, with its sample sizes.
fn significance_sentence(difference: &Difference, chat: &Rate, page: &Rate) -> String {
    let based_on = format!(
        "Click-to-lead rates based on {} direct-to-chat and {} landing-page clicks",
        count_u64(chat.trials),
        count_u64(page.trials)
    );
    match difference.p_value.filter(|p| p.is_finite()) {
        _ if difference.significant => format!(
            "{based_on}; the difference is statistically significant at 95 % ({}).",
            p_value(difference.p_value.unwrap_or(0.0))
        ),
        Some(p) if difference.min_sample_ok => format!(
            "{based_on}; not significant yet: the difference could be chance ({}).",
            p_value(p)
        ),
        Some(_) => format!(
            "{based_on}; not significant yet: each kind needs at least 5 leads and 5 clicks \
             without a lead."
        ),
        None => format!("{based_on}; the difference cannot be tested yet."),
    }
}

fn campaign_view(row: &CampaignRow) -> FunnelView {
    funnel_view(row.name.clone(), row.kind, &row.funnel)
}

fn funnel_view(name: String, kind: CampaignKind, funnel: &Funnel) -> FunnelView {
    let counts = &funnel.counts;
    FunnelView {
        name,
        kind: KindView::of(kind),
        spend: money(counts.spend),
        impressions: count(counts.impressions),
        clicks: count(counts.clicks),
        bots: count(counts.bot_clicks),
        prefetch: count(counts.prefetch_clicks),
        unique: count(counts.unique_clicks),
        page_views: match kind {
            CampaignKind::DirectToChat => MISSING.to_owned(),
            CampaignKind::LandingPage => count(counts.page_views),
        },
        leads: count(counts.leads),
        qualified: count(counts.qualified),
        purchases: count(counts.purchases),
        click_to_lead: percent_opt(funnel.click_to_lead_rate),
        cost_per_click: money_opt(funnel.cost_per_click),
        cost_per_lead: money_opt(funnel.cost_per_lead),
        cost_per_qualified: money_opt(funnel.cost_per_qualified),
        cost_per_purchase: money_opt(funnel.cost_per_purchase),
        median_to_lead: duration_opt(funnel.median_seconds_to_lead),
        p90_to_lead: duration_opt(funnel.p90_seconds_to_lead),
    }
}

/// Daily rows grouped by date, in the report's order.
fn day_groups(rows: &[DayRow]) -> Vec<DayGroup> {
    let mut groups: Vec<(Date, DayGroup)> = Vec::new();
    for row in rows {
        let view = DayView {
            kind: KindView::of(row.kind),
            spend: money(row.spend),
            clicks: count(row.clicks),
            leads: count(row.leads),
            cost_per_lead: money_opt(row.cost_per_lead),
        };
        match groups.last_mut() {
            Some((date, group)) if *date == row.date => group.rows.push(view),
            _ => groups.push((
                row.date,
                DayGroup {
                    date: day(row.date),
                    rows: vec![view],
                },
            )),
        }
    }
    groups.into_iter().map(|(_, group)| group).collect()
}

fn slice_table(
    id: &'static str,
    caption: &'static str,
    heading: &'static str,
    rows: &[SliceRow],
) -> SliceTable {
    SliceTable {
        id,
        caption,
        heading,
        rows: rows
            .iter()
            .map(|row| SliceView {
                unknown: row.value.is_empty() || row.value == "unknown",
                value: if row.value.is_empty() {
                    "unknown".to_owned()
                } else {
                    row.value.clone()
                },
                kind: KindView::of(row.kind),
                clicks: count(row.clicks),
                leads: count(row.leads),
                click_to_lead: percent_opt(super::stats::ratio(
                    row.leads as f64,
                    row.clicks as f64,
                )),
            })
            .collect(),
    }
}

fn generated_at(now: OffsetDateTime) -> String {
    let now = now.to_offset(time::UtcOffset::UTC);
    format!(
        "{} at {:02}:{:02} UTC",
        day(now.date()),
        now.hour(),
        now.minute()
    )
}

// ---------------------------------------------------------------------------
// Formatting
// ---------------------------------------------------------------------------

/// A count with thousands separators: `12480` → `"12,480"`.
pub(crate) fn count(value: i64) -> String {
    let grouped = group_thousands(&value.unsigned_abs().to_string());
    if value < 0 {
        format!("-{grouped}")
    } else {
        grouped
    }
}

fn count_u64(value: u64) -> String {
    group_thousands(&value.to_string())
}

/// An amount rounded to cents (half away from zero), with thousands separators and no
/// currency: `1250.5` → `"1,250.50"`.
fn money(amount: Money) -> String {
    let micros = i128::from(amount.micros());
    let cents = (micros.abs() + 5_000) / 10_000;
    let sign = if micros < 0 && cents > 0 { "-" } else { "" };
    format!(
        "{sign}{}.{:02}",
        group_thousands(&(cents / 100).to_string()),
        cents % 100
    )
}

fn money_opt(amount: Option<Money>) -> String {
    amount.map_or_else(|| MISSING.to_owned(), money)
}

/// An amount with its currency: `"1,250.50 USD"`.
pub(crate) fn money_with(amount: Money, currency: &str) -> String {
    format!("{} {currency}", money(amount))
}

/// A number with `decimals` decimals and thousands separators; `"—"` when not finite.
fn decimal(value: f64, decimals: usize) -> String {
    if !value.is_finite() {
        return MISSING.to_owned();
    }
    let text = format!("{:.*}", decimals, value.abs());
    let (whole, fraction) = text.split_once('.').unwrap_or((&text, ""));
    let zero = text.chars().all(|c| c == '0' || c == '.');
    let sign = if value < 0.0 && !zero { "-" } else { "" };
    let whole = group_thousands(whole);
    if fraction.is_empty() {
        format!("{sign}{whole}")
    } else {
        format!("{sign}{whole}.{fraction}")
    }
}

fn decimal_opt(value: Option<f64>, decimals: usize) -> String {
    value.map_or_else(|| MISSING.to_owned(), |value| decimal(value, decimals))
}

/// A fraction as a percentage with one decimal: `0.124` → `"12.4 %"`.
fn percent(fraction: f64) -> String {
    if !fraction.is_finite() {
        return MISSING.to_owned();
    }
    format!("{} %", decimal(fraction * 100.0, 1))
}

fn percent_opt(fraction: Option<f64>) -> String {
    fraction.map_or_else(|| MISSING.to_owned(), percent)
}

/// A rate with its 95 % interval: `"12.4 % (10.1–15.0 %)"`.
fn rate_with_interval(rate: &Rate) -> String {
    let finite = |value: Option<f64>| value.filter(|value| value.is_finite());
    match (finite(rate.value), finite(rate.low), finite(rate.high)) {
        (Some(value), Some(low), Some(high)) => format!(
            "{} ({}–{} %)",
            percent(value),
            decimal(low * 100.0, 1),
            decimal(high * 100.0, 1)
        ),
        (Some(value), _, _) => percent(value),
        _ => MISSING.to_owned(),
    }
}

/// A p-value as people read it: `"p = 0.003"`, `"p < 0.001"`, with no-break spaces so
/// that it never wraps.
fn p_value(p: f64) -> String {
    if p < 0.001 {
        "p\u{a0}<\u{a0}0.001".to_owned()
    } else {
        format!("p\u{a0}=\u{a0}{p:.3}")
    }
}

/// A duration in words, to the largest two units: `"45 s"`, `"4 min"`, `"2 h 5 min"`,
/// `"3 d"`, `"3 d 4 h"`.
pub(crate) fn duration(seconds: i64) -> String {
    let seconds = seconds.max(0);
    let (days, hours, minutes) = (
        seconds / 86_400,
        seconds % 86_400 / 3_600,
        seconds % 3_600 / 60,
    );
    match (days, hours, minutes) {
        (0, 0, 0) => format!("{seconds} s"),
        (0, 0, minutes) => format!("{minutes} min"),
        (0, hours, 0) => format!("{hours} h"),
        (0, hours, minutes) => format!("{hours} h {minutes} min"),
        (days, 0, _) => format!("{} d", count(days)),
        (days, hours, _) => format!("{} d {hours} h", count(days)),
    }
}

fn duration_opt(seconds: Option<i64>) -> String {
    seconds.map_or_else(|| MISSING.to_owned(), duration)
}

/// `"1 Nov 2026"`.
fn day(date: Date) -> String {
    format!(
        "{} {} {}",
        date.day(),
        month_abbreviation(date.month()),
        date.year()
    )
}

/// `"1 Nov 2026 – 30 Nov 2026"`.
fn date_range(from: Date, to: Date) -> String {
    format!("{} – {}", day(from), day(to))
}

#[cfg(test)]
mod tests {
    use time::macros::{date, datetime};

    use super::super::figures::{self, sample};
    use super::super::stats::{two_proportion, wilson};
    use super::*;

    /// Stand-ins for the charts (drawing them is slow in debug builds); the real ones are
    /// drawn in `render_uses_the_public_signature` and the folder's tests.
    fn figures() -> Figures {
        let chart = |title: &str| super::super::charts::Rendered {
            svg: format!("<svg role=\"img\" aria-label=\"{title}\" viewBox=\"0 0 800 400\"></svg>"),
            png: Vec::new(),
            width: 800,
            height: 400,
        };
        Figures {
            funnel: chart("Funnel by kind"),
            cost_per_lead: chart("Cost per lead by day"),
            leads_by_store: chart("Leads by store"),
            by_country: chart("Clicks and leads by country"),
        }
    }

    fn page(report: &FunnelReport) -> String {
        let figures = figures();
        let links = PageLinks {
            csv_url: Some("/api/reports/funnel.csv?from=2026-11-01&to=2026-11-30".into()),
            json_url: Some("/api/reports/funnel?from=2026-11-01&to=2026-11-30".into()),
        };
        ReportPage::new(report, &figures, &links, datetime!(2026-12-01 09:05 UTC))
            .render()
            .unwrap()
    }

    #[test]
    fn the_sample_renders_top_to_bottom() {
        let html = page(&sample());
        assert!(html.starts_with("<!doctype html>"));
        assert!(html.contains("<html lang=\"en\">"));
        let order = [
            "<h1>Funnel report</h1>",
            "Download CSV",
            "Download JSON",
            "1 Nov 2026 – 30 Nov 2026, America/Sao_Paulo",
            "Direct-to-chat leads cost",
            "1.09 USD",
            "A chat lead costs 0.30× a landing-page lead",
            "statistically significant at 95 %",
            "<svg",
            "Campaigns",
            "By day",
            "By attribution method",
            "Spend is imported daily",
            "IP data from the NRO",
        ];
        let mut at = 0;
        for needle in order {
            let found = html[at..]
                .find(needle)
                .unwrap_or_else(|| panic!("{needle}"));
            at += found;
        }
        assert_eq!(html.matches("<figure").count(), 4);
        assert_eq!(html.matches("<figcaption").count(), 4);
        assert!(html.contains("https://www.nro.net"));
        assert!(html.contains("1 Dec 2026 at 09:05 UTC"));
        assert!(!html.contains("<script"), "no JavaScript at all");
        assert!(!html.contains("NaN") && !html.contains(">inf"));
        // The query string of a link is escaped in the attribute.
        assert!(html.contains("funnel.csv?from=2026-11-01&#38;to=2026-11-30"));
    }

    #[test]
    fn user_text_is_escaped() {
        let mut report = sample();
        report
            .notes
            .push("<b>bold</b> & <img src=x onerror=alert(1)>".into());
        report.filters.store = Some("<i>store</i>".into());
        let html = page(&report);
        assert!(!html.contains("<script>alert(1)</script>"));
        assert!(html.contains("&#60;script&#62;alert(1)&#60;/script&#62;"));
        assert!(!html.contains("<img src=x"));
        assert!(!html.contains("<i>store</i>"));
    }

    #[test]
    fn missing_values_read_as_a_dash() {
        let html = page(&sample());
        // "<script>" spent nothing and had no click: every cost is missing.
        let row_start = html.find("&#60;script&#62;alert(1)").unwrap();
        let row = &html[row_start..row_start + html[row_start..].find("</tr>").unwrap()];
        assert!(row.matches(MISSING).count() >= 7, "{row}");
        assert!(!row.contains("0.00 "), "{row}");
        // Page views do not apply to chat.
        assert!(row.contains("<td class=\"num muted\">—</td>") || row.contains(MISSING));

        let mut report = sample();
        report.by_kind.direct_to_chat.cost_per_lead = None;
        report.comparison.cost_per_lead_ratio = None;
        let html = page(&report);
        assert!(html.contains("cannot be compared yet"));
        let card = &html[html.find("class=\"card dtc\"").unwrap()..];
        let cost = &card[card.find("class=\"cost\"").unwrap()..];
        let cost = &cost[..cost.find("</p>").unwrap()];
        assert!(cost.contains(MISSING) && !cost.contains("USD"), "{cost}");
    }

    #[test]
    fn empty_tables_have_a_friendly_message() {
        let mut report = sample();
        report.campaigns.clear();
        report.breakdowns = Default::default();
        let html = page(&report);
        assert!(html.contains("No campaigns in this range yet"));
        assert!(html.matches("No clicks in this range yet").count() >= 6);
    }

    #[test]
    fn previous_period_shows_the_change() {
        let html = page(&sample());
        assert!(html.contains("Compared with"));
        assert!(html.contains("2 Oct 2026 – 31 Oct 2026"));
        assert!(html.contains("▼"), "chat got cheaper in the sample");
        let mut report = sample();
        report.previous = None;
        let html = page(&report);
        assert!(!html.contains("previous period"));
    }

    #[test]
    fn the_cost_change_is_worded_by_direction() {
        let usd = "USD";
        let up = cost_change(
            Money::from_micros(1_000_000),
            Money::from_micros(1_250_000),
            usd,
        );
        assert_eq!((up.arrow, up.class), ("▲", "worse"));
        assert_eq!(
            up.text,
            "25.0 % higher than the previous period (was 1.00 USD)"
        );
        let down = cost_change(
            Money::from_micros(2_000_000),
            Money::from_micros(1_500_000),
            usd,
        );
        assert_eq!((down.arrow, down.class), ("▼", "better"));
        assert!(down.text.starts_with("25.0 % lower"));
        let same = cost_change(
            Money::from_micros(2_000_000),
            Money::from_micros(2_000_001),
            usd,
        );
        assert_eq!(same.arrow, "=");
        let from_zero = cost_change(Money::from_micros(0), Money::from_micros(5), usd);
        assert_eq!(from_zero.arrow, "");
    }

    #[test]
    fn filters_are_listed() {
        let mut report = sample();
        report.filters.campaigns = vec![1, 99];
        report.filters.kind = Some(CampaignKind::DirectToChat);
        report.filters.platform = Some("whatsapp".into());
        let views = filters(&report);
        let shown: Vec<(&str, &str)> = views
            .iter()
            .map(|view| (view.label, view.value.as_str()))
            .collect();
        assert_eq!(
            shown,
            [
                ("Campaigns", "Black Friday – WhatsApp chat, #99"),
                ("Kind", "Direct to chat"),
                ("Platform", "whatsapp"),
            ]
        );
        let html = page(&report);
        assert!(html.contains("whatsapp"));
        assert!(filters(&sample()).is_empty());
        assert!(page(&sample()).contains("All campaigns"));
    }

    #[test]
    fn significance_is_worded_with_sample_sizes() {
        let chat = wilson(300, 1_204);
        let page = wilson(150, 980);
        let sentence = significance_sentence(&two_proportion(300, 1_204, 150, 980), &chat, &page);
        assert_eq!(
            sentence,
            "Click-to-lead rates based on 1,204 direct-to-chat and 980 landing-page clicks; \
             the difference is statistically significant at 95 % (p\u{a0}<\u{a0}0.001)."
        );
        let sentence = significance_sentence(
            &two_proportion(30, 100, 33, 100),
            &wilson(30, 100),
            &wilson(33, 100),
        );
        assert!(
            sentence
                .contains("not significant yet: the difference could be chance (p\u{a0}=\u{a0}0.6")
        );
        let sentence = significance_sentence(
            &two_proportion(2, 10, 1, 10),
            &wilson(2, 10),
            &wilson(1, 10),
        );
        assert!(sentence.contains("at least 5 leads"), "{sentence}");
        let sentence =
            significance_sentence(&two_proportion(0, 0, 1, 10), &wilson(0, 0), &wilson(1, 10));
        assert!(sentence.contains("cannot be tested yet"), "{sentence}");
    }

    #[test]
    fn ratio_is_worded_from_the_chat_side() {
        assert_eq!(
            ratio_sentence(Some(2.0)),
            "A chat lead costs 0.50× a landing-page lead (a landing-page lead costs 2.0× as much)."
        );
        assert_eq!(
            ratio_sentence(Some(0.8)),
            "A chat lead costs 1.25× a landing-page lead."
        );
        for missing in [None, Some(0.0), Some(f64::NAN), Some(f64::INFINITY)] {
            assert!(ratio_sentence(missing).contains("cannot be compared"));
        }
    }

    #[test]
    fn counts_and_money_have_separators() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(12_480), "12,480");
        assert_eq!(count(1_234_567), "1,234,567");
        assert_eq!(count(-1_000), "-1,000");
        assert_eq!(count(i64::MIN), "-9,223,372,036,854,775,808");
        assert_eq!(money(Money::from_micros(1_250_500_000)), "1,250.50");
        assert_eq!(money(Money::from_micros(0)), "0.00");
        assert_eq!(money(Money::from_micros(4_999)), "0.00");
        assert_eq!(money(Money::from_micros(5_000)), "0.01");
        assert_eq!(money(Money::from_micros(1_999_995_000)), "2,000.00");
        assert_eq!(money(Money::from_micros(-1_500_000)), "-1.50");
        assert_eq!(money(Money::from_micros(-1)), "0.00");
        assert_eq!(money(Money::from_micros(i64::MAX)), "9,223,372,036,854.78");
        assert_eq!(
            money_with(Money::from_micros(1_250_500_000), "USD"),
            "1,250.50 USD"
        );
    }

    #[test]
    fn rates_are_percentages_with_one_decimal() {
        assert_eq!(percent(0.124), "12.4 %");
        assert_eq!(percent(1.0), "100.0 %");
        assert_eq!(percent(0.0), "0.0 %");
        assert_eq!(percent(f64::NAN), MISSING);
        assert_eq!(percent(f64::INFINITY), MISSING);
        assert_eq!(percent_opt(None), MISSING);
        assert_eq!(decimal(12_345.678, 1), "12,345.7");
        assert_eq!(decimal(-0.01, 1), "0.0");
        assert_eq!(decimal(-2.5, 2), "-2.50");
        assert_eq!(decimal_opt(None, 1), MISSING);
        let rate = Rate {
            successes: 124,
            trials: 1_000,
            value: Some(0.124),
            low: Some(0.101),
            high: Some(0.15),
        };
        assert_eq!(rate_with_interval(&rate), "12.4 % (10.1–15.0 %)");
        assert_eq!(rate_with_interval(&wilson(0, 0)), MISSING);
        assert_eq!(p_value(0.0031), "p\u{a0}=\u{a0}0.003");
        assert_eq!(p_value(0.0004), "p\u{a0}<\u{a0}0.001");
    }

    #[test]
    fn durations_are_humanised() {
        assert_eq!(duration(0), "0 s");
        assert_eq!(duration(45), "45 s");
        assert_eq!(duration(4 * 60 + 10), "4 min");
        assert_eq!(duration(2 * 3_600), "2 h");
        assert_eq!(duration(2 * 3_600 + 5 * 60 + 59), "2 h 5 min");
        assert_eq!(duration(3 * 86_400 + 59), "3 d");
        assert_eq!(duration(3 * 86_400 + 4 * 3_600), "3 d 4 h");
        assert_eq!(duration(-5), "0 s");
        assert_eq!(duration_opt(None), MISSING);
    }

    #[test]
    fn dates_are_short_and_unambiguous() {
        assert_eq!(day(date!(2026 - 11 - 01)), "1 Nov 2026");
        assert_eq!(
            date_range(date!(2026 - 11 - 01), date!(2026 - 11 - 30)),
            "1 Nov 2026 – 30 Nov 2026"
        );
        assert_eq!(
            generated_at(datetime!(2026-12-01 23:30 -3)),
            "2 Dec 2026 at 02:30 UTC"
        );
    }

    #[test]
    fn days_are_grouped_by_date() {
        let groups = day_groups(&sample().breakdowns.by_day);
        assert_eq!(groups.len(), 30);
        assert!(groups.iter().all(|group| group.rows.len() == 2));
        assert_eq!(groups[0].date, "1 Nov 2026");
        assert_eq!(groups[12].rows[1].cost_per_lead, MISSING);
    }

    #[test]
    fn render_uses_the_public_signature() {
        let report = sample();
        let figures = figures::draw(&report).unwrap();
        let html = render(&report, &figures, &PageLinks::default()).unwrap();
        assert!(!html.contains("Download CSV"), "no link without a URL");
        // The charts' markup is inserted as is, and their escaped labels stay escaped.
        assert_eq!(html.matches("<svg").count(), 4);
        assert!(html.contains(&figures.leads_by_store.svg));
        assert!(html.contains("Nairobi CBD"));
        assert!(!html.contains("<script>"));
    }
}
