//! WhatsApp: `https://wa.me/<E.164 digits>?text=<greeting (Ref: tag)>` (PLATFORMS.md §3.1).
//! WhatsApp has no ref parameter, so the tag rides in the prefilled first message, which
//! [`WhatsappAdapter`] hands on as text along with any Click-to-WhatsApp ad referral.

use serde::Deserialize;

use super::meta::{self, MetaId, Timestamp};
use super::webhook::{
    EventKind, Handshake, InboundEvent, Parsed, WebhookAdapter, WebhookError, WebhookRequest,
};
use super::{InvalidHandle, encode_component, prefilled_message};
use crate::accounts::AccountSecrets;

/// A phone number in international format; `+` and digits only, as wa.me requires
/// ("Omit any zeroes, brackets, or dashes"). Stored as bare digits.
pub fn normalize_handle(handle: &str) -> Result<String, InvalidHandle> {
    let digits = handle.strip_prefix('+').unwrap_or(handle);
    let valid = (7..=15).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !digits.starts_with('0');
    if !valid {
        return Err(InvalidHandle(format!(
            "`{handle}` is not an E.164 number: give the country code and number as digits only, e.g. 15551234567"
        )));
    }
    Ok(digits.to_owned())
}

/// The number's `phone_number_id` (not the phone number), which each change carries in
/// `value.metadata`: routes one app's events to the right number's account.
pub fn normalize_external_id(id: &str) -> Result<String, InvalidHandle> {
    meta::normalize_id(
        "WhatsApp phone_number_id (the Cloud API id, not the phone number)",
        id,
        "106540352242922",
    )
}

/// The wa.me link with the tag inside a natural-looking first message.
pub fn deep_link(handle: &str, tag: &str, prefill: Option<&str>) -> String {
    let text = prefilled_message(prefill, tag);
    format!("https://wa.me/{handle}?text={}", encode_component(&text))
}

/// Receives a WhatsApp Business Account's Cloud API webhooks: Meta signatures,
/// `object: "whatsapp_business_account"`, messages under `entry[].changes[].value`.
pub struct WhatsappAdapter;

impl WebhookAdapter for WhatsappAdapter {
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

    /// Every inbound message is an event; `statuses[]` (receipts for our own messages) and
    /// other change fields are not. No ref field exists: the tag rides in the text (§3.1).
    /// Each event's recipient is the `metadata.phone_number_id` it was sent to, so one app's
    /// numbers can share a callback URL. An entry, change or message that cannot be read is
    /// left out with its reason in [`Parsed::skipped`]; the rest of the batch is kept.
    fn parse(&self, body: &[u8]) -> Result<Parsed, WebhookError> {
        let mut parsed = Parsed::default();
        for (i, entry) in meta::read_envelope(body, OBJECT)?.into_iter().enumerate() {
            let entry: Entry = match serde_json::from_value(entry) {
                Ok(entry) => entry,
                Err(e) => {
                    parsed.skipped.push(format!("entry[{i}]: {e}"));
                    continue;
                }
            };
            for (j, change) in entry.changes.into_iter().enumerate() {
                let at = format!("entry[{i}].changes[{j}]");
                // The value's shape depends on `field`, so it is read only once known.
                let value = serde_json::from_value::<Change>(change).and_then(|change| {
                    (change.field == "messages")
                        .then(|| serde_json::from_value::<MessagesValue>(change.value))
                        .transpose()
                });
                let value = match value {
                    Ok(Some(value)) => value,
                    Ok(None) => continue,
                    Err(e) => {
                        parsed.skipped.push(format!("{at}: {e}"));
                        continue;
                    }
                };
                let recipient = value
                    .metadata
                    .and_then(|m| m.phone_number_id)
                    .and_then(MetaId::into_text);
                for (k, message) in value.messages.into_iter().enumerate() {
                    let event = serde_json::from_value::<Message>(message)
                        .map_err(|e| e.to_string())
                        .and_then(|message| message.into_event(recipient.clone()));
                    match event {
                        Ok(event) => parsed.events.push(event),
                        Err(reason) => parsed
                            .skipped
                            .push(format!("{at}.value.messages[{k}]: {reason}")),
                    }
                }
            }
        }
        Ok(parsed)
    }
}

