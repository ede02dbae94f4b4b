//! WhatsApp: `https://wa.me/<E.164 digits>?text=<greeting (Ref: tag)>` (PLATFORMS.md §3.1).
//! WhatsApp has no ref parameter, so the tag rides in the prefilled first message, which
//! [`WhatsappAdapter`] hands on as text along with any Click-to-WhatsApp ad referral.

use serde::Deserialize;

use super::meta::{self, Timestamp};
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
    fn parse(&self, body: &[u8]) -> Result<Parsed, WebhookError> {
        let envelope: Envelope = serde_json::from_slice(body)
            .map_err(|e| WebhookError::Malformed(format!("not a WhatsApp webhook body: {e}")))?;
        if envelope.object != OBJECT {
            return Err(WebhookError::Malformed(format!(
                "the body's `object` is `{}`; this webhook receives `{OBJECT}`",
                envelope.object
            )));
        }
        let mut events = Vec::new();
        for (i, entry) in envelope.entry.into_iter().enumerate() {
            for (j, change) in entry.changes.into_iter().enumerate() {
                if change.field != "messages" {
                    continue;
                }
                let malformed =
                    |e: String| WebhookError::Malformed(format!("entry[{i}].changes[{j}]: {e}"));
                // The value's shape depends on `field`, so it is read only once known.
                let value: MessagesValue =
                    serde_json::from_value(change.value).map_err(|e| malformed(e.to_string()))?;
                for message in value.messages {
                    events.push(message.into_event().map_err(&malformed)?);
                }
            }
        }
        Ok(Parsed { events })
    }
}

const OBJECT: &str = "whatsapp_business_account";

#[derive(Deserialize)]
struct Envelope {
    object: String,
    entry: Vec<Entry>,
}

#[derive(Deserialize)]
struct Entry {
    #[serde(default)]
    changes: Vec<Change>,
}

#[derive(Deserialize)]
struct Change {
    #[serde(default)]
    field: String,
    #[serde(default)]
    value: serde_json::Value,
}

/// The `value` of a `messages` change; `statuses`, `contacts` and `metadata` are not read.
#[derive(Deserialize)]
struct MessagesValue {
    #[serde(default)]
    messages: Vec<Message>,
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
    fn into_event(self) -> Result<InboundEvent, String> {
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
    fn a_message_without_its_required_fields_is_malformed() {
        let no_sender = with_messages(json!([{ "id": WAMID, "timestamp": TS_S }]));
        assert!(malformed(&no_sender).contains("from"));
        let bad_time = with_messages(json!([message(json!({ "timestamp": "yesterday" }))]));
        assert!(malformed(&bad_time).contains("yesterday"));
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
