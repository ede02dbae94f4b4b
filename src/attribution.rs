//! First-message attribution: which link, click or ad brought a customer into the chat.
//!
//! The rules:
//! - The clue is, in order: a ref value that verifies as one of our tags (Messenger and
//!   Instagram `ref`, Telegram start payload, Viber `context`, WeChat scene); else a tag found
//!   in the message text (WhatsApp, LINE, or anyone who pasted it); else a Meta ad id or
//!   Click-to-WhatsApp `source_id` listed on a campaign. A ref that does not verify (typed,
//!   forged, another tool's) is kept with the event but attributes nothing.
//! - Method: `click_id` when the tag carries a click id (joined to the exact click), `ref`
//!   for a link tag in a ref field, `code_in_text` for a link tag found in text, `ad` for an
//!   ad referral, `none` otherwise. A tag of a link that targets another account is ignored.
//! - The first event of a contact on an account creates the contact and its `first_message`
//!   conversion (the lead) with that attribution. Later events never create another lead; an
//!   attributed event pointing at a different campaign than the contact's is recorded as a
//!   touch. Events are taken in the order they arrive.

use serde::Serialize;

use crate::{
    links::{RefTag, TagKey},
    platforms::webhook::InboundEvent,
};

/// How a first message was tied to a campaign.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    ClickId,
    Ref,
    Ad,
    CodeInText,
    None,
}

impl Method {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::ClickId => "click_id",
            Method::Ref => "ref",
            Method::Ad => "ad",
            Method::CodeInText => "code_in_text",
            Method::None => "none",
        }
    }
}

/// What an event offers for attribution, before looking anything up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Clue {
    Tag { tag: RefTag, in_text: bool },
    Ad(String),
    Nothing,
}

impl Clue {
    /// The best clue in an event (see the module rules).
    pub fn of(key: &TagKey, event: &InboundEvent) -> Clue {
        if let Some(tag) = event
            .ref_value
            .as_deref()
            .and_then(|r| RefTag::verify(key, r))
        {
            return Clue::Tag {
                tag,
                in_text: false,
            };
        }
        if let Some(tag) = event
            .text
            .as_deref()
            .and_then(|t| RefTag::find_in_text(key, t))
        {
            return Clue::Tag { tag, in_text: true };
        }
        match &event.ad_id {
            Some(ad) => Clue::Ad(ad.clone()),
            None => Clue::Nothing,
        }
    }

    /// The method this clue gives when its link or ad is found.
    pub fn method(&self) -> Method {
        match self {
            Clue::Tag { tag, .. } if tag.click_id.is_some() => Method::ClickId,
            Clue::Tag { in_text: false, .. } => Method::Ref,
            Clue::Tag { in_text: true, .. } => Method::CodeInText,
            Clue::Ad(_) => Method::Ad,
            Clue::Nothing => Method::None,
        }
    }
}

/// What a clue asks the database for before it can be resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup<'a> {
    /// The link with this code.
    LinkCode(&'a str),
    /// The campaign that lists this ad id.
    Ad(&'a str),
    Nothing,
}

impl Clue {
    /// What to look up to resolve this clue.
    pub fn lookup(&self) -> Lookup<'_> {
        match self {
            Clue::Tag { tag, .. } => Lookup::LinkCode(tag.code.as_str()),
            Clue::Ad(ad) => Lookup::Ad(ad),
            Clue::Nothing => Lookup::Nothing,
        }
    }
}

/// What the database answered for a [`Lookup`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Found {
    /// The link a tag names, with its campaign and the account it opens (none for a
    /// landing-page link).
    Link {
        link_id: i64,
        campaign_id: i64,
        account_id: Option<i64>,
    },
    /// The campaign an ad id belongs to.
    AdCampaign(i64),
    Nothing,
}

/// A resolved attribution.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Attribution {
    pub method: Method,
    pub campaign_id: Option<i64>,
    pub link_id: Option<i64>,
    pub click_id: Option<String>,
}

impl Attribution {
    /// Nothing attributed.
    pub fn none() -> Self {
        Attribution {
            method: Method::None,
            campaign_id: None,
            link_id: None,
            click_id: None,
        }
    }