const OBJECT: &str = "whatsapp_business_account";

#[derive(Deserialize)]
struct Entry {
    #[serde(default)]
    changes: Vec<serde_json::Value>,
}

#[derive(Deserialize)]
struct Change {
    #[serde(default)]
    field: String,
    #[serde(default)]
    value: serde_json::Value,
}

/// The `value` of a `messages` change; `statuses` and `contacts` are not read.
#[derive(Deserialize)]
struct MessagesValue {
    metadata: Option<Metadata>,
    #[serde(default)]
    messages: Vec<serde_json::Value>,
}

/// The business number a change is for.
#[derive(Deserialize)]
struct Metadata {
    phone_number_id: Option<MetaId>,
}

/// One inbound message (§3.2); only the fields that can carry text or an ad are declared.
#[derive(Deserialize)]
struct Message {
    /// The customer's wa_id, which need not match their phone number.
    from: String,
    /// The `wamid.…` id, repeated on redelivery.
    id: String,
    /// Unix seconds, as a string.
    timestamp: Timestamp,
    text: Option<Text>,
    /// A template's quick-reply button.
    button: Option<Button>,
    interactive: Option<Interactive>,
    image: Option<Media>,
    video: Option<Media>,
    document: Option<Media>,
    /// Only present on a message sent from a Click-to-WhatsApp ad.
    referral: Option<Referral>,
}

#[derive(Deserialize)]
struct Text {
    body: Option<String>,
}

#[derive(Deserialize)]
struct Button {
    text: Option<String>,
}

#[derive(Deserialize)]
struct Interactive {
    button_reply: Option<Reply>,
    list_reply: Option<Reply>,
}

#[derive(Deserialize)]
struct Reply {
    title: Option<String>,
}

#[derive(Deserialize)]
struct Media {
    caption: Option<String>,
}

#[derive(Deserialize)]
struct Referral {
    /// The ad id.
    source_id: Option<String>,
    /// Absent for ads shown in WhatsApp Status (§3.2).
    ctwa_clid: Option<String>,
}

impl Message {
    /// The event of this message, sent to the number `recipient`.
    fn into_event(self, recipient: Option<String>) -> Result<InboundEvent, String> {
        let at = self.timestamp.read_seconds().map_err(|e| e.to_string())?;
        let text = self.text();
        let (ad_id, ctwa_clid) = match self.referral {
            Some(referral) => (referral.source_id, referral.ctwa_clid),
            None => (None, None),
        };
        Ok(InboundEvent {
            contact_id: self.from,
            dedupe_key: self.id,
            at,
            kind: EventKind::Message,
            ref_value: None,
            ad_id,
            ctwa_clid,
            text,
            recipient,
        })
    }

