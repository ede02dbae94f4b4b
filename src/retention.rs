//! Retention of raw webhook payloads: which stored bodies may be deleted, and when.
//!
//! Every accepted body is kept so `chatref attribution rebuild` can recompute contacts, leads
//! and touches after a fix. Most bodies of a busy account create nothing, though: delivery and
//! read receipts, statuses, echoes of our own messages, redeliveries, plain follow-up messages
//! of known contacts. The rules:
//! - A payload whose events created a contact, lead or touch is [`Outcome::Created`] and kept
//!   forever: a rebuild needs it to arrive at the same result.
//! - A payload that created nothing but holds something a later rebuild could attribute is
//!   [`Outcome::Unresolved`] and kept too: events for a recipient no account has as external
//!   id yet, entries the parser could not read, or a tag or ad id that had no effect (a later
//!   campaign or fix may give it one).
//! - Anything else is [`Outcome::Nothing`] and deleted once older than
//!   `CHATREF_RAW_RETENTION_DAYS` (`0` keeps everything). Deleting it cannot change what a
//!   rebuild computes: its events were redeliveries of kept events, or left a known contact's
//!   lead as it was.
//!
//! Payloads stored before outcomes were recorded have none and are kept until a rebuild
//! classifies them.

use std::{sync::Arc, time::Duration};

use serde::Serialize;
use time::OffsetDateTime;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::{
    attribution::Clue,
    clock::Clock,
    db::{Db, DbError},
};

/// What ingesting one raw payload left behind (stored as `webhook_events.outcome`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// A contact, lead or touch: kept forever.
    Created,
    /// Nothing yet, but something a later rebuild may attribute: kept.
    Unresolved,
    /// Nothing a rebuild could ever use: deleted after the retention period.
    Nothing,
}

impl Outcome {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Created => "created",
            Outcome::Unresolved => "unresolved",
            Outcome::Nothing => "nothing",
        }
    }
}

/// What recording one event did, as the database layer reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    /// Its delivery key was seen before: the first copy holds it.
    Redelivery,
    /// Created a contact and its first-message conversion.
    Lead,
    /// Recorded a touch on a known contact.
    Touch,
    /// A new event of a known contact that changed nothing.
    NoEffect,
}

/// What one payload's events did, added up while they are recorded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PayloadFacts {
    /// Contacts, leads and touches created.
    pub created: u64,
    /// New events without effect that carried a tag or an ad id.
    pub idle_clues: u64,
    /// Events for a recipient no account has as external id.
    pub unrouted: u64,
    /// Entries (or the whole body) the parser could not read.
    pub unreadable: u64,
}

impl PayloadFacts {
    /// Adds one recorded event with the clue it carried.
    pub fn add(&mut self, recorded: Recorded, clue: &Clue) {
        match recorded {
            Recorded::Lead | Recorded::Touch => self.created += 1,
            Recorded::NoEffect if *clue != Clue::Nothing => self.idle_clues += 1,
            Recorded::NoEffect | Recorded::Redelivery => {}
        }
    }

    /// The payload's outcome under the module rules.
    pub fn outcome(&self) -> Outcome {
        if self.created > 0 {
            Outcome::Created
        } else if self.idle_clues + self.unrouted + self.unreadable > 0 {
            Outcome::Unresolved
        } else {
            Outcome::Nothing
        }
    }
}

/// How long payloads that created nothing are kept (`CHATREF_RAW_RETENTION_DAYS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetentionDays(u32);

impl RetentionDays {
    /// The default: a month, long enough to look into a misbehaving integration.
    pub const DEFAULT: RetentionDays = RetentionDays(30);
    /// The longest accepted, a century: larger is a typo (and would overflow dates).
    const MAX: u32 = 36_500;

    /// Parses a whole number of days; `0` keeps payloads forever.
    pub fn parse(text: &str) -> Result<Self, String> {
        text.trim()
            .parse::<u32>()
            .ok()
            .filter(|days| *days <= Self::MAX)
            .map(RetentionDays)
            .ok_or_else(|| {
                format!(
                    "`{text}` is not a whole number of days from 0 (keep forever) to {}",
                    Self::MAX
                )
            })
    }

    /// The number of days, `0` for forever.
    pub fn days(self) -> u32 {
        self.0
    }

    /// Payloads received before this time may be pruned at `now`; `None` keeps all.
    pub fn cutoff(self, now: OffsetDateTime) -> Option<OffsetDateTime> {
        (self.0 > 0).then(|| now - time::Duration::days(i64::from(self.0)))
    }
}