    /// Resolves `clue` with what was `found` for it, for an event that arrived on
    /// `account_id`. A tag of a link that opens another account attributes nothing.
    pub fn resolve(clue: &Clue, found: Found, account_id: i64) -> Self {
        match (clue, found) {
            (
                Clue::Tag { tag, .. },
                Found::Link {
                    link_id,
                    campaign_id,
                    account_id: link_account,
                },
            ) if link_account.is_none_or(|a| a == account_id) => Attribution {
                method: clue.method(),
                campaign_id: Some(campaign_id),
                link_id: Some(link_id),
                click_id: tag.click_id.as_ref().map(|c| c.as_str().to_owned()),
            },
            (Clue::Ad(_), Found::AdCampaign(campaign_id)) => Attribution {
                method: Method::Ad,
                campaign_id: Some(campaign_id),
                link_id: None,
                click_id: None,
            },
            _ => Attribution::none(),
        }
    }
}

/// The contact an event comes from, as stored before the event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Contact {
    /// Not seen before on this account.
    New,
    /// Seen before; the campaign its lead was attributed to (if any).
    Known { campaign_id: Option<i64> },
}

/// What a new (not redelivered) event changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// The contact's first event: create the contact and its `first_message` conversion.
    Lead(Attribution),
    /// A returning contact brought by another campaign: record a touch; the lead stays.
    Touch(Attribution),
    /// A returning contact with nothing new to record.
    Nothing,
}

/// Applies the rules of this module to one new event: first touch wins, a returning
/// contact never makes a second lead, and an attributed event pointing at another
/// campaign is a touch.
pub fn decide(attribution: Attribution, contact: Contact) -> Decision {
    match contact {
        Contact::New => Decision::Lead(attribution),
        Contact::Known { campaign_id }
            if attribution.method != Method::None && attribution.campaign_id != campaign_id =>
        {
            Decision::Touch(attribution)
        }
        Contact::Known { .. } => Decision::Nothing,
    }
}

/// Payloads replayed per transaction by [`rebuild`]: bodies are a few kilobytes, so a batch
/// holds about a megabyte, and each transaction stays short.
pub const REBUILD_BATCH: usize = 500;

/// The outcome of [`rebuild`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct RebuildSummary {
    pub payloads: u64,
    /// Stored payloads the current parser refuses in whole or in part (what it cannot read
    /// is left out, logged, and kept for a later rebuild).
    pub unreadable: u64,
    pub events: u64,
    /// Contacts created, each with its first-message conversion (lead).
    pub leads: u64,
    pub touches: u64,
    /// Events left out because no account has their recipient as external id.
    pub unrouted: u64,
}

/// Recomputes contacts, first-message conversions and touches from every stored raw payload,
/// with the current parsers and rules, [`REBUILD_BATCH`] payloads per transaction.
pub async fn rebuild(
    db: &crate::db::Db,
    key: &TagKey,
) -> Result<RebuildSummary, crate::db::DbError> {
    rebuild_in_batches(db, key, REBUILD_BATCH, |_, _| {}).await
}

/// [`rebuild`] with `batch` payloads per transaction, calling `progress(done, total)` after
/// each.
///
/// Derived rows are deleted first in one transaction, then the payloads stored when the
/// rebuild started are read by keyset pages in id order (arrival order, which the rules
/// depend on) and replayed, a page per transaction: memory holds one page of bodies and no
/// transaction spans the log. Interrupted, it leaves a partial result and a mark
/// ([`crate::db::Db::interrupted_rebuild`]); running it again starts over from the deletion
/// and arrives at the same result. Webhooks stored while it runs would be decided against a
/// half-rebuilt state, so it is meant to run with the service stopped.
pub async fn rebuild_in_batches(
    db: &crate::db::Db,
    key: &TagKey,
    batch: usize,
    mut progress: impl FnMut(u64, u64),
) -> Result<RebuildSummary, crate::db::DbError> {
    let (total, last_id) = db.payload_count().await?;
    db.start_attribution_rebuild(crate::db::now()).await?;
    let mut summary = RebuildSummary::default();
    let mut after = 0;
    loop {
        let page = db
            .payloads_after(after, last_id, batch.max(1) as i64)
            .await?;
        let Some(last) = page.last() else { break };
        after = last.id;
        let replay: Vec<_> = page.into_iter().map(|p| reparse(key, p)).collect();
        summary.payloads += replay.len() as u64;
        summary.unreadable += replay
            .iter()
            .filter(|p| p.platform.is_none() || p.unreadable > 0)
            .count() as u64;
        let done = db.replay_payloads(&replay).await?;
        summary.events += done.events;
        summary.leads += done.leads;
        summary.touches += done.touches;
        summary.unrouted += done.unrouted;
        progress(summary.payloads, total);
    }
    db.finish_attribution_rebuild().await?;
    if summary.unrouted > 0 {
        tracing::warn!(
            events = summary.unrouted,
            "rebuild left out events sent to ids no account has as external_id"
        );
    }
    Ok(summary)
}

