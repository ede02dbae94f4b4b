//! `chatref spend add|list|import`: ad spend per campaign and day.

use std::path::PathBuf;

use anyhow::Context;
use clap::Subcommand;
use indicatif::{ProgressBar, ProgressStyle};

use super::output::{cell, json, table};
use crate::{
    db::Db,
    money::AmountInput,
    spend::{self, SpendError, SpendRequest},
};

#[derive(Debug, Subcommand)]
pub enum SpendCommand {
    /// Record (or replace) one day's spend of a campaign.
    Add {
        #[arg(long)]
        campaign: i64,
        /// The day, YYYY-MM-DD (the ad account's day).
        #[arg(long)]
        date: String,
        /// Amount in the campaign's currency, e.g. 125.40.
        #[arg(long)]
        amount: String,
        #[arg(long)]
        impressions: Option<i64>,
        #[arg(long)]
        clicks: Option<i64>,
    },
    /// A campaign's spend by day and source.
    List {
        #[arg(long)]
        campaign: i64,
    },
    /// Import an ad platform's CSV export (Meta Ads Manager in English, Portuguese or
    /// Spanish; Google Ads; or plain date,campaign,amount). All rows or none.
    Import { file: PathBuf },
    /// Map an ad platform's campaign id to a campaign, so imports match it by id.
    Map {
        #[arg(long)]
        campaign: i64,
        #[arg(long = "external-id")]
        external_id: String,
    },
}

pub async fn run(db: &Db, command: SpendCommand, as_json: bool) -> anyhow::Result<()> {
    match command {
        SpendCommand::Add {
            campaign,
            date,
            amount,
            impressions,
            clicks,
        } => {
            let request = SpendRequest {
                date,
                amount: AmountInput::Text(amount),
                impressions,
                clicks,
            };
            let entry = spend::record(db, campaign, request).await?;
            if as_json {
                return json(&entry);
            }
            println!(
                "campaign {}: {} spent on {}",
                entry.campaign_id, entry.amount, entry.date
            );
        }
        SpendCommand::List { campaign } => {
            db.campaign(campaign).await?;
            let entries = db.list_spend(campaign).await?;
            if as_json {
                return json(&entries);
            }
            table(
                &["date", "source", "amount", "impressions", "clicks"],
                entries
                    .iter()
                    .map(|e| {
                        vec![
                            e.date.to_string(),
                            e.source.clone(),
                            e.amount.to_string(),
                            cell(&e.impressions),
                            cell(&e.clicks),
                        ]
                    })
                    .collect(),
            );
        }
        SpendCommand::Map {
            campaign,
            external_id,
        } => {
            db.add_campaign_external_id(campaign, external_id.trim())
                .await?;
            println!("imports now match {external_id} to campaign {campaign}");
        }
        SpendCommand::Import { file } => {
            let bytes =
                std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let progress = ProgressBar::new(bytes.len() as u64).with_style(
                ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {eta}")
                    .expect("static template"),
            );
            let parsed = tokio::task::block_in_place(|| {
                spend::import::parse_with_progress(&bytes, &mut |done| {
                    progress.set_position(done as u64)
                })
            });
            progress.finish_and_clear();
            let outcome = match spend::import(db, parsed?).await {
                Err(SpendError::Rows { errors, .. }) => {
                    let lines: Vec<String> = errors
                        .iter()
                        .take(50)
                        .map(|e| format!("  line {}: {}", e.line, e.message))
                        .collect();
                    let more = errors.len().saturating_sub(50);
                    anyhow::bail!(
                        "{} rows of {} are invalid; nothing was imported:\n{}{}",
                        errors.len(),
                        file.display(),
                        lines.join("\n"),
                        if more > 0 {
                            format!("\n  … and {more} more")
                        } else {
                            String::new()
                        }
                    );
                }
                other => other?,
            };
            if as_json {
                return json(&outcome);
            }
            println!(
                "{} ({}): {} campaign-days imported, {} rows skipped",
                file.display(),
                outcome.format,
                outcome.imported,
                outcome.skipped
            );
            for u in &outcome.unmatched {
                println!(
                    "  no campaign named `{}`{}: {} rows, {} spent (map it with `chatref spend map`)",
                    u.campaign,
                    u.external_id
                        .as_deref()
                        .map(|id| format!(" (id {id})"))
                        .unwrap_or_default(),
                    u.rows,
                    u.amount
                );
            }
        }
    }
    Ok(())
}