    /// What the customer wrote or tapped, whatever the message type.
    fn text(&self) -> Option<String> {
        let interactive = self.interactive.as_ref();
        let reply = interactive.and_then(|i| i.button_reply.as_ref().or(i.list_reply.as_ref()));
        let caption = [&self.image, &self.video, &self.document]
            .into_iter()
            .flatten()
            .find_map(|media| media.caption.clone());
        self.text
            .as_ref()
            .and_then(|t| t.body.clone())
            .or_else(|| self.button.as_ref().and_then(|b| b.text.clone()))
            .or_else(|| reply.and_then(|r| r.title.clone()))
            .or(caption)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use time::OffsetDateTime;

    use super::*;
    use crate::platforms::meta::test_support::{assert_meta_auth, fill};

    const TEXT: &str = include_str!("../../tests/fixtures/whatsapp/text.json");
    const MESSAGE_AD_REFERRAL: &str =
        include_str!("../../tests/fixtures/whatsapp/message_ad_referral.json");
    const STATUSES: &str = include_str!("../../tests/fixtures/whatsapp/statuses.json");

    const WA_ID: &str = "16505551234";
    const WAMID: &str = "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUQ0N0VFMDA2MTQ0RkJFNkNDNAA=";
    const TAG: &str = "Ab3dE9xQ-7fGh2k";
    const AD_ID: &str = "120226305854810726";
    const TS_S: &str = "1750275992";
    const PHONE_NUMBER_ID: &str = "106540352242922";

    fn body(fixture: &str) -> String {
        fill(
            fixture,
            &[
                ("__CONTACT__", WA_ID),
                ("__MSG_ID__", WAMID),
                ("__REF__", TAG),
                ("__AD_ID__", AD_ID),
                ("__TS_S__", TS_S),
            ],
        )
    }

    fn events(body: &str) -> Vec<InboundEvent> {
        WhatsappAdapter.parse(body.as_bytes()).unwrap().events
    }

    fn malformed(body: &str) -> String {
        match WhatsappAdapter.parse(body.as_bytes()) {
            Err(WebhookError::Malformed(message)) => message,
            other => panic!("expected Malformed, got {other:?}"),
        }
    }

    /// The text fixture with its `messages` replaced.
    fn with_messages(messages: serde_json::Value) -> String {
        let mut body: serde_json::Value = serde_json::from_str(&body(TEXT)).unwrap();
        body["entry"][0]["changes"][0]["value"]["messages"] = messages;
        body.to_string()
    }

    fn message(extra: serde_json::Value) -> serde_json::Value {
        let mut message = json!({ "from": WA_ID, "id": WAMID, "timestamp": TS_S });
        message
            .as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        message
    }

    #[test]
    fn webhooks_are_verified_and_subscribed_the_meta_way() {
        assert_meta_auth(&WhatsappAdapter, body(TEXT).as_bytes());
    }

    #[test]
    fn a_prefilled_message_carries_the_tag_in_its_text() {
        let expected = InboundEvent {
            contact_id: WA_ID.into(),
            dedupe_key: WAMID.into(),
            at: OffsetDateTime::from_unix_timestamp(1_750_275_992).unwrap(),
            kind: EventKind::Message,
            ref_value: None,
            ad_id: None,
            ctwa_clid: None,
            text: Some(format!("Hi! I'd like to know more. (Ref: {TAG})")),
            recipient: Some(PHONE_NUMBER_ID.into()),
        };
        assert_eq!(events(&body(TEXT)), vec![expected]);
    }

    #[test]
    fn a_click_to_whatsapp_ad_message_carries_the_ad_and_click_ids() {
        let parsed = events(&body(MESSAGE_AD_REFERRAL));
        assert_eq!(parsed.len(), 1);
        let event = &parsed[0];
        assert_eq!(
            (event.contact_id.as_str(), event.dedupe_key.as_str()),
            (WA_ID, WAMID)
        );
        assert_eq!(event.ad_id.as_deref(), Some(AD_ID));
        assert_eq!(
            event.ctwa_clid.as_deref(),
            Some("Aff-n8ZTODiE79d22KtAwQKj9e_mIEOOj27vDVwFjN80dp4_0JiNdz")
        );
        assert_eq!(
            event.text.as_deref(),
            Some("Can I get more info about this?")
        );
        assert_eq!(event.ref_value, None);
    }

    #[test]
    fn statuses_are_not_events() {
        assert_eq!(events(&body(STATUSES)), vec![]);
    }

    #[test]
    fn other_change_fields_are_not_events() {
        let other =
            body(TEXT).replace(r#""field": "messages""#, r#""field": "smb_message_echoes""#);
        assert_eq!(events(&other), vec![]);
    }

    #[test]
    fn replies_and_captions_are_read_as_text() {
        let body = with_messages(json!([
            message(json!({ "type": "button", "button": { "text": "Yes", "payload": "YES" } })),
            message(json!({ "type": "interactive",
                "interactive": { "type": "button_reply", "button_reply": { "id": "b1", "title": "Prices" } } })),
            message(json!({ "type": "interactive",
                "interactive": { "type": "list_reply", "list_reply": { "id": "l1", "title": "Lisbon" } } })),
            message(
                json!({ "type": "image", "image": { "id": "1", "caption": "This one (Ref: Ab3)" } })
            ),
            message(json!({ "type": "sticker", "sticker": { "id": "2" } })),
        ]));
        let texts: Vec<_> = events(&body).into_iter().map(|e| e.text).collect();
        assert_eq!(
            texts,
            [
                Some("Yes".into()),
                Some("Prices".into()),
                Some("Lisbon".into()),
                Some("This one (Ref: Ab3)".into()),
                None
            ]
        );
    }

    #[test]
    fn a_body_that_is_not_json_is_malformed() {
        malformed("{\"object\": ");
    }

    #[test]
    fn a_messenger_body_is_malformed_here() {
        let page = body(TEXT).replace(OBJECT, "page");
        assert!(malformed(&page).contains("`page`"));
    }

    #[test]
    fn a_message_without_its_required_fields_is_skipped_and_the_rest_kept() {
        let body = with_messages(json!([
            { "id": WAMID, "timestamp": TS_S },
            message(json!({ "timestamp": "yesterday" })),
            message(json!({ "text": { "body": "Hi (Ref: x)" } })),
        ]));
        let parsed = WhatsappAdapter.parse(body.as_bytes()).unwrap();
        assert_eq!(parsed.events.len(), 1);
        assert_eq!(parsed.events[0].text.as_deref(), Some("Hi (Ref: x)"));
        assert_eq!(parsed.skipped.len(), 2, "{:?}", parsed.skipped);
        assert!(parsed.skipped[0].starts_with("entry[0].changes[0].value.messages[0]: "));
        assert!(parsed.skipped[0].contains("from"), "{:?}", parsed.skipped);
        assert!(
            parsed.skipped[1].contains("yesterday"),
            "{:?}",
            parsed.skipped
        );
    }

    #[test]
    fn a_bad_entry_or_change_is_skipped_alone() {
        let mut body: serde_json::Value = serde_json::from_str(&body(TEXT)).unwrap();
        let good = body["entry"][0].clone();
        let mut bad_change = good.clone();
        bad_change["changes"][0]["value"]["messages"] = json!("not a list");
        body["entry"] = json!([7, bad_change, good]);
        let parsed = WhatsappAdapter.parse(body.to_string().as_bytes()).unwrap();
        assert_eq!(parsed.events.len(), 1);
        assert_eq!(parsed.skipped.len(), 2, "{:?}", parsed.skipped);
        assert!(parsed.skipped[0].starts_with("entry[0]: "));
        assert!(parsed.skipped[1].starts_with("entry[1].changes[0]: "));
    }

    #[test]
    fn each_message_names_the_number_it_was_sent_to() {
        assert_eq!(
            events(&body(TEXT))[0].recipient.as_deref(),
            Some(PHONE_NUMBER_ID)
        );
        let mut other: serde_json::Value = serde_json::from_str(&body(TEXT)).unwrap();
        other["entry"][0]["changes"][0]["value"]
            .as_object_mut()
            .unwrap()
            .remove("metadata");
        assert_eq!(events(&other.to_string())[0].recipient, None);
    }

    #[test]
    fn a_phone_number_id_is_digits_not_the_number() {
        assert_eq!(
            normalize_external_id(PHONE_NUMBER_ID),
            Ok(PHONE_NUMBER_ID.into())
        );
        assert!(normalize_external_id("+15551234567").is_err());
        assert!(normalize_external_id("").is_err());
    }

    #[test]
    fn puts_the_tag_inside_the_prefilled_text() {
        let handle = normalize_handle("+15551234567").unwrap();
        assert_eq!(handle, "15551234567");
        let link = deep_link(&handle, "Ab3dE9xQ-7fGh2k", Some("Hola, quiero info"));
        assert_eq!(
            link,
            "https://wa.me/15551234567?text=Hola%2C%20quiero%20info%20%28Ref%3A%20Ab3dE9xQ-7fGh2k%29"
        );
        let text = url::Url::parse(&link).unwrap();
        let (_, value) = text.query_pairs().next().unwrap();
        assert_eq!(value, "Hola, quiero info (Ref: Ab3dE9xQ-7fGh2k)");
    }

    #[test]
    fn refuses_numbers_that_are_not_e164_digits() {
        for bad in [
            "+001-(555)1234567",
            "555 123 4567",
            "0015551234567",
            "12345",
            "1234567890123456",
            "+44abc",
        ] {
            assert!(normalize_handle(bad).is_err(), "{bad}");
        }
    }
}
