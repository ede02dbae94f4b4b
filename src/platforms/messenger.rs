//! Facebook Messenger: `https://m.me/<page>?ref=<tag>` (PLATFORMS.md §1.1). The ref comes back
//! in `postback.referral`, `messaging_referrals` or `message.referral`; [`MessengerAdapter`]
//! reads all three from signed webhooks.

use super::meta;
use super::webhook::{Handshake, Parsed, WebhookAdapter, WebhookError, WebhookRequest};
use super::{InvalidHandle, check_chars};
use crate::accounts::AccountSecrets;

/// A Page username (letters, digits and dots, at least 5 long) or a numeric Page id.
pub fn normalize_handle(handle: &str) -> Result<String, InvalidHandle> {
    let handle = handle.trim_start_matches('@');
    check_chars(
        "Facebook Page username or id",
        handle,
        5,
        50,
        |c| c.is_ascii_alphanumeric() || c == '.',
        "5 to 50 letters, digits or dots, as in m.me/<page>",
    )?;
    Ok(handle.to_owned())
}

/// The Page id, which Meta puts in each event's `recipient.id` and `entry[].id`: routes one
/// app's events to the right Page's account.
pub fn normalize_external_id(id: &str) -> Result<String, InvalidHandle> {
    meta::normalize_id("Facebook Page id", id, "106712345678901")
}

/// The m.me link; the tag's alphabet needs no escaping.
pub fn deep_link(handle: &str, tag: &str) -> String {
    format!("https://m.me/{handle}?ref={tag}")
}

/// Receives a Page's Messenger webhooks: Meta signatures, `object: "page"`.
pub struct MessengerAdapter;

impl WebhookAdapter for MessengerAdapter {
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

    fn parse(&self, body: &[u8]) -> Result<Parsed, WebhookError> {
        meta::parse_messaging(body, "page")
    }
}

#[cfg(test)]
mod tests {
    use time::OffsetDateTime;

    use super::*;
    use crate::platforms::{
        meta::test_support::{assert_meta_auth, fill},
        webhook::{EventKind, InboundEvent},
    };

    const TEXT: &str = include_str!("../../tests/fixtures/messenger/text.json");
    const MESSAGE_AD_REFERRAL: &str =
        include_str!("../../tests/fixtures/messenger/message_ad_referral.json");
    const MESSAGE_PRODUCT_REFERRAL: &str =
        include_str!("../../tests/fixtures/messenger/message_product_referral.json");
    const POSTBACK_GET_STARTED: &str =
        include_str!("../../tests/fixtures/messenger/postback_get_started.json");
    const REFERRAL_EXISTING_THREAD: &str =
        include_str!("../../tests/fixtures/messenger/referral_existing_thread.json");
    const REFERRAL_CHAT_PLUGIN: &str =
        include_str!("../../tests/fixtures/messenger/referral_chat_plugin.json");
    const ECHO: &str = include_str!("../../tests/fixtures/messenger/echo.json");
    const DELIVERY_READ: &str = include_str!("../../tests/fixtures/messenger/delivery_read.json");
    const REACTION_AND_EDIT: &str =
        include_str!("../../tests/fixtures/messenger/reaction_and_edit.json");
    const BATCH: &str = include_str!("../../tests/fixtures/messenger/batch.json");

    const PAGE_ID: &str = "106712345678901";
    const PSID: &str = "7712345678901234";
    const MID: &str = "m_Ur3vQ1t4cUzHnHZ7kX2sD0gJmV9bLpQeRt6yW8nA5cF1";
    const TAG: &str = "Ab3dE9xQ-7fGh2k";
    const AD_ID: &str = "120210987654321098";
    const TS_MS: &str = "1458692752478";

    fn body(fixture: &str) -> String {
        fill(
            fixture,
            &[
                ("__CONTACT__", PSID),
                ("__MSG_ID__", MID),
                ("__REF__", TAG),
                ("__AD_ID__", AD_ID),
                ("__TS_MS__", TS_MS),
            ],
        )
    }

    fn events(body: &str) -> Vec<InboundEvent> {
        MessengerAdapter.parse(body.as_bytes()).unwrap().events
    }

    /// The event every fixture's customer produces, before the fields that vary.
    fn event(kind: EventKind, dedupe_key: &str) -> InboundEvent {
        InboundEvent {
            contact_id: PSID.into(),
            dedupe_key: dedupe_key.into(),
            at: OffsetDateTime::from_unix_timestamp_nanos(1_458_692_752_478_000_000).unwrap(),
            kind,
            ref_value: None,
            ad_id: None,
            ctwa_clid: None,
            text: None,
            recipient: Some(PAGE_ID.into()),
        }
    }