/// Rows deleted per statement: each is its own short transaction, so the webhook inbox (the
/// only other writer on SQLite) waits at most one batch.
pub const PRUNE_BATCH: i64 = 2_000;

/// What a prune did (or, dry, would do).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PruneSummary {
    /// Payloads deleted, or that would be.
    pub payloads: u64,
    #[serde(with = "time::serde::rfc3339")]
    pub received_before: OffsetDateTime,
    pub dry_run: bool,
}

/// Deletes payloads that created nothing and were received before `before`, a batch per
/// transaction; with `dry_run`, only counts them.
pub async fn prune(
    db: &Db,
    before: OffsetDateTime,
    dry_run: bool,
) -> Result<PruneSummary, DbError> {
    let payloads = if dry_run {
        db.count_prunable_payloads(before).await?
    } else {
        let mut deleted = 0;
        loop {
            let batch = db.prune_payloads(before, PRUNE_BATCH).await?;
            deleted += batch;
            if batch < PRUNE_BATCH as u64 {
                break deleted;
            }
            tokio::task::yield_now().await;
        }
    };
    Ok(PruneSummary {
        payloads,
        received_before: before,
        dry_run,
    })
}

/// How often the service prunes.
pub const PRUNE_EVERY: Duration = Duration::from_secs(24 * 60 * 60);

/// Prunes at start and then daily until `shutdown`; does nothing when `retention` keeps
/// payloads forever. A failed prune is logged and tried again the next day.
pub fn spawn_pruner(
    db: Db,
    clock: Arc<dyn Clock>,
    retention: RetentionDays,
    shutdown: CancellationToken,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        if retention.days() == 0 {
            return;
        }
        let mut daily = tokio::time::interval(PRUNE_EVERY);
        daily.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = daily.tick() => {}
            }
            let Some(before) = retention.cutoff(clock.now()) else {
                return;
            };
            // A prune in progress at shutdown is abandoned between batches; each batch is
            // its own transaction, so nothing is left half done.
            tokio::select! {
                _ = shutdown.cancelled() => return,
                result = prune(&db, before, false) => match result {
                    Ok(summary) if summary.payloads > 0 => tracing::info!(
                        payloads = summary.payloads,
                        days = retention.days(),
                        "pruned raw webhook payloads that created nothing"
                    ),
                    Ok(_) => {}
                    Err(error) => tracing::warn!(%error, "pruning raw webhook payloads failed"),
                },
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn receipts_statuses_and_redeliveries_created_nothing() {
        let mut facts = PayloadFacts::default();
        assert_eq!(
            facts.outcome(),
            Outcome::Nothing,
            "a status: no events at all"
        );
        facts.add(Recorded::Redelivery, &Clue::Ad("1".into()));
        facts.add(Recorded::NoEffect, &Clue::Nothing);
        assert_eq!(
            facts.outcome(),
            Outcome::Nothing,
            "a redelivery and a plain follow-up message"
        );
    }

    #[test]
    fn a_lead_or_a_touch_is_kept_whatever_else_the_payload_holds() {
        for recorded in [Recorded::Lead, Recorded::Touch] {
            let mut facts = PayloadFacts {
                unrouted: 1,
                ..Default::default()
            };
            facts.add(Recorded::Redelivery, &Clue::Nothing);
            facts.add(recorded, &Clue::Nothing);
            assert_eq!(facts.outcome(), Outcome::Created);
        }
    }

    #[test]
    fn what_a_later_rebuild_may_attribute_is_kept() {
        let mut idle_clue = PayloadFacts::default();
        idle_clue.add(Recorded::NoEffect, &Clue::Ad("99".into()));
        let unrouted = PayloadFacts {
            unrouted: 1,
            ..Default::default()
        };
        let unreadable = PayloadFacts {
            unreadable: 1,
            ..Default::default()
        };
        for facts in [idle_clue, unrouted, unreadable] {
            assert_eq!(facts.outcome(), Outcome::Unresolved, "{facts:?}");
        }
    }

    #[test]
    fn retention_is_whole_days_and_zero_keeps_forever() {
        let now = datetime!(2026-03-31 12:00 UTC);
        let month = RetentionDays::parse(" 30 ").unwrap();
        assert_eq!(month.cutoff(now), Some(datetime!(2026-03-01 12:00 UTC)));
        assert_eq!(RetentionDays::parse("0").unwrap().cutoff(now), None);
        assert_eq!(RetentionDays::DEFAULT.days(), 30);
        for bad in ["-1", "1.5", "thirty", "", "36501"] {
            let error = RetentionDays::parse(bad).unwrap_err();
            assert!(error.contains("whole number of days"), "{bad}: {error}");
        }
    }
}
