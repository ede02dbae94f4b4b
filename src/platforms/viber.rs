//! Viber: `viber://pa?chatURI=<uri>&context=<tag>` (PLATFORMS.md §5.1); the tag returns in
//! `conversation_started.context`. An app scheme: the short link's 302 opens the app on phones.
//! Webhooks (§5.2–5.3) are signed with a hex HMAC-SHA256 of the body under the auth token.

use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;
use time::OffsetDateTime;

use super::{
    InvalidHandle, check_chars, encode_component,
    webhook::{
        EventKind, Handshake, InboundEvent, Parsed, WebhookAdapter, WebhookError, WebhookRequest,
        require_secret,
    },
};
use crate::accounts::AccountSecrets;

/// A bot's chat URI: letters, digits, dots, dashes and underscores.
pub fn normalize_handle(handle: &str) -> Result<String, InvalidHandle> {
    check_chars(
        "Viber chat URI",
        handle,
        1,
        64,
        |c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'),
        "1 to 64 letters, digits, dots, dashes or underscores",
    )?;
    Ok(handle.to_owned())
}

/// The Viber deep link, with the greeting as `text` when there is one.
pub fn deep_link(handle: &str, tag: &str, prefill: Option<&str>) -> String {
    let mut link = format!("viber://pa?chatURI={handle}&context={tag}");
    if let Some(text) = prefill {
        link.push_str("&text=");
        link.push_str(&encode_component(text));
    }
    link
}

/// The header carrying the lowercase hex HMAC-SHA256 of the body, keyed with the auth token.
const SIGNATURE_HEADER: &str = "x-viber-content-signature";

/// Verifies and parses Viber REST Bot API callbacks; `conversation_started` and `message`
/// become events.
pub struct ViberAdapter;

impl WebhookAdapter for ViberAdapter {
    fn handshake(
        &self,
        _query: &str,
        _secrets: &AccountSecrets,
    ) -> Result<Handshake, WebhookError> {
        Err(WebhookError::Malformed(
            "Viber has no GET handshake; set_webhook checks the URL with a signed POST \
             (event `webhook`)"
                .into(),
        ))
    }

    fn verify(
        &self,
        request: &WebhookRequest<'_>,
        secrets: &AccountSecrets,
    ) -> Result<(), WebhookError> {
        let auth_token = require_secret(secrets, "auth_token")?;
        let signature = request
            .headers
            .get(SIGNATURE_HEADER)
            .and_then(|v| hex::decode(v.as_bytes()).ok())
            .ok_or_else(|| {
                WebhookError::Unauthorized(
                    "missing or non-hex X-Viber-Content-Signature header".into(),
                )
            })?;
        let mut mac = Hmac::<Sha256>::new_from_slice(auth_token.expose().as_bytes())
            .expect("HMAC accepts keys of any length");
        mac.update(request.body);
        mac.verify_slice(&signature).map_err(|_| {
            WebhookError::Unauthorized(
                "X-Viber-Content-Signature does not match the body signed with the account's auth_token"
                    .into(),
            )
        })
    }

    fn parse(&self, body: &[u8]) -> Result<Parsed, WebhookError> {
        let callback: Callback = serde_json::from_slice(body)
            .map_err(|e| WebhookError::Malformed(format!("not a Viber callback: {e}")))?;
        let event = match callback {
            Callback::ConversationStarted {
                timestamp,
                message_token,
                user,
                context,
            } => InboundEvent {
                contact_id: user.id,
                dedupe_key: format!("conversation_started:{message_token}"),
                at: from_unix_millis(timestamp)?,
                kind: EventKind::Open,
                // The deep link's `context`; Viber sends it only when the chat was opened
                // through such a link.
                ref_value: context.filter(|c| !c.is_empty()),
                ad_id: None,
                ctwa_clid: None,
                text: None,
                recipient: None,
            },
            Callback::Message {
                timestamp,
                message_token,
                sender,
                message,
            } => InboundEvent {
                contact_id: sender.id,
                dedupe_key: format!("message:{message_token}"),
                at: from_unix_millis(timestamp)?,
                kind: EventKind::Message,
                ref_value: None,
                ad_id: None,
                ctwa_clid: None,
                text: message.text.filter(|t| !t.is_empty()),
                recipient: None,
            },
            // `webhook` is set_webhook's availability check and only needs a 200;
            // subscriptions, receipts and client statuses say nothing about a campaign.
            Callback::Other => return Ok(Parsed::default()),
        };
        Ok(Parsed {
            events: vec![event],
            skipped: Vec::new(),
        })
    }
}

