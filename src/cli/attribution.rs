//! `chatref attribution rebuild`: recompute contacts, leads and touches from the raw log.

use indicatif::{ProgressBar, ProgressStyle};

use super::output;
use crate::{config::Config, db::Db};

/// Rebuilds with `batch` payloads per transaction, a progress bar on a terminal, and a
/// summary at the end.
pub async fn rebuild(db: &Db, config: &Config, batch: usize, as_json: bool) -> anyhow::Result<()> {
    if let Some(started) = db.interrupted_rebuild().await? {
        eprintln!("a rebuild started at {started} did not finish; starting over");
    }
    let key = crate::links::TagKey::new(&db.service_secret(config.secret.as_ref()).await?);
    // Drawn on stderr, and only on a terminal (indicatif hides it otherwise).
    let progress = ProgressBar::new(0).with_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} payloads {eta}")
            .expect("static template"),
    );
    let summary = crate::attribution::rebuild_in_batches(db, &key, batch, |done, total| {
        progress.set_length(total);
        progress.set_position(done);
    })
    .await;
    progress.finish_and_clear();
    let summary = summary?;
    if as_json {
        output::json(&summary)?;
    } else {
        println!(
            "rebuilt from {} payloads ({} unreadable): {} events, {} contacts with {} leads, {} touches",
            summary.payloads,
            summary.unreadable,
            summary.events,
            summary.leads,
            summary.leads,
            summary.touches
        );
        if summary.unrouted > 0 {
            println!(
                "{} events were left out: no account has their recipient as external id",
                summary.unrouted
            );
        }
    }
    Ok(())
}