/// A stored payload parsed again with today's parser and clues.
fn reparse(key: &TagKey, payload: crate::db::StoredPayload) -> crate::db::ReplayPayload {
    let mut replay = crate::db::ReplayPayload {
        id: payload.id,
        account_id: payload.account_id,
        platform: payload.platform.parse::<crate::platforms::Platform>().ok(),
        events: Vec::new(),
        unreadable: 0,
    };
    let Some(platform) = replay.platform else {
        tracing::warn!(payload = payload.id, platform = %payload.platform, "stored payload of an unknown platform");
        replay.unreadable = 1;
        return replay;
    };
    match platform.adapter().parse(&payload.body) {
        Ok(body) => {
            replay.unreadable = body.skipped.len() as u64;
            replay.events = body
                .events
                .into_iter()
                .map(|event| crate::db::ClueEvent {
                    clue: Clue::of(key, &event),
                    event,
                })
                .collect();
        }
        Err(error) => {
            tracing::warn!(payload = payload.id, %error, "stored payload no longer parses");
            replay.unreadable = 1;
        }
    }
    replay
}

#[cfg(test)]
mod tests {
    use time::OffsetDateTime;

    use super::*;
    use crate::{
        links::{ClickId, LinkCode},
        platforms::webhook::EventKind,
        secret::Secret,
    };

    fn event(ref_value: Option<&str>, text: Option<&str>, ad: Option<&str>) -> InboundEvent {
        InboundEvent {
            contact_id: "u".into(),
            dedupe_key: "k".into(),
            at: OffsetDateTime::UNIX_EPOCH,
            kind: EventKind::Message,
            ref_value: ref_value.map(Into::into),
            ad_id: ad.map(Into::into),
            ctwa_clid: None,
            text: text.map(Into::into),
            recipient: None,
        }
    }

    #[test]
    fn clues_follow_the_documented_order() {
        let key = TagKey::new(&Secret::new("k"));
        let code = LinkCode::generate();
        let click = RefTag::for_click(&key, &code, &ClickId::generate());
        let link = RefTag::for_link(&key, &code);
        assert_eq!(
            Clue::of(&key, &event(Some(&click), None, Some("1"))).method(),
            Method::ClickId
        );
        assert_eq!(
            Clue::of(&key, &event(Some(&link), None, None)).method(),
            Method::Ref
        );
        let text = format!("hola (Ref: {link})");
        assert_eq!(
            Clue::of(&key, &event(None, Some(&text), None)).method(),
            Method::CodeInText
        );
        let text = format!("hola (Ref: {click})");
        assert_eq!(
            Clue::of(&key, &event(None, Some(&text), None)).method(),
            Method::ClickId
        );
        assert_eq!(
            Clue::of(&key, &event(Some("forged"), None, Some("99"))),
            Clue::Ad("99".into())
        );
        assert_eq!(
            Clue::of(&key, &event(Some("forged"), Some("hi"), None)),
            Clue::Nothing
        );
    }

    fn tagged(key: &TagKey, with_click: bool) -> Clue {
        let code = LinkCode::generate();
        let tag = if with_click {
            RefTag::for_click(key, &code, &ClickId::generate())
        } else {
            RefTag::for_link(key, &code)
        };
        Clue::of(key, &event(Some(&tag), None, None))
    }

    const LINK: Found = Found::Link {
        link_id: 7,
        campaign_id: 3,
        account_id: Some(1),
    };

