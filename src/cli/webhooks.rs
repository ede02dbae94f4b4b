//! `chatref webhooks prune`: delete raw payloads that created nothing (see
//! [`crate::retention`]).

use clap::Subcommand;

use super::output;
use crate::{clock::Clock, config::Config, db::Db, retention::RetentionDays};

#[derive(Debug, Subcommand)]
pub enum WebhooksCommand {
    /// Delete stored webhook bodies that created nothing (receipts, statuses, echoes,
    /// redeliveries) received more than the retention period ago. Bodies that made a contact,
    /// lead or touch, or that a later rebuild may attribute, are always kept.
    Prune {
        /// Age in days past which such bodies go (default CHATREF_RAW_RETENTION_DAYS).
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=36_500))]
        older_than_days: Option<u32>,
        /// Only count what would be deleted.
        #[arg(long)]
        dry_run: bool,
    },
}

/// Runs a `webhooks` subcommand.
pub async fn run(
    db: &Db,
    config: &Config,
    command: WebhooksCommand,
    as_json: bool,
) -> anyhow::Result<()> {
    let WebhooksCommand::Prune {
        older_than_days,
        dry_run,
    } = command;
    let retention = match older_than_days {
        Some(days) => RetentionDays::parse(&days.to_string()).map_err(anyhow::Error::msg)?,
        None => config.raw_retention,
    };
    let Some(before) = retention.cutoff(crate::clock::SystemClock.now()) else {
        println!(
            "CHATREF_RAW_RETENTION_DAYS is 0 (keep forever): nothing pruned; pass --older-than-days to prune anyway"
        );
        return Ok(());
    };
    let summary = crate::retention::prune(db, before, dry_run).await?;
    let cutoff = summary
        .received_before
        .format(&time::format_description::well_known::Rfc3339)?;
    if as_json {
        output::json(&summary)?;
    } else if dry_run {
        println!(
            "would delete {} raw payloads that created nothing, received before {} (dry run: nothing deleted)",
            summary.payloads, cutoff
        );
    } else {
        println!(
            "deleted {} raw payloads that created nothing, received before {}",
            summary.payloads, cutoff
        );
    }
    Ok(())
}