    fn malformed(body: &str) -> String {
        match MessengerAdapter.parse(body.as_bytes()) {
            Err(WebhookError::Malformed(message)) => message,
            other => panic!("expected Malformed, got {other:?}"),
        }
    }

    #[test]
    fn webhooks_are_verified_and_subscribed_the_meta_way() {
        assert_meta_auth(&MessengerAdapter, body(TEXT).as_bytes());
    }

    #[test]
    fn a_plain_message_is_an_event_without_a_ref() {
        let expected = InboundEvent {
            text: Some("Hi, do you ship to Lisbon?".into()),
            ..event(EventKind::Message, MID)
        };
        assert_eq!(events(&body(TEXT)), vec![expected]);
    }

    #[test]
    fn a_message_from_an_ad_carries_the_ad_id_and_ref() {
        let expected = InboundEvent {
            ref_value: Some(TAG.into()),
            ad_id: Some(AD_ID.into()),
            text: Some("Is the linen shirt still available?".into()),
            ..event(EventKind::Message, MID)
        };
        assert_eq!(events(&body(MESSAGE_AD_REFERRAL)), vec![expected]);
    }

    #[test]
    fn a_shop_product_referral_is_not_an_ad() {
        let expected = InboundEvent {
            text: Some("Does this come in blue?".into()),
            ..event(EventKind::Message, MID)
        };
        assert_eq!(events(&body(MESSAGE_PRODUCT_REFERRAL)), vec![expected]);
    }

    #[test]
    fn get_started_from_an_m_me_link_carries_the_ref() {
        let expected = InboundEvent {
            ref_value: Some(TAG.into()),
            ..event(EventKind::Postback, MID)
        };
        assert_eq!(events(&body(POSTBACK_GET_STARTED)), vec![expected]);
    }

