//! Instagram: `https://ig.me/m/<username>?ref=<tag>` (PLATFORMS.md §2). The ref returns in
//! `postback.referral`, `message.referral` or a top-level `referral`, in Messenger's webhook
//! envelope, which [`InstagramAdapter`] reads.

use super::meta;
use super::webhook::{Handshake, Parsed, WebhookAdapter, WebhookError, WebhookRequest};
use super::{InvalidHandle, check_chars};
use crate::accounts::AccountSecrets;

/// An Instagram username: up to 30 letters, digits, dots and underscores.
pub fn normalize_handle(handle: &str) -> Result<String, InvalidHandle> {
    let handle = handle.trim_start_matches('@').to_ascii_lowercase();
    check_chars(
        "Instagram username",
        &handle,
        1,
        30,
        |c| c.is_ascii_alphanumeric() || c == '.' || c == '_',
        "1 to 30 letters, digits, dots or underscores",
    )?;
    if handle.starts_with('.') || handle.ends_with('.') || handle.contains("..") {
        return Err(InvalidHandle(format!(
            "`{handle}` is not a valid Instagram username: dots may not lead, trail or repeat"
        )));
    }
    Ok(handle)
}

/// The Instagram professional account id, which Meta puts in each event's `recipient.id` and
/// `entry[].id`: routes one app's events to the right account.
pub fn normalize_external_id(id: &str) -> Result<String, InvalidHandle> {
    meta::normalize_id("Instagram professional account id", id, "17841400000000000")
}

/// The ig.me link.
pub fn deep_link(handle: &str, tag: &str) -> String {
    format!("https://ig.me/m/{handle}?ref={tag}")
}

/// Receives an Instagram professional account's messaging webhooks: Meta signatures,
/// `object: "instagram"`, and Messenger's `entry[].messaging[]` items (PLATFORMS.md §2).
pub struct InstagramAdapter;

impl WebhookAdapter for InstagramAdapter {
    fn handshake(&self, query: &str, secrets: &AccountSecrets) -> Result<Handshake, WebhookError> {
        meta::handshake(query, secrets)
    }

    fn verify(
        &self,
        request: &WebhookRequest<'_>,
        secrets: &AccountSecrets,
    ) -> Result<(), WebhookError> {
        meta::verify_signature(request, secrets)
    }

    /// An ig.me ref arrives as `postback.referral` (Icebreaker), `message.referral` (typed
    /// first message) or a top-level `referral` (existing thread), as on Messenger.
    fn parse(&self, body: &[u8]) -> Result<Parsed, WebhookError> {
        meta::parse_messaging(body, "instagram")
    }
}

#[cfg(test)]
mod tests {
    use time::OffsetDateTime;

    use super::*;
    use crate::platforms::meta::test_support::{assert_meta_auth, fill};
    use crate::platforms::webhook::{EventKind, InboundEvent};

    const MESSAGE_REFERRAL: &str =
        include_str!("../../tests/fixtures/instagram/message_referral.json");
    const MESSAGE_AD_REFERRAL: &str =
        include_str!("../../tests/fixtures/instagram/message_ad_referral.json");
    const POSTBACK_ICEBREAKER: &str =
        include_str!("../../tests/fixtures/instagram/postback_icebreaker.json");
    const REFERRAL_EXISTING_THREAD: &str =
        include_str!("../../tests/fixtures/instagram/referral_existing_thread.json");
    const ECHO: &str = include_str!("../../tests/fixtures/instagram/echo.json");
    const MESSENGER_TEXT: &str = include_str!("../../tests/fixtures/messenger/text.json");

    const ACCOUNT_ID: &str = "17841412345678901";
    const IGSID: &str = "1254459154682919";
    const MID: &str = "aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3ODQxNDEyMzQ1Njc4OTAx";
    const TAG: &str = "Ab3dE9xQ-7fGh2k";
    const AD_ID: &str = "120210987654321098";
    const TS_MS: &str = "1502905976377";

    fn body(fixture: &str) -> String {
        fill(
            fixture,
            &[
                ("__CONTACT__", IGSID),
                ("__MSG_ID__", MID),
                ("__REF__", TAG),
                ("__AD_ID__", AD_ID),
                ("__TS_MS__", TS_MS),
            ],
        )
    }

    fn events(body: &str) -> Vec<InboundEvent> {
        InstagramAdapter.parse(body.as_bytes()).unwrap().events
    }