/// The callbacks we read, by their `event` field. `message_token` is a 64-bit integer that
/// an f64 would round, so it is read as `u64` (PLATFORMS.md §5.2); `timestamp` is epoch ms.
#[derive(Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
enum Callback {
    ConversationStarted {
        timestamp: i64,
        message_token: u64,
        user: User,
        context: Option<String>,
    },
    Message {
        timestamp: i64,
        message_token: u64,
        sender: User,
        message: Message,
    },
    /// `webhook`, `subscribed`, `unsubscribed`, `delivered`, `seen`, `failed`,
    /// `client_status` and whatever Viber adds later.
    #[serde(other)]
    Other,
}

#[derive(Deserialize)]
struct User {
    id: String,
}

/// A message of any type; only `text` messages have text (pictures, stickers and
/// locations do not).
#[derive(Deserialize)]
struct Message {
    text: Option<String>,
}

/// Viber timestamps are milliseconds since the Unix epoch.
fn from_unix_millis(millis: i64) -> Result<OffsetDateTime, WebhookError> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000)
        .map_err(|e| WebhookError::Malformed(format!("Viber timestamp out of range: {e}")))
}

#[cfg(test)]
mod tests {
    use http::{HeaderMap, HeaderValue};

    use super::*;
    use crate::secret::Secret;

    const AUTH_TOKEN: &str = "4453b6ac12345678-e02c5f12174805f9-daec9cbb5448c51f";
    const CONTACT: &str = "01234567890A=";
    const TOKEN: &str = "4912661846655238145";
    const MILLIS: i64 = 1_457_764_197_627;

    const CONVERSATION_STARTED: &str =
        include_str!("../../tests/fixtures/viber/conversation_started.json");
    const MESSAGE: &str = include_str!("../../tests/fixtures/viber/message.json");
    const PICTURE: &str = include_str!("../../tests/fixtures/viber/picture.json");
    const WEBHOOK_CHECK: &str = include_str!("../../tests/fixtures/viber/webhook_check.json");
    const DELIVERED: &str = include_str!("../../tests/fixtures/viber/delivered.json");
    const SUBSCRIBED: &str = include_str!("../../tests/fixtures/viber/subscribed.json");
    const SEEN: &str = include_str!("../../tests/fixtures/viber/seen.json");

    fn fill(fixture: &str, tag: &str) -> String {
        fixture
            .replace("__REF__", tag)
            .replace("__CONTACT__", CONTACT)
            .replace("__MSG_ID__", TOKEN)
            .replace("__TS_MS__", &MILLIS.to_string())
    }

    fn secrets() -> AccountSecrets {
        AccountSecrets::from([("auth_token".to_owned(), Secret::new(AUTH_TOKEN))])
    }

    fn sign(key: &str, body: &[u8]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(key.as_bytes()).unwrap();
        mac.update(body);
        hex::encode(mac.finalize().into_bytes())
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
        ViberAdapter.verify(&request, secrets)
    }

    fn parse(body: &str) -> Vec<InboundEvent> {
        ViberAdapter.parse(body.as_bytes()).unwrap().events
    }

    fn is_unauthorized(result: Result<(), WebhookError>) -> bool {
        matches!(result, Err(WebhookError::Unauthorized(_)))
    }

    #[test]
    fn builds_a_context_link() {
        let handle = normalize_handle("coastshop").unwrap();
        assert_eq!(
            deep_link(&handle, "Ab3dE9xQ-7fGh2k", None),
            "viber://pa?chatURI=coastshop&context=Ab3dE9xQ-7fGh2k"
        );
        assert_eq!(
            deep_link(&handle, "T", Some("Hi there")),
            "viber://pa?chatURI=coastshop&context=T&text=Hi%20there"
        );
    }

