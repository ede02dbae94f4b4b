//! `chatref report`: the funnel report as a self-contained folder (index.html, CSV, JSON,
//! PNG charts) and a summary on the terminal.

use std::path::PathBuf;

use clap::Args;

use super::output::{json, table};
use crate::{
    config::Config,
    db::Db,
    reports::{self, Funnel, ReportRequest},
};

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// First day, YYYY-MM-DD (default: 29 days before --to).
    #[arg(long)]
    from: Option<String>,
    /// Last day, YYYY-MM-DD (default: today in CHATREF_TIMEZONE).
    #[arg(long)]
    to: Option<String>,
    /// Only these campaigns (repeatable).
    #[arg(long = "campaign")]
    campaigns: Vec<i64>,
    /// direct_to_chat or landing_page.
    #[arg(long)]
    kind: Option<String>,
    /// messenger, instagram, whatsapp, telegram, viber, line, wechat or web.
    #[arg(long)]
    platform: Option<String>,
    #[arg(long)]
    store: Option<String>,
    /// Compare with the previous period of the same length.
    #[arg(long)]
    compare: bool,
    /// Folder to write (default: reports/funnel-FROM-TO).
    #[arg(long)]
    out: Option<PathBuf>,
}

pub async fn run(db: &Db, config: &Config, args: ReportArgs, as_json: bool) -> anyhow::Result<()> {
    let request = ReportRequest {
        from: args.from,
        to: args.to,
        campaigns: args.campaigns.iter().map(ToString::to_string).collect(),
        kind: args.kind,
        platform: args.platform,
        store: args.store,
        compare: args.compare,
    };
    let report = reports::funnel(db, &config.timezone, &request).await?;
    let dir = args
        .out
        .unwrap_or_else(|| PathBuf::from(format!("reports/funnel-{}-{}", report.from, report.to)));
    let csv = reports::csv::render(&report);
    let written = tokio::task::block_in_place(|| reports::folder::write(&dir, &report, &csv))?;
    if as_json {
        return json(&report);
    }
    let row = |label: &str, f: &Funnel| {
        let money = |m: Option<crate::money::Money>| {
            m.map(|m| format!("{m} {}", report.currency))
                .unwrap_or_else(|| "—".into())
        };
        vec![
            label.to_owned(),
            format!("{} {}", f.counts.spend, report.currency),
            reports::html::count(f.counts.clicks),
            reports::html::count(f.counts.leads),
            f.click_to_lead_rate
                .map(|r| format!("{:.1} %", r * 100.0))
                .unwrap_or_else(|| "—".into()),
            money(f.cost_per_lead),
        ]
    };
    println!(
        "Funnel {} – {} ({}, {})",
        report.from, report.to, report.timezone, report.currency
    );
    table(
        &[
            "kind",
            "spend",
            "clicks",
            "leads",
            "click → lead",
            "cost per lead",
        ],
        vec![
            row("direct to chat", &report.by_kind.direct_to_chat),
            row("landing page", &report.by_kind.landing_page),
        ],
    );
    println!("{}", report.comparison.verdict);
    println!("wrote {} files to {}", written.len(), dir.display());
    Ok(())
}