    fn event(kind: EventKind, dedupe_key: &str) -> InboundEvent {
        InboundEvent {
            contact_id: IGSID.into(),
            dedupe_key: dedupe_key.into(),
            at: OffsetDateTime::from_unix_timestamp_nanos(1_502_905_976_377_000_000).unwrap(),
            kind,
            ref_value: None,
            ad_id: None,
            ctwa_clid: None,
            text: None,
            recipient: Some(ACCOUNT_ID.into()),
        }
    }

    #[test]
    fn webhooks_are_verified_and_subscribed_the_meta_way() {
        assert_meta_auth(&InstagramAdapter, body(MESSAGE_REFERRAL).as_bytes());
    }

    #[test]
    fn a_typed_first_message_from_an_ig_me_link_carries_the_ref() {
        let expected = InboundEvent {
            ref_value: Some(TAG.into()),
            text: Some("Hi! Is the linen shirt in stock?".into()),
            ..event(EventKind::Message, MID)
        };
        assert_eq!(events(&body(MESSAGE_REFERRAL)), vec![expected]);
    }

    #[test]
    fn a_message_from_a_click_to_direct_ad_carries_the_ad_id() {
        let expected = InboundEvent {
            ad_id: Some(AD_ID.into()),
            text: Some("How much is shipping?".into()),
            ..event(EventKind::Message, MID)
        };
        assert_eq!(events(&body(MESSAGE_AD_REFERRAL)), vec![expected]);
    }

    #[test]
    fn an_icebreaker_tap_carries_the_ref() {
        let expected = InboundEvent {
            ref_value: Some(TAG.into()),
            ..event(EventKind::Postback, MID)
        };
        assert_eq!(events(&body(POSTBACK_ICEBREAKER)), vec![expected]);
    }

    #[test]
    fn a_referral_in_an_existing_thread_gets_a_synthetic_key() {
        let key = format!("ref:{ACCOUNT_ID}:{IGSID}:{TS_MS}:{TAG}");
        let expected = InboundEvent {
            ref_value: Some(TAG.into()),
            ..event(EventKind::Referral, &key)
        };
        assert_eq!(events(&body(REFERRAL_EXISTING_THREAD)), vec![expected]);
    }

    #[test]
    fn an_echo_is_not_an_event() {
        assert_eq!(events(&body(ECHO)), vec![]);
    }

    #[test]
    fn a_messenger_body_is_malformed_here() {
        let messenger = fill(
            MESSENGER_TEXT,
            &[
                ("__CONTACT__", IGSID),
                ("__MSG_ID__", MID),
                ("__TS_MS__", TS_MS),
            ],
        );
        let result = InstagramAdapter.parse(messenger.as_bytes());
        assert!(matches!(result, Err(WebhookError::Malformed(m)) if m.contains("`page`")));
        let result = InstagramAdapter.parse(b"not json");
        assert!(matches!(result, Err(WebhookError::Malformed(_))));
    }

    #[test]
    fn a_bad_item_is_skipped_and_the_rest_kept() {
        let mut batch: serde_json::Value = serde_json::from_str(&body(MESSAGE_REFERRAL)).unwrap();
        let good = batch["entry"][0]["messaging"][0].clone();
        let mut bad = good.clone();
        bad["timestamp"] = "yesterday".into();
        batch["entry"][0]["messaging"] = serde_json::json!([bad, good]);
        let parsed = InstagramAdapter
            .parse(batch.to_string().as_bytes())
            .unwrap();
        assert_eq!(parsed.events.len(), 1);
        assert_eq!(parsed.events[0].recipient.as_deref(), Some(ACCOUNT_ID));
        assert_eq!(parsed.skipped.len(), 1);
        assert!(
            parsed.skipped[0].contains("yesterday"),
            "{:?}",
            parsed.skipped
        );
    }

    #[test]
    fn an_account_id_is_digits() {
        assert_eq!(normalize_external_id(ACCOUNT_ID), Ok(ACCOUNT_ID.into()));
        assert!(normalize_external_id("coast.clothing").is_err());
    }

    #[test]
    fn builds_an_ig_me_link_with_the_ref() {
        let handle = normalize_handle("@Coast.Clothing_").unwrap();
        assert_eq!(
            deep_link(&handle, "Ab3dE9xQ-7fGh2k"),
            "https://ig.me/m/coast.clothing_?ref=Ab3dE9xQ-7fGh2k"
        );
    }

    #[test]
    fn refuses_invalid_usernames() {
        for bad in ["", "a b", ".coast", "coast..shop", &"a".repeat(31)] {
            assert!(normalize_handle(bad).is_err(), "{bad}");
        }
    }
}
