//! LINE: `https://line.me/R/oaMessage/%40<id>/?<greeting (Ref: tag)>` (PLATFORMS.md §6.1).
//! No referral reaches LINE webhooks, so the tag rides in the prefilled message. Webhooks
//! (§6.2–6.3) are signed with a base64 HMAC-SHA256 of the body under the channel secret.

use base64::{Engine, engine::general_purpose::STANDARD as BASE64};
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;
use time::OffsetDateTime;

use super::{
    InvalidHandle, check_chars, encode_component, prefilled_message,
    webhook::{
        EventKind, Handshake, InboundEvent, Parsed, WebhookAdapter, WebhookError, WebhookRequest,
        require_secret,
    },
};
use crate::accounts::AccountSecrets;

/// An official account's basic or premium id, stored with its leading `@`.
pub fn normalize_handle(handle: &str) -> Result<String, InvalidHandle> {
    let id = handle.trim_start_matches('@').to_ascii_lowercase();
    check_chars(
        "LINE official account id",
        &id,
        3,
        20,
        |c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'),
        "like @478eozzg: 3 to 20 letters, digits, dots, dashes or underscores",
    )?;
    Ok(format!("@{id}"))
}

/// The bot's user id, `U` and 32 hex digits, which LINE sends as the webhook's
/// `destination`: routes several channels' events sharing one URL. Stored in lower case,
/// as LINE sends it.
pub fn normalize_external_id(id: &str) -> Result<String, InvalidHandle> {
    let hex = id.strip_prefix('U').unwrap_or_default();
    if hex.len() != 32 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(InvalidHandle(format!(
            "`{id}` is not a LINE bot user id: `U` and 32 hex digits, as the webhook's `destination` (the console's \"Your user ID\")"
        )));
    }
    Ok(format!("U{}", hex.to_ascii_lowercase()))
}

/// The oaMessage link; the id's `@` and the text are percent-encoded as LINE requires.
pub fn deep_link(handle: &str, tag: &str, prefill: Option<&str>) -> String {
    let text = prefilled_message(prefill, tag);
    format!(
        "https://line.me/R/oaMessage/{}/?{}",
        encode_component(handle),
        encode_component(&text)
    )
}

/// The header carrying the base64 HMAC-SHA256 of the body, keyed with the channel secret.
const SIGNATURE_HEADER: &str = "x-line-signature";

/// Verifies and parses LINE Messaging API webhooks; messages and follows from one-on-one
/// chats become events.
pub struct LineAdapter;

impl WebhookAdapter for LineAdapter {
    fn handshake(
        &self,
        _query: &str,
        _secrets: &AccountSecrets,
    ) -> Result<Handshake, WebhookError> {
        Err(WebhookError::Malformed(
            "LINE has no GET handshake; the console's Verify button sends a signed POST with no events"
                .into(),
        ))
    }

    fn verify(
        &self,
        request: &WebhookRequest<'_>,
        secrets: &AccountSecrets,
    ) -> Result<(), WebhookError> {
        let channel_secret = require_secret(secrets, "channel_secret")?;
        let signature = request
            .headers
            .get(SIGNATURE_HEADER)
            .and_then(|v| BASE64.decode(v.as_bytes()).ok())
            .ok_or_else(|| {
                WebhookError::Unauthorized("missing or non-base64 x-line-signature header".into())
            })?;
        let mut mac = Hmac::<Sha256>::new_from_slice(channel_secret.expose().as_bytes())
            .expect("HMAC accepts keys of any length");
        mac.update(request.body);
        mac.verify_slice(&signature).map_err(|_| {
            WebhookError::Unauthorized(
                "x-line-signature does not match the body signed with the account's channel_secret"
                    .into(),
            )
        })
    }

    fn parse(&self, body: &[u8]) -> Result<Parsed, WebhookError> {
        let callback: Callback = serde_json::from_slice(body)
            .map_err(|e| WebhookError::Malformed(format!("not a LINE webhook body: {e}")))?;
        let destination = callback.destination.filter(|d| !d.is_empty());
        // An empty `events` array is the console's Verify call: nothing to record.
        let mut parsed = Parsed::default();
        for event in callback.events {
            if let Some(inbound) = inbound_event(event, destination.as_deref())? {
                parsed.events.push(inbound);
            }
        }
        Ok(parsed)
    }
}

