//! The report's four charts, built from a [`FunnelReport`] and drawn by [`super::charts`].
//!
//! Each kind keeps its colour on every chart (teal for direct to chat, orange for landing
//! pages). When the report is filtered to one kind, the charts show only that kind.

use std::collections::BTreeMap;

use super::charts::{
    self, BarCategory, BarChart, BarSeries, ChartError, FunnelChart, FunnelSeries, Rendered,
    SeriesColor, TimeChart, TimeSeries,
};
use super::model::{Funnel, FunnelReport, SliceRow};
use crate::{campaigns::CampaignKind, money::Money};

/// The report's charts, each drawn as SVG (for the page) and PNG (for the folder).
#[derive(Debug, Clone, PartialEq)]
pub struct Figures {
    /// Clicks, page views, leads, qualified leads and purchases per kind.
    pub funnel: Rendered,
    /// Cost per lead by day, one line per kind.
    pub cost_per_lead: Rendered,
    /// Leads per store, one bar per kind.
    pub leads_by_store: Rendered,
    /// Clicks and leads per country, all kinds summed.
    pub by_country: Rendered,
}

/// The two kinds in the order every view shows them.
pub(crate) const KINDS: [CampaignKind; 2] = [CampaignKind::DirectToChat, CampaignKind::LandingPage];

/// How a kind is named to people ("Direct to chat").
pub(crate) fn kind_label(kind: CampaignKind) -> &'static str {
    match kind {
        CampaignKind::DirectToChat => "Direct to chat",
        CampaignKind::LandingPage => "Landing page",
    }
}

/// The colour of a kind on every chart.
pub(crate) fn kind_color(kind: CampaignKind) -> SeriesColor {
    match kind {
        CampaignKind::DirectToChat => SeriesColor::DirectToChat,
        CampaignKind::LandingPage => SeriesColor::LandingPage,
    }
}

/// Draws the four charts of the report.
pub fn draw(report: &FunnelReport) -> Result<Figures, ChartError> {
    Ok(Figures {
        funnel: charts::funnel(&funnel_chart(report))?,
        cost_per_lead: charts::over_time(&cost_per_lead_chart(report))?,
        leads_by_store: charts::bars(&leads_by_store_chart(report))?,
        by_country: charts::bars(&by_country_chart(report))?,
    })
}

/// The kinds the report covers: both, or the one it is filtered to.
fn shown_kinds(report: &FunnelReport) -> Vec<CampaignKind> {
    KINDS
        .into_iter()
        .filter(|kind| report.filters.kind.is_none_or(|only| only == *kind))
        .collect()
}

fn funnel_of(report: &FunnelReport, kind: CampaignKind) -> &Funnel {
    match kind {
        CampaignKind::DirectToChat => &report.by_kind.direct_to_chat,
        CampaignKind::LandingPage => &report.by_kind.landing_page,
    }
}

