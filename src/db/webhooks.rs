//! Webhook ingestion and attribution in the store: raw payloads, deduplicated inbound events,
//! contacts, first-message conversions and touches, written in one transaction per call.
//! Each event is recorded under the account its recipient routes it to
//! ([`crate::accounts::Routes`]), which for one Meta app with several Pages or numbers need
//! not be the account of the URL the call came to.

use std::collections::HashMap;

use sha2::{Digest, Sha256};
use sqlx::FromRow;
use time::OffsetDateTime;

use super::{Db, DbError, accounts::ROUTES, on_backend};
use crate::{
    accounts::{Route, Routes},
    attribution::{self, Attribution, Clue, Contact, Decision, Found, Lookup},
    platforms::{Platform, webhook::InboundEvent},
    retention::{Outcome, PayloadFacts, Recorded},
};

/// What one webhook call changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IngestSummary {
    /// Events not seen before (redeliveries are not counted).
    pub new_events: u64,
    /// Contacts created, i.e. first-message conversions.
    pub leads: u64,
    /// The recipient of each event recorded nowhere because no account of the platform has
    /// it as external id (the raw body is still kept).
    pub unrouted: Vec<String>,
}

/// An event with the clue found in it, ready to record.
pub struct ClueEvent {
    pub event: InboundEvent,
    pub clue: Clue,
}

/// One verified webhook call, ready to store.
pub struct WebhookCall {
    pub platform: Platform,
    /// The account of the URL the call came to, which verified it: the raw body is kept
    /// under it, and so are the events that [`Routes`] gives it.
    pub account_id: i64,
    /// The body exactly as received.
    pub body: Vec<u8>,
    pub events: Vec<ClueEvent>,
    /// Entries of the body the parser could not read (kept in the body for a later rebuild).
    pub skipped_entries: u64,
    /// When the call came, from the service's clock: the retention period counts from it.
    pub received_at: OffsetDateTime,
}

/// A stored raw payload, for rebuilding attribution.
#[derive(Debug, FromRow)]
pub struct StoredPayload {
    pub id: i64,
    pub platform: String,
    pub account_id: i64,
    pub body: Vec<u8>,
}

/// A stored payload re-parsed for a rebuild, with the account of the URL it came to.
pub struct ReplayPayload {
    /// The `webhook_events` id, whose outcome the replay records again.
    pub id: i64,
    pub account_id: i64,
    /// `None` when the stored platform name is no longer known.
    pub platform: Option<Platform>,
    pub events: Vec<ClueEvent>,
    /// Entries (or the whole body, as 1) the current parser cannot read.
    pub unreadable: u64,
}

/// What replaying payloads recorded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReplaySummary {
    /// Events recorded (redeliveries within the log are counted once).
    pub events: u64,
    /// Contacts created, each with its first-message conversion.
    pub leads: u64,
    pub touches: u64,
    /// Events left out because no account has their recipient as external id.
    pub unrouted: u64,
}

/// A contact with where it came from, for the contact list and its CSV export.
#[derive(Debug, Clone, FromRow, serde::Serialize)]
pub struct ContactRow {
    pub id: i64,
    pub account_id: i64,
    pub platform: String,
    pub platform_user: String,
    #[serde(with = "time::serde::rfc3339")]
    pub first_seen_at: OffsetDateTime,
    pub method: String,
    pub campaign_id: Option<i64>,
    pub campaign_name: Option<String>,
    pub link_id: Option<i64>,
    pub link_code: Option<String>,
    pub store: Option<String>,
    pub click_id: Option<String>,
    #[serde(skip)]
    pub click_at: Option<OffsetDateTime>,
    /// Seconds from the click to the first message, when joined to a stored click.
    #[sqlx(default)]
    pub seconds_from_click: Option<i64>,
}

