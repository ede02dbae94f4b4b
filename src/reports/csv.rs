//! The report as CSV: one row per campaign, then one total row per kind. Empty cells where
//! JSON has `null` (a cost without a denominator), never 0.

use super::{Funnel, FunnelReport};
use crate::{export::CsvText, money::Money};

const HEADER: [&str; 29] = [
    "row",
    "campaign_id",
    "campaign",
    "kind",
    "currency",
    "from",
    "to",
    "spend",
    "impressions",
    "clicks",
    "bot_clicks",
    "prefetch_clicks",
    "unique_clicks",
    "page_views",
    "leads",
    "qualified",
    "purchases",
    "purchase_value",
    "click_to_lead_rate",
    "click_to_view_rate",
    "view_to_lead_rate",
    "lead_to_qualified_rate",
    "qualified_to_purchase_rate",
    "cost_per_click",
    "cost_per_lead",
    "cost_per_qualified",
    "cost_per_purchase",
    "median_seconds_to_lead",
    "p90_seconds_to_lead",
];

/// The report's rows as CSV.
pub fn render(report: &FunnelReport) -> String {
    let mut csv = CsvText::new(HEADER);
    let money = |m: Option<Money>| m.map(|m| m.to_string()).unwrap_or_default();
    let rate = |r: Option<f64>| r.map(|r| format!("{r:.6}")).unwrap_or_default();
    let int = |n: Option<i64>| n.map(|n| n.to_string()).unwrap_or_default();
    let mut row = |label: &str, id: String, name: &str, kind: &str, f: &Funnel| {
        let c = &f.counts;
        let cells = [
            label.to_owned(),
            id,
            name.to_owned(),
            kind.to_owned(),
            report.currency.clone(),
            report.from.to_string(),
            report.to.to_string(),
            c.spend.to_string(),
            c.impressions.to_string(),
            c.clicks.to_string(),
            c.bot_clicks.to_string(),
            c.prefetch_clicks.to_string(),
            c.unique_clicks.to_string(),
            c.page_views.to_string(),
            c.leads.to_string(),
            c.qualified.to_string(),
            c.purchases.to_string(),
            c.purchase_value.to_string(),
            rate(f.click_to_lead_rate),
            rate(f.click_to_view_rate),
            rate(f.view_to_lead_rate),
            rate(f.lead_to_qualified_rate),
            rate(f.qualified_to_purchase_rate),
            money(f.cost_per_click),
            money(f.cost_per_lead),
            money(f.cost_per_qualified),
            money(f.cost_per_purchase),
            int(f.median_seconds_to_lead),
            int(f.p90_seconds_to_lead),
        ];
        csv.row(cells.iter().map(String::as_str));
    };
    for c in &report.campaigns {
        row(
            "campaign",
            c.id.to_string(),
            &c.name,
            c.kind.as_str(),
            &c.funnel,
        );
    }
    row(
        "kind_total",
        String::new(),
        "",
        "direct_to_chat",
        &report.by_kind.direct_to_chat,
    );
    row(
        "kind_total",
        String::new(),
        "",
        "landing_page",
        &report.by_kind.landing_page,
    );
    csv.finish()
}