/// The webhook body.
#[derive(Deserialize)]
struct Callback {
    /// The bot's own user id (`U` + 32 hex digits): which official account the events are
    /// for, so several channels can share one webhook URL.
    destination: Option<String>,
    events: Vec<Event>,
}

/// The fields of one event we read, whatever its type.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Event {
    #[serde(rename = "type")]
    kind: String,
    /// Milliseconds since the Unix epoch.
    timestamp: i64,
    source: Option<Source>,
    /// A ULID, the same on a redelivery (`deliveryContext.isRedelivery`).
    webhook_event_id: Option<String>,
    message: Option<Message>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Source {
    #[serde(rename = "type")]
    kind: String,
    user_id: Option<String>,
}

#[derive(Deserialize)]
struct Message {
    id: Option<String>,
    text: Option<String>,
}

/// The event worth attributing, if this is one: a message or a follow in a one-on-one chat
/// with the bot `destination`.
fn inbound_event(
    event: Event,
    destination: Option<&str>,
) -> Result<Option<InboundEvent>, WebhookError> {
    let kind = match event.kind.as_str() {
        "message" => EventKind::Message,
        // A follow (or unblock) carries only `follow.isUnblocked`: LINE passes no referral,
        // so the tag can only come later, inside a message.
        "follow" => EventKind::Open,
        // unfollow, postback, join/leave, beacon, account link, video-viewing and whatever
        // LINE adds later.
        _ => return Ok(None),
    };
    // Group and room messages say nothing about who clicked a link to the account.
    let Some(user_id) = event
        .source
        .filter(|s| s.kind == "user")
        .and_then(|s| s.user_id)
        .filter(|id| !id.is_empty())
    else {
        return Ok(None);
    };
    let at = OffsetDateTime::from_unix_timestamp_nanos(i128::from(event.timestamp) * 1_000_000)
        .map_err(|e| WebhookError::Malformed(format!("LINE timestamp out of range: {e}")))?;
    let message = event.message.unwrap_or(Message {
        id: None,
        text: None,
    });
    // Bodies from before `webhookEventId` existed fall back to the message id, and a
    // follow without either to who and when: a redelivery repeats both.
    let dedupe_key = match (event.webhook_event_id, message.id) {
        (Some(id), _) | (None, Some(id)) => id,
        (None, None) => format!("{}:{user_id}:{}", event.kind, event.timestamp),
    };
    Ok(Some(InboundEvent {
        contact_id: user_id,
        dedupe_key,
        at,
        kind,
        ref_value: None,
        ad_id: None,
        ctwa_clid: None,
        // Only text messages have text; images, stickers and the like do not.
        text: message.text.filter(|t| !t.is_empty()),
        recipient: destination.map(str::to_owned),
    }))
}

#[cfg(test)]
mod tests {
    use http::{HeaderMap, HeaderValue};

    use super::*;
    use crate::secret::Secret;

    const CHANNEL_SECRET: &str = "8f2c4a0d1e3b5c7a9f0e2d4c6b8a0f1e";
    const CONTACT: &str = "U4af4980629aaaaaaaaaaaaaaaaaaaaaa";
    const MESSAGE_ID: &str = "468789577898262530";
    const MILLIS: i64 = 1_692_251_666_727;
    /// The fixtures' `destination`.
    const BOT: &str = "U00000000000000000000000000000000";

    const TEXT: &str = include_str!("../../tests/fixtures/line/text.json");
    const IMAGE: &str = include_str!("../../tests/fixtures/line/image.json");
    const FOLLOW: &str = include_str!("../../tests/fixtures/line/follow.json");
    const VERIFY_EMPTY: &str = include_str!("../../tests/fixtures/line/verify_empty.json");
    const UNFOLLOW: &str = include_str!("../../tests/fixtures/line/unfollow.json");
    const POSTBACK: &str = include_str!("../../tests/fixtures/line/postback.json");
    const GROUP_TEXT: &str = include_str!("../../tests/fixtures/line/group_text.json");
    const BATCH: &str = include_str!("../../tests/fixtures/line/batch.json");