/// Records one event inside an open transaction `$tx` (either backend): dedupe, look up what
/// its clue names, and write what [`attribution::decide`] says. Evaluates to what it did, a
/// [`Recorded`]. The rules live in [`crate::attribution`]; this only reads and
/// writes.
macro_rules! record_event {
    ($tx:expr, $account_id:expr, $platform:expr, $item:expr) => {{
        let event = &storable(&$item.event);
        let inserted: Option<i64> = sqlx::query_scalar(
            "INSERT INTO inbound_events (account_id, dedupe_key, contact, at, kind, ref_value, ad_id, ctwa_clid, text) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (account_id, dedupe_key) DO NOTHING RETURNING id",
        )
        .bind($account_id)
        .bind(&event.dedupe_key)
        .bind(&event.contact_id)
        .bind(event.at)
        .bind(event.kind.as_str())
        .bind(&event.ref_value)
        .bind(&event.ad_id)
        .bind(&event.ctwa_clid)
        .bind(&event.text)
        .fetch_optional(&mut *$tx)
        .await?;
        match inserted {
            None => Recorded::Redelivery,
            Some(inbound_id) => {
                let found = match $item.clue.lookup() {
                    Lookup::LinkCode(code) => sqlx::query_as::<_, (i64, i64, Option<i64>)>(
                        "SELECT id, campaign_id, account_id FROM links WHERE code = $1",
                    )
                    .bind(code)
                    .fetch_optional(&mut *$tx)
                    .await?
                    .map_or(Found::Nothing, |(link_id, campaign_id, account_id)| Found::Link {
                        link_id,
                        campaign_id,
                        account_id,
                    }),
                    Lookup::Ad(ad_id) => sqlx::query_scalar::<_, i64>(
                        "SELECT campaign_id FROM campaign_ad_ids WHERE ad_id = $1",
                    )
                    .bind(ad_id)
                    .fetch_optional(&mut *$tx)
                    .await?
                    .map_or(Found::Nothing, Found::AdCampaign),
                    Lookup::Nothing => Found::Nothing,
                };
                let contact = sqlx::query_scalar::<_, Option<i64>>(
                    "SELECT campaign_id FROM contacts WHERE account_id = $1 AND platform_user = $2",
                )
                .bind($account_id)
                .bind(&event.contact_id)
                .fetch_optional(&mut *$tx)
                .await?
                .map_or(Contact::New, |campaign_id| Contact::Known { campaign_id });
                let attribution = Attribution::resolve(&$item.clue, found, $account_id);
                match attribution::decide(attribution, contact) {
                    Decision::Lead(attribution) => {
                        sqlx::query(
                            "INSERT INTO contacts (account_id, platform, platform_user, first_seen_at, method, campaign_id, link_id, click_id) \
                             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                        )
                        .bind($account_id)
                        .bind($platform)
                        .bind(&event.contact_id)
                        .bind(event.at)
                        .bind(attribution.method.as_str())
                        .bind(attribution.campaign_id)
                        .bind(attribution.link_id)
                        .bind(&attribution.click_id)
                        .execute(&mut *$tx)
                        .await?;
                        sqlx::query(
                            "INSERT INTO conversions (type, at, account_id, platform_user, method, campaign_id, link_id, click_id, inbound_event_id) \
                             VALUES ('first_message', $1, $2, $3, $4, $5, $6, $7, $8)",
                        )
                        .bind(event.at)
                        .bind($account_id)
                        .bind(&event.contact_id)
                        .bind(attribution.method.as_str())
                        .bind(attribution.campaign_id)
                        .bind(attribution.link_id)
                        .bind(&attribution.click_id)
                        .bind(inbound_id)
                        .execute(&mut *$tx)
                        .await?;
                        Recorded::Lead
                    }
                    Decision::Touch(attribution) => {
                        sqlx::query(
                            "INSERT INTO touches (account_id, platform_user, at, method, campaign_id, link_id, click_id, inbound_event_id) \
                             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                        )
                        .bind($account_id)
                        .bind(&event.contact_id)
                        .bind(event.at)
                        .bind(attribution.method.as_str())
                        .bind(attribution.campaign_id)
                        .bind(attribution.link_id)
                        .bind(&attribution.click_id)
                        .bind(inbound_id)
                        .execute(&mut *$tx)
                        .await?;
                        Recorded::Touch
                    }
                    Decision::Nothing => Recorded::NoEffect,
                }
            }
        }
    }};
}

/// The account `$item`'s event belongs to, inside an open transaction `$tx`: the URL's
/// account `$account_id` for an event without a recipient, else what the platform's
/// [`Routes`] say, read once per transaction into `$routes`.
macro_rules! route_event {
    ($tx:expr, $routes:expr, $platform:expr, $account_id:expr, $item:expr) => {{
        match $item.event.recipient.as_deref() {
            None => Route::Account($account_id),
            Some(recipient) => {
                if !$routes.contains_key(&$platform) {
                    let pairs: Vec<(String, i64)> = sqlx::query_as(ROUTES)
                        .bind($platform.as_str())
                        .fetch_all(&mut *$tx)
                        .await?;
                    $routes.insert($platform, Routes::new(pairs));
                }
                $routes[&$platform].route($account_id, Some(recipient))
            }
        }
    }};
}

/// The event as both backends can store it: PostgreSQL text cannot hold NUL (U+0000), so it
/// is removed from every field rather than failing the whole call forever (the platform
/// would retry it, and Telegram would hold back every later update).
fn storable(event: &InboundEvent) -> InboundEvent {
    let clean = |s: &String| s.replace('\0', "");
    InboundEvent {
        contact_id: clean(&event.contact_id),
        dedupe_key: clean(&event.dedupe_key),
        at: event.at,
        kind: event.kind,
        ref_value: event.ref_value.as_ref().map(clean),
        ad_id: event.ad_id.as_ref().map(clean),
        ctwa_clid: event.ctwa_clid.as_ref().map(clean),
        text: event.text.as_ref().map(clean),
        recipient: event.recipient.as_ref().map(clean),
    }
}

/// The `settings` key present while an attribution rebuild is under way.
const REBUILD_MARK: &str = "attribution_rebuild_started";

impl Db {
    /// Stores verified webhook calls (raw body and events) in one transaction and returns
    /// what each changed, in order; returns only after commit, so a 200 sent afterwards means
    /// durably stored. Redeliveries change nothing. Several calls per transaction is how the
    /// [`crate::inbox`] writer amortises commits.
    pub async fn ingest_webhooks(
        &self,
        calls: &[WebhookCall],
    ) -> Result<Vec<IngestSummary>, DbError> {
        on_backend!(self, write pool => {
            let mut tx = pool.begin().await?;
            let mut routes = HashMap::<Platform, Routes>::new();
            let mut summaries = Vec::with_capacity(calls.len());
            for call in calls {
                let mut summary = IngestSummary::default();
                let mut facts = PayloadFacts {
                    unreadable: call.skipped_entries,
                    ..Default::default()
                };
                for item in &call.events {
                    let account_id = match route_event!(tx, routes, call.platform, call.account_id, item) {
                        Route::Account(account_id) => account_id,
                        Route::Unrouted => {
                            summary.unrouted.extend(item.event.recipient.clone());
                            facts.unrouted += 1;
                            continue;
                        }
                    };
                    let recorded = record_event!(tx, account_id, call.platform.as_str(), item);
                    facts.add(recorded, &item.clue);
                    summary.new_events += u64::from(recorded != Recorded::Redelivery);
                    summary.leads += u64::from(recorded == Recorded::Lead);
                }
                // The body is stored after its events so it is stored with their outcome.
                let sha256 = hex::encode(Sha256::digest(&call.body));
                let outcome = facts.outcome();
                let stored: Option<i64> = sqlx::query_scalar(
                    "INSERT INTO webhook_events (platform, account_id, received_at, body_sha256, body, outcome) \
                     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (account_id, body_sha256) DO NOTHING RETURNING id",
                )
                .bind(call.platform.as_str())
                .bind(call.account_id)
                .bind(call.received_at)
                .bind(&sha256)
                .bind(&call.body)
                .bind(outcome.as_str())
                .fetch_optional(&mut *tx)
                .await?;
                if stored.is_none() && outcome != Outcome::Nothing {
                    // The same body again, yet it did something this time (its recipient got
                    // an external id since): the kept copy must not be pruned. An outcome is
                    // only ever raised here, never lowered.
                    sqlx::query(
                        "UPDATE webhook_events SET outcome = $1 \
                         WHERE account_id = $2 AND body_sha256 = $3 \
                           AND (outcome = 'nothing' OR (outcome = 'unresolved' AND $1 = 'created'))",
                    )
                    .bind(outcome.as_str())
                    .bind(call.account_id)
                    .bind(&sha256)
                    .execute(&mut *tx)
                    .await?;
                }
                summaries.push(summary);
            }
            tx.commit().await?;
            Ok(summaries)
        })
    }

    /// How many raw payloads are stored, and the highest id (0 when none).
    pub async fn payload_count(&self) -> Result<(u64, i64), DbError> {
        let (count, last): (i64, Option<i64>) = on_backend!(self, pool => {
            sqlx::query_as("SELECT COUNT(*), MAX(id) FROM webhook_events")
                .fetch_one(pool)
                .await
        })?;
        Ok((count as u64, last.unwrap_or(0)))
    }

    /// Every stored raw payload, oldest first (in one read: for small logs and tests; a
    /// rebuild pages with [`Db::payloads_after`]).
    pub async fn stored_payloads(&self) -> Result<Vec<StoredPayload>, DbError> {
        self.payloads_after(0, i64::MAX, i64::MAX).await
    }

    /// At most `limit` stored raw payloads with an id above `after` and at most `until`,
    /// oldest first: keyset pages, so a rebuild holds one page of bodies at a time.
    pub async fn payloads_after(
        &self,
        after: i64,
        until: i64,
        limit: i64,
    ) -> Result<Vec<StoredPayload>, DbError> {
        Ok(on_backend!(self, pool => {
            sqlx::query_as(
                "SELECT id, platform, account_id, body FROM webhook_events \
                 WHERE id > $1 AND id <= $2 ORDER BY id LIMIT $3",
            )
            .bind(after)
            .bind(until)
            .bind(limit)
            .fetch_all(pool)
            .await
        })?)
    }

    /// The first step of a rebuild, in one transaction: deletes contacts, first-message
    /// conversions, touches and inbound events (conversions posted through the API are kept,
    /// unlinked from their event) and marks a rebuild as started at `at`. Running it again
    /// after an interrupted rebuild starts over from the same empty state.
    pub async fn start_attribution_rebuild(&self, at: OffsetDateTime) -> Result<(), DbError> {
        let at = at
            .format(&time::format_description::well_known::Rfc3339)
            .map_err(|e| DbError::Corrupt(e.to_string()))?;
        on_backend!(self, write pool => {
            let mut tx = pool.begin().await?;
            for table in [
                "DELETE FROM touches",
                "DELETE FROM conversions WHERE type = 'first_message'",
                "DELETE FROM contacts",
                "UPDATE conversions SET inbound_event_id = NULL WHERE inbound_event_id IS NOT NULL",
                "DELETE FROM inbound_events",
            ] {
                sqlx::query(table).execute(&mut *tx).await?;
            }
            sqlx::query(
                "INSERT INTO settings (key, value) VALUES ($1, $2) \
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            )
            .bind(REBUILD_MARK)
            .bind(&at)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(())
        })
    }

    /// Records the events of `payloads` (in id order, after those of earlier calls) in one
    /// transaction, routing them as [`Db::ingest_webhooks`] does with today's external ids,
    /// and records each payload's outcome again.
    pub async fn replay_payloads(
        &self,
        payloads: &[ReplayPayload],
    ) -> Result<ReplaySummary, DbError> {
        on_backend!(self, write pool => {
            let mut tx = pool.begin().await?;
            let mut routes = HashMap::<Platform, Routes>::new();
            let mut summary = ReplaySummary::default();
            for payload in payloads {
                let mut facts = PayloadFacts {
                    unreadable: payload.unreadable,
                    ..Default::default()
                };
                if let Some(platform) = payload.platform {
                    for item in &payload.events {
                        let account_id = match route_event!(tx, routes, platform, payload.account_id, item) {
                            Route::Account(account_id) => account_id,
                            Route::Unrouted => {
                                facts.unrouted += 1;
                                continue;
                            }
                        };
                        let recorded = record_event!(tx, account_id, platform.as_str(), item);
                        facts.add(recorded, &item.clue);
                        summary.events += u64::from(recorded != Recorded::Redelivery);
                        summary.leads += u64::from(recorded == Recorded::Lead);
                        summary.touches += u64::from(recorded == Recorded::Touch);
                    }
                } else {
                    facts.unreadable = facts.unreadable.max(1);
                }
                summary.unrouted += facts.unrouted;
                sqlx::query("UPDATE webhook_events SET outcome = $1 WHERE id = $2")
                    .bind(facts.outcome().as_str())
                    .bind(payload.id)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            Ok(summary)
        })
    }

    /// The last step of a rebuild: clears the mark [`Db::start_attribution_rebuild`] set.
    pub async fn finish_attribution_rebuild(&self) -> Result<(), DbError> {
        on_backend!(self, write pool => {
            sqlx::query("DELETE FROM settings WHERE key = $1")
                .bind(REBUILD_MARK)
                .execute(pool)
                .await
                .map(|_| ())
        })?;
        Ok(())
    }

    /// When a rebuild that never finished was started (its derived rows are incomplete
    /// until a rebuild runs to the end), if any.
    pub async fn interrupted_rebuild(&self) -> Result<Option<String>, DbError> {
        Ok(on_backend!(self, pool => {
            sqlx::query_scalar("SELECT value FROM settings WHERE key = $1")
                .bind(REBUILD_MARK)
                .fetch_optional(pool)
                .await
        })?)
    }

    /// Contacts with their source, newest first; optionally one campaign's.
    pub async fn list_contacts(
        &self,
        campaign_id: Option<i64>,
    ) -> Result<Vec<ContactRow>, DbError> {
        self.contacts_page(campaign_id, None, i64::MAX).await
    }

    /// At most `limit` contacts with an id below `before` (all when `None`), newest first:
    /// keyset pages, so a million contacts are read a page at a time.
    pub async fn contacts_page(
        &self,
        campaign_id: Option<i64>,
        before: Option<i64>,
        limit: i64,
    ) -> Result<Vec<ContactRow>, DbError> {
        Ok(on_backend!(self, pool => {
            sqlx::query_as(
                "SELECT c.id, c.account_id, c.platform, c.platform_user, c.first_seen_at, c.method, \
                        c.campaign_id, cp.name AS campaign_name, c.link_id, l.code AS link_code, l.store, c.click_id, \
                        k.at AS click_at \
                 FROM contacts c LEFT JOIN campaigns cp ON cp.id = c.campaign_id LEFT JOIN links l ON l.id = c.link_id \
                 LEFT JOIN clicks k ON k.click_id = c.click_id \
                 WHERE ($1 IS NULL OR c.campaign_id = $1) AND ($2 IS NULL OR c.id < $2) \
                 ORDER BY c.id DESC LIMIT $3",
            )
            .bind(campaign_id)
            .bind(before)
            .bind(limit)
            .fetch_all(pool)
            .await
        })?)
    }

    /// First-message conversions (leads) of one link, by attribution method.
    pub async fn link_leads(&self, link_id: i64) -> Result<LeadCounts, DbError> {
        let rows: Vec<(String, i64)> = on_backend!(self, pool => {
            sqlx::query_as(
                "SELECT method, COUNT(*) FROM conversions WHERE link_id = $1 AND type = 'first_message' GROUP BY method",
            )
            .bind(link_id)
            .fetch_all(pool)
            .await
        })?;
        Ok(LeadCounts {
            total: rows.iter().map(|(_, n)| n).sum(),
            by_method: rows.into_iter().collect(),
        })
    }
}

/// Leads of a link: the total and how each was attributed.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct LeadCounts {
    pub total: i64,
    pub by_method: std::collections::BTreeMap<String, i64>,
}