    #[test]
    fn a_click_tag_resolves_to_its_link_campaign_and_click() {
        let key = TagKey::new(&Secret::new("k"));
        let clue = tagged(&key, true);
        let Clue::Tag { tag, .. } = &clue else {
            panic!("a tag")
        };
        assert_eq!(clue.lookup(), Lookup::LinkCode(tag.code.as_str()));
        let attribution = Attribution::resolve(&clue, LINK, 1);
        assert_eq!(attribution.method, Method::ClickId);
        assert_eq!(attribution.campaign_id, Some(3));
        assert_eq!(attribution.link_id, Some(7));
        assert_eq!(
            attribution.click_id.as_deref(),
            tag.click_id.as_ref().map(|c| c.as_str())
        );
    }

    #[test]
    fn a_tag_for_another_account_or_an_unknown_link_attributes_nothing() {
        let key = TagKey::new(&Secret::new("k"));
        let clue = tagged(&key, false);
        assert_eq!(Attribution::resolve(&clue, LINK, 2), Attribution::none());
        assert_eq!(
            Attribution::resolve(&clue, Found::Nothing, 1),
            Attribution::none()
        );
        let landing = Found::Link {
            link_id: 8,
            campaign_id: 4,
            account_id: None,
        };
        assert_eq!(Attribution::resolve(&clue, landing, 2).method, Method::Ref);
    }

    #[test]
    fn an_ad_resolves_only_when_a_campaign_lists_it() {
        let clue = Clue::Ad("99".into());
        assert_eq!(clue.lookup(), Lookup::Ad("99"));
        let found = Attribution::resolve(&clue, Found::AdCampaign(5), 1);
        assert_eq!((found.method, found.campaign_id), (Method::Ad, Some(5)));
        assert_eq!(
            Attribution::resolve(&clue, Found::Nothing, 1),
            Attribution::none()
        );
        assert_eq!(Clue::Nothing.lookup(), Lookup::Nothing);
    }

    #[test]
    fn first_touch_wins_and_other_campaigns_are_touches() {
        let key = TagKey::new(&Secret::new("k"));
        let attributed = Attribution::resolve(&tagged(&key, true), LINK, 1);
        assert_eq!(
            decide(attributed.clone(), Contact::New),
            Decision::Lead(attributed.clone())
        );
        assert_eq!(
            decide(Attribution::none(), Contact::New),
            Decision::Lead(Attribution::none()),
            "an unattributed first message is still a lead"
        );
        assert_eq!(
            decide(
                attributed.clone(),
                Contact::Known {
                    campaign_id: Some(3)
                }
            ),
            Decision::Nothing,
            "the same campaign again is not a touch"
        );
        assert_eq!(
            decide(
                attributed.clone(),
                Contact::Known {
                    campaign_id: Some(9)
                }
            ),
            Decision::Touch(attributed.clone())
        );
        assert_eq!(
            decide(attributed.clone(), Contact::Known { campaign_id: None }),
            Decision::Touch(attributed),
            "a contact who first came unattributed is touched by a later campaign"
        );
        assert_eq!(
            decide(
                Attribution::none(),
                Contact::Known {
                    campaign_id: Some(3)
                }
            ),
            Decision::Nothing
        );
    }

    #[test]
    fn a_stored_payload_is_parsed_again_and_what_does_not_read_is_counted() {
        let key = TagKey::new(&Secret::new("k"));
        let stored = |platform: &str, body: &str| crate::db::StoredPayload {
            id: 4,
            platform: platform.into(),
            account_id: 2,
            body: body.as_bytes().to_vec(),
        };
        let update = r#"{"update_id": 1, "message": {"message_id": 1, "date": 1763900000,
            "from": {"id": 5, "is_bot": false, "first_name": "A"},
            "chat": {"id": 5, "type": "private"}, "text": "hi"}}"#;
        let good = reparse(&key, stored("telegram", update));
        assert_eq!((good.id, good.account_id), (4, 2));
        assert_eq!((good.events.len(), good.unreadable), (1, 0));
        assert_eq!(good.events[0].clue, Clue::Nothing);
        let broken = reparse(&key, stored("telegram", "{not json"));
        assert_eq!((broken.events.len(), broken.unreadable), (0, 1));
        let unknown = reparse(&key, stored("kik", update));
        assert_eq!((unknown.platform, unknown.unreadable), (None, 1));
    }
}