/// A count as the charts take it: never negative.
fn count(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

/// Money in currency units, for plotting only (the tables show it exactly).
fn units(money: Money) -> f64 {
    money.micros() as f64 / 1_000_000.0
}

fn funnel_chart(report: &FunnelReport) -> FunnelChart {
    let steps = ["Clicks", "Page views", "Leads", "Qualified", "Purchases"];
    let series = shown_kinds(report)
        .into_iter()
        .map(|kind| {
            let counts = &funnel_of(report, kind).counts;
            let page_views = match kind {
                CampaignKind::DirectToChat => None,
                CampaignKind::LandingPage => Some(count(counts.page_views)),
            };
            FunnelSeries {
                label: kind_label(kind).to_owned(),
                color: kind_color(kind),
                counts: vec![
                    Some(count(counts.clicks)),
                    page_views,
                    Some(count(counts.leads)),
                    Some(count(counts.qualified)),
                    Some(count(counts.purchases)),
                ],
            }
        })
        .collect();
    FunnelChart {
        title: "Funnel by kind".to_owned(),
        steps: steps.map(str::to_owned).to_vec(),
        series,
    }
}

fn cost_per_lead_chart(report: &FunnelReport) -> TimeChart {
    let series = shown_kinds(report)
        .into_iter()
        .map(|kind| TimeSeries {
            label: kind_label(kind).to_owned(),
            color: kind_color(kind),
            points: report
                .breakdowns
                .by_day
                .iter()
                .filter(|row| row.kind == kind)
                .map(|row| (row.date, row.cost_per_lead.map(units)))
                .collect(),
        })
        .collect();
    TimeChart {
        title: "Cost per lead by day".to_owned(),
        y_label: format!("Cost per lead ({})", report.currency),
        series,
    }
}

fn leads_by_store_chart(report: &FunnelReport) -> BarChart {
    let kinds = shown_kinds(report);
    let mut stores: BTreeMap<&str, Vec<u64>> = BTreeMap::new();
    for row in &report.breakdowns.by_store {
        let Some(index) = kinds.iter().position(|kind| *kind == row.kind) else {
            continue;
        };
        let values = stores
            .entry(row.value.as_str())
            .or_insert_with(|| vec![0; kinds.len()]);
        values[index] = values[index].saturating_add(count(row.leads));
    }
    BarChart {
        title: "Leads by store".to_owned(),
        value_label: "Leads".to_owned(),
        series: kinds
            .iter()
            .map(|&kind| BarSeries {
                label: kind_label(kind).to_owned(),
                color: kind_color(kind),
            })
            .collect(),
        categories: categories(stores),
    }
}

fn by_country_chart(report: &FunnelReport) -> BarChart {
    let kinds = shown_kinds(report);
    let mut countries: BTreeMap<&str, Vec<u64>> = BTreeMap::new();
    let rows = report
        .breakdowns
        .by_country
        .iter()
        .filter(|row| kinds.contains(&row.kind));
    for SliceRow {
        value,
        clicks,
        leads,
        ..
    } in rows
    {
        let values = countries
            .entry(value.as_str())
            .or_insert_with(|| vec![0; 2]);
        values[0] = values[0].saturating_add(count(*clicks));
        values[1] = values[1].saturating_add(count(*leads));
    }
    BarChart {
        title: "Clicks and leads by country".to_owned(),
        value_label: "Clicks and leads".to_owned(),
        series: vec![
            BarSeries {
                label: "Clicks".to_owned(),
                color: SeriesColor::Extra(0),
            },
            BarSeries {
                label: "Leads".to_owned(),
                color: SeriesColor::Extra(1),
            },
        ],
        categories: categories(countries),
    }
}

fn categories(values: BTreeMap<&str, Vec<u64>>) -> Vec<BarCategory> {
    values
        .into_iter()
        .map(|(label, values)| BarCategory {
            label: label.to_owned(),
            values,
        })
        .collect()
}

/// A funnel with nothing in it: every count 0, every rate and cost missing.
#[cfg(test)]
pub(crate) fn empty_funnel() -> Funnel {
    Funnel {
        counts: Default::default(),
        click_to_lead_rate: None,
        click_to_view_rate: None,
        view_to_lead_rate: None,
        lead_to_qualified_rate: None,
        qualified_to_purchase_rate: None,
        click_drop_off: None,
        cost_per_click: None,
        cost_per_lead: None,
        cost_per_qualified: None,
        cost_per_purchase: None,
        leads_per_1000_spend: None,
        median_seconds_to_lead: None,
        p90_seconds_to_lead: None,
        timed_leads: 0,
    }
}

/// A realistic report for the tests of the report's views: November 2026 in São Paulo,
/// five campaigns (one with a hostile name), 30 days, stores, countries and a previous
/// period.
#[cfg(test)]
pub(crate) fn sample() -> FunnelReport {
    use super::model::{
        Breakdowns, ByKind, CampaignRow, Comparison, Counts, DayRow, Filters, KindRates,
        KindValues, Previous,
    };
    use super::stats::{self, ratio, wilson};
    use time::macros::date;

    fn money(units: f64) -> Money {
        Money::from_micros((units * 1_000_000.0).round() as i64)
    }
    fn per(spend: Money, denominator: i64) -> Option<Money> {
        ratio(spend.micros() as f64, denominator as f64)
            .map(|micros| Money::from_micros(micros as i64))
    }
    fn funnel(counts: Counts, kind: CampaignKind, times: Option<(i64, i64)>) -> Funnel {
        let c = &counts;
        let rate = |a: i64, b: i64| ratio(a as f64, b as f64);
        let landing = kind == CampaignKind::LandingPage;
        Funnel {
            click_to_lead_rate: rate(c.leads, c.clicks),
            click_to_view_rate: if landing {
                rate(c.page_views, c.clicks)
            } else {
                None
            },
            view_to_lead_rate: if landing {
                rate(c.leads, c.page_views)
            } else {
                None
            },
            lead_to_qualified_rate: rate(c.qualified, c.leads),
            qualified_to_purchase_rate: rate(c.purchases, c.qualified),
            click_drop_off: rate(c.clicks - c.leads, c.clicks),
            cost_per_click: per(c.spend, c.clicks),
            cost_per_lead: per(c.spend, c.leads),
            cost_per_qualified: per(c.spend, c.qualified),
            cost_per_purchase: per(c.spend, c.purchases),
            leads_per_1000_spend: ratio(c.leads as f64 * 1000.0, units(c.spend)),
            median_seconds_to_lead: times.map(|(median, _)| median),
            p90_seconds_to_lead: times.map(|(_, p90)| p90),
            timed_leads: if times.is_some() { c.leads as usize } else { 0 },
            counts,
        }
    }
    #[allow(clippy::too_many_arguments)]
    fn counts(
        spend: f64,
        impressions: i64,
        clicks: i64,
        bots: i64,
        page_views: i64,
        leads: i64,
        qualified: i64,
        purchases: i64,
    ) -> Counts {
        Counts {
            spend: money(spend),
            impressions,
            clicks,
            bot_clicks: bots,
            prefetch_clicks: bots / 3,
            unique_clicks: clicks * 9 / 10,
            page_views,
            leads,
            qualified,
            purchases,
            purchase_value: money(purchases as f64 * 42.5),
        }
    }
    fn sum(rows: &[&Counts]) -> Counts {
        let mut total = Counts::default();
        for c in rows {
            total.spend = Money::from_micros(total.spend.micros() + c.spend.micros());
            total.impressions += c.impressions;
            total.clicks += c.clicks;
            total.bot_clicks += c.bot_clicks;
            total.prefetch_clicks += c.prefetch_clicks;
            total.unique_clicks += c.unique_clicks;
            total.page_views += c.page_views;
            total.leads += c.leads;
            total.qualified += c.qualified;
            total.purchases += c.purchases;
            total.purchase_value =
                Money::from_micros(total.purchase_value.micros() + c.purchase_value.micros());
        }
        total
    }

    use CampaignKind::{DirectToChat as Chat, LandingPage as Page};
    let rows = [
        (
            1,
            "Black Friday – WhatsApp chat",
            Chat,
            counts(1_250.5, 182_400, 5_120, 212, 0, 1_046, 402, 131),
            Some((95, 1_260)),
        ),
        (
            2,
            "Nairobi stores QR posters",
            Chat,
            counts(310.0, 0, 1_480, 35, 0, 388, 120, 41),
            Some((240, 7_500)),
        ),
        (
            3,
            "<script>alert(1)</script>",
            Chat,
            counts(0.0, 0, 0, 4, 0, 0, 0, 0),
            None,
        ),
        (
            4,
            "Black Friday – landing page",
            Page,
            counts(1_480.25, 201_300, 6_010, 340, 4_390, 522, 160, 48),
            Some((720, 14_400)),
        ),
        (
            5,
            "Retargeting – catalogue page",
            Page,
            counts(402.0, 64_000, 1_230, 61, 905, 0, 0, 0),
            None,
        ),
    ];
    let campaigns: Vec<CampaignRow> = rows
        .into_iter()
        .map(|(id, name, kind, counts, times)| CampaignRow {
            id,
            name: name.to_owned(),
            kind,
            funnel: funnel(counts, kind, times),
        })
        .collect();
    let total = |kind: CampaignKind| {
        let rows: Vec<&Counts> = campaigns
            .iter()
            .filter(|row| row.kind == kind)
            .map(|row| &row.funnel.counts)
            .collect();
        funnel(sum(&rows), kind, Some((130, 9_000)))
    };
    let by_kind = ByKind {
        direct_to_chat: total(Chat),
        landing_page: total(Page),
    };
    let (chat, page) = (&by_kind.direct_to_chat.counts, &by_kind.landing_page.counts);
    let cost_per_lead_ratio = match (
        by_kind.landing_page.cost_per_lead,
        by_kind.direct_to_chat.cost_per_lead,
    ) {
        (Some(page), Some(chat)) => ratio(page.micros() as f64, chat.micros() as f64),
        _ => None,
    };
    let comparison = Comparison {
        cost_per_lead_ratio,
        leads_per_1000_spend: KindValues {
            direct_to_chat: by_kind.direct_to_chat.leads_per_1000_spend,
            landing_page: by_kind.landing_page.leads_per_1000_spend,
        },
        click_to_lead: KindRates {
            direct_to_chat: wilson(count(chat.leads), count(chat.clicks)),
            landing_page: wilson(count(page.leads), count(page.clicks)),
        },
        difference: stats::two_proportion(
            count(chat.leads),
            count(chat.clicks),
            count(page.leads),
            count(page.clicks),
        ),
        verdict: "Direct-to-chat leads cost 70 % less than landing-page leads (1.09 USD against \
                  3.61 USD), and chat turned more clicks into leads."
            .to_owned(),
    };

    let first = date!(2026 - 11 - 01);
    let mut by_day = Vec::new();
    for offset in 0..30 {
        let date = first + time::Duration::days(offset);
        for kind in KINDS {
            let wave = ((offset as f64) / 4.0).sin();
            let (spend, clicks, leads) = match kind {
                Chat => (
                    45.0 + 12.0 * wave,
                    200 + (offset * 7) % 60,
                    45 + (offset * 5) % 19,
                ),
                Page => (
                    60.0 + 9.0 * wave,
                    230 + (offset * 11) % 50,
                    17 + (offset * 3) % 11,
                ),
            };
            // A day with spend and no lead: a gap in the chart, "—" in the table.
            let leads = if kind == Page && offset == 12 {
                0
            } else {
                leads
            };
            let spend = money(spend);
            by_day.push(DayRow {
                date,
                kind,
                spend,
                clicks,
                leads,
                cost_per_lead: per(spend, leads),
            });
        }
    }
    let slice = |value: &str, kind: CampaignKind, clicks: i64, leads: i64| SliceRow {
        value: value.to_owned(),
        kind,
        clicks,
        leads,
    };
    let stores = [
        ("Nairobi CBD", 420, 160),
        ("Westlands", 380, 120),
        ("Mombasa Nyali", 260, 88),
        ("Kisumu", 150, 60),
        ("Nakuru", 120, 31),
        ("Eldoret", 90, 22),
        ("Thika Road Mall", 70, 19),
        ("unknown", 20, 3),
    ];
    let mut by_store = Vec::new();
    for (store, chat_leads, page_leads) in stores {
        by_store.push(slice(store, Chat, chat_leads * 4, chat_leads));
        by_store.push(slice(store, Page, page_leads * 11, page_leads));
    }
    let countries = [
        ("KE", 4_200, 1_100, 3_900, 300),
        ("BR", 1_600, 210, 2_100, 150),
        ("TZ", 520, 90, 610, 41),
        ("UG", 240, 30, 380, 22),
        ("unknown", 40, 4, 250, 9),
    ];
    let mut by_country = Vec::new();
    for (country, chat_clicks, chat_leads, page_clicks, page_leads) in countries {
        by_country.push(slice(country, Chat, chat_clicks, chat_leads));
        by_country.push(slice(country, Page, page_clicks, page_leads));
    }
    let by_device = vec![
        slice("mobile", Chat, 5_900, 1_290),
        slice("desktop", Chat, 600, 130),
        slice("tablet", Chat, 100, 14),
        slice("mobile", Page, 5_400, 410),
        slice("desktop", Page, 1_700, 105),
        slice("tablet", Page, 140, 7),
    ];
    let by_platform = vec![
        slice("whatsapp", Chat, 5_700, 1_240),
        slice("telegram", Chat, 900, 194),
    ];
    let by_method = vec![
        slice("ref_tag", Chat, 6_100, 1_310),
        slice("text_tag", Chat, 400, 110),
        slice("ad_id", Chat, 100, 14),
        slice("form", Page, 7_240, 522),
    ];

    let previous_kind = |kind: CampaignKind, spend: f64, clicks: i64, leads: i64| {
        funnel(
            counts(
                spend,
                0,
                clicks,
                0,
                if kind == Page { clicks * 7 / 10 } else { 0 },
                leads,
                leads / 3,
                leads / 9,
            ),
            kind,
            None,
        )
    };
    FunnelReport {
        from: first,
        to: date!(2026 - 11 - 30),
        timezone: "America/Sao_Paulo".to_owned(),
        currency: "USD".to_owned(),
        filters: Filters {
            campaigns: vec![],
            kind: None,
            platform: None,
            store: None,
            compare_previous: true,
        },
        campaigns,
        by_kind,
        comparison,
        breakdowns: Breakdowns {
            by_day,
            by_country,
            by_device,
            by_platform,
            by_store,
            by_method,
        },
        previous: Some(Previous {
            from: date!(2026 - 10 - 02),
            to: date!(2026 - 10 - 31),
            by_kind: ByKind {
                direct_to_chat: previous_kind(Chat, 1_400.0, 5_900, 1_150),
                landing_page: previous_kind(Page, 1_700.0, 6_600, 520),
            },
        }),
        notes: vec![
            "Spend is imported daily from the ad platforms; today's spend may still change."
                .to_owned(),
            "Page views are counted only for landing-page campaigns.".to_owned(),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts_in(svg: &str) -> bool {
        svg.starts_with("<svg") || svg.contains("<svg")
    }

    #[test]
    fn draws_the_four_charts_with_their_titles() {
        let figures = draw(&sample()).unwrap();
        for (rendered, title) in [
            (&figures.funnel, "Funnel by kind"),
            (&figures.cost_per_lead, "Cost per lead by day"),
            (&figures.leads_by_store, "Leads by store"),
            (&figures.by_country, "Clicks and leads by country"),
        ] {
            assert!(texts_in(&rendered.svg));
            assert!(rendered.svg.contains(title), "{title}");
            assert!(rendered.png.starts_with(b"\x89PNG"), "{title}");
        }
        assert!(figures.cost_per_lead.svg.contains("Cost per lead (USD)"));
        assert!(figures.leads_by_store.svg.contains("Nairobi CBD"));
        assert!(figures.by_country.svg.contains("KE"));
    }

    #[test]
    fn funnel_has_no_page_views_for_chat() {
        let chart = funnel_chart(&sample());
        assert_eq!(chart.series.len(), 2);
        assert_eq!(chart.series[0].label, "Direct to chat");
        assert_eq!(chart.series[0].counts[1], None);
        assert_eq!(chart.series[1].counts[1], Some(5_295));
        assert_eq!(chart.series[0].counts[0], Some(6_600));
    }

    #[test]
    fn cost_per_lead_without_leads_is_a_gap() {
        let chart = cost_per_lead_chart(&sample());
        let page = &chart.series[1];
        assert_eq!(page.color, SeriesColor::LandingPage);
        assert_eq!(page.points.len(), 30);
        assert_eq!(page.points[12].1, None);
        assert!(page.points[0].1.is_some_and(|value| value > 0.0));
    }

    #[test]
    fn bars_sum_per_store_and_country() {
        let report = sample();
        let stores = leads_by_store_chart(&report);
        let nairobi = stores
            .categories
            .iter()
            .find(|category| category.label == "Nairobi CBD")
            .unwrap();
        assert_eq!(nairobi.values, vec![420, 160]);
        let countries = by_country_chart(&report);
        let kenya = countries
            .categories
            .iter()
            .find(|category| category.label == "KE")
            .unwrap();
        assert_eq!(kenya.values, vec![4_200 + 3_900, 1_100 + 300]);
    }

    #[test]
    fn a_kind_filter_keeps_only_that_kind() {
        let mut report = sample();
        report.filters.kind = Some(CampaignKind::LandingPage);
        assert_eq!(funnel_chart(&report).series.len(), 1);
        let stores = leads_by_store_chart(&report);
        assert_eq!(stores.series[0].label, "Landing page");
        assert!(
            stores
                .categories
                .iter()
                .all(|category| category.values.len() == 1)
        );
        let countries = by_country_chart(&report);
        let kenya = countries
            .categories
            .iter()
            .find(|category| category.label == "KE")
            .unwrap();
        assert_eq!(kenya.values, vec![3_900, 300]);
    }

    #[test]
    fn an_empty_report_draws_no_data_charts() {
        let mut report = sample();
        report.breakdowns = Default::default();
        report.by_kind.direct_to_chat.counts = Default::default();
        report.by_kind.landing_page.counts = Default::default();
        let figures = draw(&report).unwrap();
        assert!(figures.funnel.svg.contains("No data in this range"));
        assert!(figures.by_country.svg.contains("No data in this range"));
    }
}