    #[test]
    fn refuses_uris_with_other_characters() {
        for bad in ["", "coast shop", "coast&context=x", "coast/shop"] {
            assert!(normalize_handle(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_body_signed_with_the_auth_token_verifies() {
        let body = fill(CONVERSATION_STARTED, "cmp_K7Q2");
        let headers = signed(&sign(AUTH_TOKEN, body.as_bytes()));
        assert_eq!(verify(&headers, &body, &secrets()), Ok(()));
    }

    #[test]
    fn a_signature_under_another_token_is_refused() {
        let body = fill(CONVERSATION_STARTED, "cmp_K7Q2");
        let headers = signed(&sign("another-token", body.as_bytes()));
        assert!(is_unauthorized(verify(&headers, &body, &secrets())));
    }

    #[test]
    fn an_altered_body_is_refused() {
        let body = fill(CONVERSATION_STARTED, "cmp_K7Q2");
        let headers = signed(&sign(AUTH_TOKEN, body.as_bytes()));
        let forged = fill(CONVERSATION_STARTED, "cmp_FORGED");
        assert!(is_unauthorized(verify(&headers, &forged, &secrets())));
    }

    #[test]
    fn a_missing_or_garbled_signature_is_refused() {
        let body = fill(MESSAGE, "");
        assert!(is_unauthorized(verify(
            &HeaderMap::new(),
            &body,
            &secrets()
        )));
        assert!(is_unauthorized(verify(
            &signed("not hex"),
            &body,
            &secrets()
        )));
        let prefixed = format!("sha256={}", sign(AUTH_TOKEN, body.as_bytes()));
        assert!(is_unauthorized(verify(
            &signed(&prefixed),
            &body,
            &secrets()
        )));
    }

    #[test]
    fn an_account_without_an_auth_token_is_not_configured() {
        let body = fill(MESSAGE, "");
        let headers = signed(&sign(AUTH_TOKEN, body.as_bytes()));
        assert!(matches!(
            verify(&headers, &body, &AccountSecrets::new()),
            Err(WebhookError::NotConfigured(_))
        ));
    }

    #[test]
    fn there_is_no_get_handshake() {
        assert!(matches!(
            ViberAdapter.handshake("", &secrets()),
            Err(WebhookError::Malformed(_))
        ));
    }

    #[test]
    fn conversation_started_opens_with_the_context_as_ref() {
        assert_eq!(
            parse(&fill(CONVERSATION_STARTED, "cmp_K7Q2")),
            vec![InboundEvent {
                contact_id: CONTACT.into(),
                dedupe_key: format!("conversation_started:{TOKEN}"),
                at: OffsetDateTime::from_unix_timestamp_nanos(1_457_764_197_627_000_000).unwrap(),
                kind: EventKind::Open,
                ref_value: Some("cmp_K7Q2".into()),
                ad_id: None,
                ctwa_clid: None,
                text: None,
                recipient: None,
            }]
        );
    }

    #[test]
    fn conversation_started_without_context_opens_without_a_ref() {
        let body = fill(CONVERSATION_STARTED, "");
        let without: serde_json::Value = serde_json::from_str(&body).unwrap();
        let mut without = without.as_object().unwrap().clone();
        without.remove("context");
        for body in [body, serde_json::to_string(&without).unwrap()] {
            let events = parse(&body);
            assert_eq!(events.len(), 1);
            assert_eq!(events[0].kind, EventKind::Open);
            assert_eq!(events[0].ref_value, None);
        }
    }

    #[test]
    fn the_message_token_keeps_all_64_bits() {
        // 2^63 + 1 has no exact f64; reading through a float would change the key.
        let body = fill(MESSAGE, "").replace(TOKEN, "9223372036854775809");
        assert_eq!(parse(&body)[0].dedupe_key, "message:9223372036854775809");
    }

    #[test]
    fn a_message_is_a_message_with_its_text() {
        let events = parse(&fill(MESSAGE, ""));
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].kind, EventKind::Message);
        assert_eq!(events[0].contact_id, CONTACT);
        assert_eq!(events[0].dedupe_key, format!("message:{TOKEN}"));
        assert_eq!(events[0].text.as_deref(), Some("Hola, vengo del anuncio"));
        assert_eq!(events[0].ref_value, None);
    }

    #[test]
    fn a_picture_is_a_message_without_text() {
        let events = parse(&fill(PICTURE, ""));
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].kind, EventKind::Message);
        assert_eq!(events[0].text, None);
    }

    #[test]
    fn the_webhook_check_receipts_and_subscriptions_give_no_events() {
        for fixture in [WEBHOOK_CHECK, DELIVERED, SUBSCRIBED, SEEN] {
            assert_eq!(
                ViberAdapter.parse(fill(fixture, "").as_bytes()),
                Ok(Parsed::default()),
                "{fixture}"
            );
        }
    }

    #[test]
    fn a_body_that_is_not_a_callback_is_malformed() {
        let float_token = fill(MESSAGE, "").replace(TOKEN, "4.9e18");
        let no_sender = r#"{"event":"message","timestamp":1,"message_token":1,"message":{}}"#;
        for body in ["", "{}", "[1]", no_sender, &float_token] {
            assert!(
                matches!(
                    ViberAdapter.parse(body.as_bytes()),
                    Err(WebhookError::Malformed(_))
                ),
                "{body}"
            );
        }
    }
}