    fn fill(fixture: &str, tag: &str) -> String {
        fixture
            .replace("__REF__", tag)
            .replace("__CONTACT__", CONTACT)
            .replace("__MSG_ID__", MESSAGE_ID)
            .replace("__TS_MS__", &MILLIS.to_string())
    }

    fn secrets() -> AccountSecrets {
        AccountSecrets::from([("channel_secret".to_owned(), Secret::new(CHANNEL_SECRET))])
    }

    fn sign(key: &str, body: &[u8]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(key.as_bytes()).unwrap();
        mac.update(body);
        BASE64.encode(mac.finalize().into_bytes())
    }

    fn signed(signature: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(SIGNATURE_HEADER, HeaderValue::from_str(signature).unwrap());
        headers
    }

    fn verify(
        headers: &HeaderMap,
        body: &str,
        secrets: &AccountSecrets,
    ) -> Result<(), WebhookError> {
        let request = WebhookRequest {
            headers,
            query: "",
            body: body.as_bytes(),
        };
        LineAdapter.verify(&request, secrets)
    }

    fn parse(body: &str) -> Vec<InboundEvent> {
        LineAdapter.parse(body.as_bytes()).unwrap().events
    }

    fn is_unauthorized(result: Result<(), WebhookError>) -> bool {
        matches!(result, Err(WebhookError::Unauthorized(_)))
    }

    #[test]
    fn builds_an_oa_message_link() {
        let handle = normalize_handle("478EOZZG").unwrap();
        assert_eq!(handle, "@478eozzg");
        assert_eq!(
            deep_link(&handle, "Ab3dE9xQ-7fGh2k", Some("Hello")),
            "https://line.me/R/oaMessage/%40478eozzg/?Hello%20%28Ref%3A%20Ab3dE9xQ-7fGh2k%29"
        );
    }

    #[test]
    fn refuses_invalid_ids() {
        for bad in ["@", "@a b", "@x", "@toolongidentifier12345"] {
            assert!(normalize_handle(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_body_signed_with_the_channel_secret_verifies() {
        let body = fill(TEXT, "Ab3dE9xQ-7fGh2k");
        let headers = signed(&sign(CHANNEL_SECRET, body.as_bytes()));
        assert_eq!(verify(&headers, &body, &secrets()), Ok(()));
        // The console's Verify call is signed the same way.
        let headers = signed(&sign(CHANNEL_SECRET, VERIFY_EMPTY.as_bytes()));
        assert_eq!(verify(&headers, VERIFY_EMPTY, &secrets()), Ok(()));
    }

    #[test]
    fn a_signature_under_another_secret_is_refused() {
        let body = fill(TEXT, "Ab3dE9xQ-7fGh2k");
        let headers = signed(&sign("another-secret", body.as_bytes()));
        assert!(is_unauthorized(verify(&headers, &body, &secrets())));
    }

    #[test]
    fn an_altered_body_is_refused() {
        let body = fill(TEXT, "Ab3dE9xQ-7fGh2k");
        let headers = signed(&sign(CHANNEL_SECRET, body.as_bytes()));
        let forged = fill(TEXT, "Zz9forged");
        assert!(is_unauthorized(verify(&headers, &forged, &secrets())));
    }

    #[test]
    fn a_missing_or_garbled_signature_is_refused() {
        let body = fill(FOLLOW, "");
        assert!(is_unauthorized(verify(
            &HeaderMap::new(),
            &body,
            &secrets()
        )));
        assert!(is_unauthorized(verify(&signed("%%%"), &body, &secrets())));
        // Right digest, wrong encoding: LINE sends base64, not hex.
        let mut mac = Hmac::<Sha256>::new_from_slice(CHANNEL_SECRET.as_bytes()).unwrap();
        mac.update(body.as_bytes());
        let hex_digest = hex::encode(mac.finalize().into_bytes());
        assert!(is_unauthorized(verify(
            &signed(&hex_digest),
            &body,
            &secrets()
        )));
    }

    #[test]
    fn an_account_without_a_channel_secret_is_not_configured() {
        let body = fill(FOLLOW, "");
        let headers = signed(&sign(CHANNEL_SECRET, body.as_bytes()));
        assert!(matches!(
            verify(&headers, &body, &AccountSecrets::new()),
            Err(WebhookError::NotConfigured(_))
        ));
    }

    #[test]
    fn there_is_no_get_handshake() {
        assert!(matches!(
            LineAdapter.handshake("", &secrets()),
            Err(WebhookError::Malformed(_))
        ));
    }

    #[test]
    fn a_text_message_carries_the_tag_in_its_text() {
        assert_eq!(
            parse(&fill(TEXT, "Ab3dE9xQ-7fGh2k")),
            vec![InboundEvent {
                contact_id: CONTACT.into(),
                dedupe_key: "01H810YECXQQZ37VAXPF6H9E6T".into(),
                at: OffsetDateTime::from_unix_timestamp_nanos(1_692_251_666_727_000_000).unwrap(),
                kind: EventKind::Message,
                ref_value: None,
                ad_id: None,
                ctwa_clid: None,
                text: Some("Hi! I'd like to know more. (Ref: Ab3dE9xQ-7fGh2k)".into()),
                recipient: Some(BOT.into()),
            }]
        );
    }

    #[test]
    fn an_image_is_a_message_without_text() {
        let events = parse(&fill(IMAGE, ""));
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].kind, EventKind::Message);
        assert_eq!(events[0].text, None);
        assert_eq!(events[0].dedupe_key, "01H810YECXQQZ37VAXPF6H9E6V");
    }

    #[test]
    fn a_follow_opens_without_a_ref() {
        let events = parse(&fill(FOLLOW, ""));
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].kind, EventKind::Open);
        assert_eq!(events[0].contact_id, CONTACT);
        assert_eq!(events[0].dedupe_key, "01H810YECXQQZ37VAXPF6H9E6W");
        assert_eq!(events[0].ref_value, None);
        assert_eq!(events[0].text, None);
    }