    #[test]
    fn a_postback_without_mid_gets_a_synthetic_key() {
        let without_mid = body(POSTBACK_GET_STARTED).replace(&format!(r#""mid": "{MID}","#), "");
        let key = format!("postback:{PAGE_ID}:{PSID}:{TS_MS}");
        assert_eq!(events(&without_mid)[0].dedupe_key, key);
    }

    #[test]
    fn a_referral_in_an_existing_thread_gets_a_synthetic_key() {
        let expected = InboundEvent {
            ref_value: Some(TAG.into()),
            ..event(
                EventKind::Referral,
                &format!("ref:{PAGE_ID}:{PSID}:{TS_MS}:{TAG}"),
            )
        };
        assert_eq!(events(&body(REFERRAL_EXISTING_THREAD)), vec![expected]);
    }

    #[test]
    fn a_chat_plugin_sender_is_known_by_its_user_ref() {
        let parsed = events(&body(REFERRAL_CHAT_PLUGIN));
        assert_eq!(parsed.len(), 1);
        assert_eq!(parsed[0].contact_id, PSID);
        assert_eq!(parsed[0].ref_value.as_deref(), Some(TAG));
    }

    #[test]
    fn an_echo_is_not_an_event() {
        assert_eq!(events(&body(ECHO)), vec![]);
    }

    #[test]
    fn delivery_and_read_receipts_are_not_events() {
        assert_eq!(events(&body(DELIVERY_READ)), vec![]);
    }

    #[test]
    fn reactions_and_edits_are_not_events() {
        assert_eq!(events(&body(REACTION_AND_EDIT)), vec![]);
    }

    #[test]
    fn every_entry_and_item_of_a_batch_is_read() {
        let parsed = events(&body(BATCH));
        let kinds: Vec<_> = parsed
            .iter()
            .map(|e| (e.kind, e.contact_id.as_str()))
            .collect();
        assert_eq!(
            kinds,
            [
                (EventKind::Message, PSID),
                (EventKind::Referral, "6023456789012345")
            ]
        );
        assert_eq!(parsed[1].ref_value.as_deref(), Some(TAG));
    }

    #[test]
    fn a_timestamp_sent_as_a_string_is_accepted() {
        let quoted = body(TEXT).replace(TS_MS, &format!(r#""{TS_MS}""#));
        assert_eq!(events(&quoted)[0].at, event(EventKind::Message, MID).at);
    }

    #[test]
    fn a_body_that_is_not_json_is_malformed() {
        malformed("{\"object\": \"page\", \"entry\": [");
        malformed("");
    }

    #[test]
    fn another_products_body_is_malformed() {
        let instagram = body(TEXT).replace(r#""object": "page""#, r#""object": "instagram""#);
        assert!(malformed(&instagram).contains("instagram"));
    }

    /// What is left of `body`: the events and why the rest was skipped.
    fn parsed(body: &str) -> Parsed {
        MessengerAdapter.parse(body.as_bytes()).unwrap()
    }

    #[test]
    fn a_message_without_its_required_fields_is_skipped_not_refused() {
        let no_mid = body(TEXT).replace(&format!(r#""mid": "{MID}","#), "");
        let no_sender = body(TEXT).replace(&format!(r#""sender": {{ "id": "{PSID}" }},"#), "");
        let no_timestamp = body(TEXT).replace(&format!(r#""timestamp": {TS_MS},"#), "");
        let letters = body(TEXT).replace(
            &format!(r#""timestamp": {TS_MS},"#),
            r#""timestamp": "soon","#,
        );
        let wrong_type = body(TEXT).replace(&format!(r#"{{ "id": "{PSID}" }}"#), r#""someone""#);
        for (body, words) in [
            (no_mid, "mid"),
            (no_sender, "sender"),
            (no_timestamp, "timestamp"),
            (letters, "soon"),
            (wrong_type, "invalid type"),
        ] {
            let parsed = parsed(&body);
            assert_eq!(parsed.events, vec![], "{body}");
            assert_eq!(parsed.skipped.len(), 1, "{body}");
            assert!(
                parsed.skipped[0].starts_with("entry[0].messaging[0]: ")
                    && parsed.skipped[0].contains(words),
                "{:?} should name {words}",
                parsed.skipped
            );
        }
    }

    #[test]
    fn one_bad_item_or_entry_leaves_the_rest_of_the_batch() {
        let mut batch: serde_json::Value = serde_json::from_str(&body(BATCH)).unwrap();
        // The first entry's message loses its sender; a third entry is not even an object.
        batch["entry"][0]["messaging"][0]
            .as_object_mut()
            .unwrap()
            .remove("sender");
        batch["entry"]
            .as_array_mut()
            .unwrap()
            .push("garbage".into());
        let parsed = parsed(&batch.to_string());
        let kept: Vec<_> = parsed
            .events
            .iter()
            .map(|e| e.contact_id.as_str())
            .collect();
        assert_eq!(kept, ["6023456789012345"]);
        assert_eq!(parsed.skipped.len(), 2, "{:?}", parsed.skipped);
        assert!(parsed.skipped[0].starts_with("entry[0].messaging[0]: "));
        assert!(parsed.skipped[1].starts_with("entry[2]: "));
    }

    #[test]
    fn a_body_without_meta_s_envelope_is_still_malformed() {
        for body in [
            r#"{"object": "page"}"#,
            r#"{"object": "page", "entry": {}}"#,
            r#"{"entry": []}"#,
            "[]",
        ] {
            malformed(body);
        }
    }

    #[test]
    fn each_event_names_the_page_it_was_sent_to() {
        let other_page = body(TEXT).replace(
            r#""recipient": { "id": "106712345678901" }"#,
            r#""recipient": { "id": "106799999999999" }"#,
        );
        assert_eq!(
            events(&other_page)[0].recipient.as_deref(),
            Some("106799999999999")
        );
        // Without `recipient`, the entry's id is the Page's.
        let no_recipient = body(TEXT).replace(r#""recipient": { "id": "106712345678901" },"#, "");
        assert_eq!(events(&no_recipient)[0].recipient.as_deref(), Some(PAGE_ID));
        let numeric_entry =
            no_recipient.replace(r#""id": "106712345678901""#, r#""id": 106712345678901"#);
        assert_eq!(
            events(&numeric_entry)[0].recipient.as_deref(),
            Some(PAGE_ID)
        );
    }

    #[test]
    fn a_page_id_is_digits() {
        assert_eq!(normalize_external_id("106712345678901"), Ok(PAGE_ID.into()));
        assert!(normalize_external_id("CoastClothing").is_err());
    }

    #[test]
    fn builds_an_m_me_link_with_the_ref() {
        let handle = normalize_handle("@CoastClothing").unwrap();
        assert_eq!(
            deep_link(&handle, "Ab3dE9xQ-k3J9sLm2Qx0A-7fGh2k"),
            "https://m.me/CoastClothing?ref=Ab3dE9xQ-k3J9sLm2Qx0A-7fGh2k"
        );
        assert!(normalize_handle("100064123456789").is_ok());
    }

    #[test]
    fn refuses_what_m_me_cannot_open() {
        for bad in ["abc", "coast clothing", "coast/clothing", "coast?ref=x", ""] {
            assert!(normalize_handle(bad).is_err(), "{bad}");
        }
    }
}