    #[test]
    fn every_event_of_a_batch_is_kept() {
        let events = parse(&fill(BATCH, "Ab3dE9xQ-7fGh2k"));
        let kinds: Vec<_> = events
            .iter()
            .map(|e| (e.kind, e.dedupe_key.as_str()))
            .collect();
        assert_eq!(
            kinds,
            [
                (EventKind::Open, "01H810YECXQQZ37VAXPF6H9E70"),
                (EventKind::Message, "01H810YECXQQZ37VAXPF6H9E71"),
            ]
        );
    }

    #[test]
    fn a_message_without_a_webhook_event_id_falls_back_to_the_message_id() {
        let body =
            fill(TEXT, "x").replace("\"webhookEventId\": \"01H810YECXQQZ37VAXPF6H9E6T\",", "");
        assert_eq!(parse(&body)[0].dedupe_key, MESSAGE_ID);
    }

    #[test]
    fn the_verify_call_unfollows_postbacks_and_groups_give_no_events() {
        for fixture in [VERIFY_EMPTY, UNFOLLOW, POSTBACK, GROUP_TEXT] {
            assert_eq!(parse(&fill(fixture, "x")), vec![], "{fixture}");
        }
    }

    #[test]
    fn events_name_the_bot_they_were_sent_to() {
        let events = parse(&fill(BATCH, "x"));
        assert!(events.iter().all(|e| e.recipient.as_deref() == Some(BOT)));
        let none = fill(TEXT, "x").replace(&format!(r#""destination": "{BOT}","#), "");
        assert_eq!(parse(&none)[0].recipient, None);
    }

    #[test]
    fn a_bot_user_id_is_u_and_32_hex_digits() {
        let upper = format!("U{}", "4AF4980629".repeat(3) + "AB");
        assert_eq!(
            normalize_external_id(&upper),
            Ok(format!("U{}", "4af4980629".repeat(3) + "ab"))
        );
        for bad in [
            "",
            "@478eozzg",
            "U123",
            &format!("u{}", "0".repeat(32)),
            &format!("U{}", "x".repeat(32)),
        ] {
            assert!(normalize_external_id(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_body_that_is_not_a_line_webhook_is_malformed() {
        let no_timestamp =
            r#"{"events":[{"type":"follow","source":{"type":"user","userId":"U1"}}]}"#;
        for body in ["", "{}", "{\"events\": {}}", no_timestamp] {
            assert!(
                matches!(
                    LineAdapter.parse(body.as_bytes()),
                    Err(WebhookError::Malformed(_))
                ),
                "{body}"
            );
        }
    }
}
