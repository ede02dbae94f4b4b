//! What Messenger, Instagram and WhatsApp share: Meta signs every webhook body with the app
//! secret, subscribes a callback with the `hub.*` handshake, and stamps events with Unix
//! timestamps whose unit and JSON type vary by product (PLATFORMS.md §1.4–1.6, §3.2–3.3);
//! Messenger and Instagram also share the `entry[].messaging[]` envelope ([`parse_messaging`]).

use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;
use time::OffsetDateTime;

use super::webhook::{
    EventKind, Handshake, InboundEvent, Parsed, WebhookError, WebhookRequest, query_param,
    require_secret,
};
use super::{InvalidHandle, check_chars};
use crate::accounts::AccountSecrets;

/// The header carrying `sha256=<lowercase hex HMAC-SHA256(app secret, raw body)>`.
pub const SIGNATURE_HEADER: &str = "x-hub-signature-256";

/// Checks `X-Hub-Signature-256` against the raw body with the account's `app_secret`.
///
/// Meta signs the exact bytes it sends (non-ASCII escaped as `\u00e4`), so the MAC runs over
/// the received bytes, never a re-serialisation (§1.6). Only the SHA-256 header is trusted;
/// the legacy SHA-1 `X-Hub-Signature` is ignored.
pub fn verify_signature(
    request: &WebhookRequest<'_>,
    secrets: &AccountSecrets,
) -> Result<(), WebhookError> {
    let app_secret = require_secret(secrets, "app_secret")?;
    let header = request
        .headers
        .get(SIGNATURE_HEADER)
        .ok_or_else(|| WebhookError::Unauthorized("missing X-Hub-Signature-256 header".into()))?;
    let signature = header
        .to_str()
        .ok()
        .and_then(|value| value.strip_prefix("sha256="))
        .and_then(|hex_digest| hex::decode(hex_digest).ok())
        .ok_or_else(|| {
            WebhookError::Unauthorized(
                "X-Hub-Signature-256 is not `sha256=` followed by a hex digest".into(),
            )
        })?;
    let mut mac = Hmac::<Sha256>::new_from_slice(app_secret.expose().as_bytes())
        .expect("HMAC accepts keys of any length");
    mac.update(request.body);
    // `verify_slice` compares in constant time and refuses digests of the wrong length.
    mac.verify_slice(&signature).map_err(|_| {
        WebhookError::Unauthorized("X-Hub-Signature-256 does not match the body".into())
    })
}

/// Answers Meta's subscription check: `hub.mode=subscribe` with the account's `verify_token`
/// gets `hub.challenge` echoed back (§1.5); anything else is refused.
pub fn handshake(query: &str, secrets: &AccountSecrets) -> Result<Handshake, WebhookError> {
    let verify_token = require_secret(secrets, "verify_token")?;
    // The names contain dots, so read them from the raw query string (§1.5).
    if query_param(query, "hub.mode").as_deref() != Some("subscribe") {
        return Err(WebhookError::Unauthorized(
            "hub.mode must be `subscribe`".into(),
        ));
    }
    let presented = query_param(query, "hub.verify_token")
        .ok_or_else(|| WebhookError::Unauthorized("missing hub.verify_token".into()))?;
    if !verify_token.matches(presented.as_bytes()) {
        return Err(WebhookError::Unauthorized(
            "hub.verify_token does not match this account's verify_token".into(),
        ));
    }
    let challenge = query_param(query, "hub.challenge").ok_or_else(|| {
        WebhookError::Malformed("the handshake has no hub.challenge to echo".into())
    })?;
    Ok(Handshake::Echo(challenge))
}

/// A Unix timestamp as Meta sends it: a JSON number, or the same digits in a string.
///
/// Messenger and Instagram send milliseconds as numbers, but one postbacks reference shows a
/// string (§1.4); WhatsApp sends seconds as a string (§3.2). Both forms are accepted.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum Timestamp {
    Number(i64),
    Text(String),
}

/// Below this a "millisecond" value can only be seconds: 10^11 ms is March 1973, while 10^11 s
/// is the year 5138. The postbacks reference's string example (`"1527459824"`) is in seconds.
const SMALLEST_MILLIS: i64 = 100_000_000_000;

impl Timestamp {
    /// The digits as received, for synthetic dedupe keys that must repeat on redelivery.
    pub fn raw(&self) -> String {
        match self {
            Timestamp::Number(n) => n.to_string(),
            Timestamp::Text(s) => s.trim().to_owned(),
        }
    }

    /// Reads Messenger/Instagram milliseconds (a seconds-sized value is taken as seconds).
    pub fn read_millis(&self) -> Result<OffsetDateTime, WebhookError> {
        let value = self.integer()?;
        let millis = if value.abs() < SMALLEST_MILLIS {
            i128::from(value) * 1_000
        } else {
            i128::from(value)
        };
        OffsetDateTime::from_unix_timestamp_nanos(millis * 1_000_000).map_err(|_| self.invalid())
    }

    /// Reads WhatsApp seconds.
    pub fn read_seconds(&self) -> Result<OffsetDateTime, WebhookError> {
        OffsetDateTime::from_unix_timestamp(self.integer()?).map_err(|_| self.invalid())
    }

    fn integer(&self) -> Result<i64, WebhookError> {
        match self {
            Timestamp::Number(n) => Ok(*n),
            Timestamp::Text(s) => s.trim().parse().map_err(|_| self.invalid()),
        }
    }

    fn invalid(&self) -> WebhookError {
        WebhookError::Malformed(format!("`{}` is not a Unix timestamp", self.raw()))
    }
}

/// Checks one of Meta's numeric ids as an account's external id (Page id, Instagram
/// professional account id, WhatsApp `phone_number_id`): 1 to 64 digits, as webhooks carry it.
pub fn normalize_id(what: &str, id: &str, example: &str) -> Result<String, InvalidHandle> {
    check_chars(
        what,
        id,
        1,
        64,
        |c| c.is_ascii_digit(),
        &format!("digits only, as Meta shows it (e.g. {example})"),
    )?;
    Ok(id.to_owned())
}

/// An id Meta may send as a JSON string or number (Page, account and phone number ids are
/// strings in every example, but nothing is lost by reading digits either way).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub(crate) enum MetaId {
    Text(String),
    Number(u64),
}

impl MetaId {
    /// The id as text, `None` when empty.
    pub(crate) fn into_text(self) -> Option<String> {
        match self {
            MetaId::Text(text) => Some(text.trim().to_owned()).filter(|t| !t.is_empty()),
            MetaId::Number(n) => Some(n.to_string()),
        }
    }
}

/// Reads the envelope every Meta webhook shares, `{"object": …, "entry": […]}`, and returns
/// the entries still as JSON: a body without this shape, or for another product, is not
/// ours to take (400), while each entry is read on its own so one that cannot be read is
/// skipped rather than refusing the batch (§1.7: a refused batch is retried for hours,
/// then the webhook is disabled).
pub(crate) fn read_envelope(
    body: &[u8],
    object: &str,
) -> Result<Vec<serde_json::Value>, WebhookError> {
    let envelope: Envelope = serde_json::from_slice(body)
        .map_err(|e| WebhookError::Malformed(format!("not a `{object}` webhook body: {e}")))?;
    if envelope.object != object {
        return Err(WebhookError::Malformed(format!(
            "the body's `object` is `{}`; this webhook receives `{object}`",
            envelope.object
        )));
    }
    Ok(envelope.entry)
}

/// Parses the Messenger Platform envelope, `entry[].messaging[]`, which Instagram Messaging
/// shares (PLATFORMS.md §1.4, §2); `object` tells the two apart.
///
/// One item becomes at most one event: a customer's message, a postback, or a thread-opening
/// referral. Echoes of our own messages, delivery and read receipts, reactions, edits and
/// anything newer are skipped, and their fields are not required. An entry or item that
/// cannot be read is left out with its reason in [`Parsed::skipped`]; the others are kept.
/// Each event's recipient is the Page or Instagram account it was sent to (`recipient.id`,
/// else the entry's `id`), so one app's batch can be split between its accounts.
pub(crate) fn parse_messaging(body: &[u8], object: &str) -> Result<Parsed, WebhookError> {
    let mut parsed = Parsed::default();
    // Meta batches: every entry and every item must be read (§1.8).
    for (i, entry) in read_envelope(body, object)?.into_iter().enumerate() {
        let entry: Entry = match serde_json::from_value(entry) {
            Ok(entry) => entry,
            Err(e) => {
                parsed.skipped.push(format!("entry[{i}]: {e}"));
                continue;
            }
        };
        let entry_id = entry.id.and_then(MetaId::into_text);
        for (j, item) in entry.messaging.into_iter().enumerate() {
            let event = serde_json::from_value::<Messaging>(item)
                .map_err(|e| e.to_string())
                .and_then(|item| item.to_event(entry_id.as_deref()));
            match event {
                Ok(event) => parsed.events.extend(event),
                Err(reason) => parsed
                    .skipped
                    .push(format!("entry[{i}].messaging[{j}]: {reason}")),
            }
        }
    }
    Ok(parsed)
}

#[derive(Deserialize)]
struct Envelope {
    object: String,
    entry: Vec<serde_json::Value>,
}

#[derive(Deserialize)]
struct Entry {
    /// The Page id (Messenger) or professional account id (Instagram) the entry is for.
    id: Option<MetaId>,
    /// Absent on entries for other subscriptions (a Page's `feed` sends `changes`).
    #[serde(default)]
    messaging: Vec<serde_json::Value>,
}

/// One item of `messaging[]`; only the fields we read are declared.
#[derive(Deserialize)]
struct Messaging {
    sender: Option<Party>,
    recipient: Option<Party>,
    timestamp: Option<Timestamp>,
    message: Option<Message>,
    postback: Option<Postback>,
    referral: Option<Referral>,
}

#[derive(Deserialize)]
struct Party {
    id: Option<String>,
    /// The chat plugin's sender has a `user_ref` instead of a PSID (§1.3).
    user_ref: Option<String>,
}

#[derive(Deserialize)]
struct Message {
    mid: Option<String>,
    text: Option<String>,
    /// Set on copies of what the Page itself sent.
    #[serde(default)]
    is_echo: bool,
    referral: Option<Referral>,
}

#[derive(Deserialize)]
struct Postback {
    /// Sent since Graph v11.0; older versions have none (§1.4).
    mid: Option<String>,
    referral: Option<Referral>,
}

/// `ref` is our tag (or the ad's own ref); `ad_id` marks a Click-to-Messenger/Direct ad. A
/// Shops `referral` carries only `product.id` and so yields neither (§1.4).
#[derive(Deserialize)]
struct Referral {
    #[serde(rename = "ref")]
    ref_value: Option<String>,
    ad_id: Option<String>,
}

impl Referral {
    fn ref_value(&self) -> Option<String> {
        non_empty(&self.ref_value)
    }

    fn ad_id(&self) -> Option<String> {
        non_empty(&self.ad_id)
    }
}

fn non_empty(value: &Option<String>) -> Option<String> {
    value
        .as_deref()
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

/// What one `messaging[]` item can be, once echoes and receipts are set aside.
enum Item<'a> {
    Message(&'a Message),
    Postback(&'a Postback),
    Referral(&'a Referral),
}

impl Messaging {
    fn item(&self) -> Option<Item<'_>> {
        if let Some(message) = &self.message {
            return (!message.is_echo).then_some(Item::Message(message));
        }
        if let Some(postback) = &self.postback {
            return Some(Item::Postback(postback));
        }
        // Anything else (delivery, read, reaction, message_edit, optin, …) is not an event.
        self.referral.as_ref().map(Item::Referral)
    }

    /// The event of this item, if it is one; `entry_id` is the entry's Page or account id,
    /// the recipient when the item names none.
    fn to_event(&self, entry_id: Option<&str>) -> Result<Option<InboundEvent>, String> {
        let Some(item) = self.item() else {
            return Ok(None);
        };
        let contact_id = self
            .sender
            .as_ref()
            .and_then(|s| s.id.clone().or_else(|| s.user_ref.clone()))
            .ok_or("no `sender.id` or `sender.user_ref`")?;
        let timestamp = self.timestamp.as_ref().ok_or("no `timestamp`")?;
        let at = timestamp.read_millis().map_err(|e| e.to_string())?;

        let (kind, dedupe_key, referral, text) = match item {
            Item::Message(message) => {
                let mid = message.mid.clone().ok_or("a message without `mid`")?;
                (
                    EventKind::Message,
                    mid,
                    message.referral.as_ref(),
                    message.text.clone(),
                )
            }
            Item::Postback(postback) => {
                let key = match &postback.mid {
                    Some(mid) => mid.clone(),
                    None => format!(
                        "postback:{}:{contact_id}:{}",
                        self.recipient_id()?,
                        timestamp.raw()
                    ),
                };
                (EventKind::Postback, key, postback.referral.as_ref(), None)
            }
            Item::Referral(referral) => {
                // Open-thread referrals carry no id (§1.8), so the key is built from what a
                // redelivery repeats: `ref:<recipient>:<sender>:<timestamp>:<ref or ad_id>`.
                let tag = referral
                    .ref_value()
                    .or_else(|| referral.ad_id())
                    .unwrap_or_default();
                let key = format!(
                    "ref:{}:{contact_id}:{}:{tag}",
                    self.recipient_id()?,
                    timestamp.raw()
                );
                (EventKind::Referral, key, Some(referral), None)
            }
        };
        Ok(Some(InboundEvent {
            contact_id,
            dedupe_key,
            at,
            kind,
            ref_value: referral.and_then(Referral::ref_value),
            ad_id: referral.and_then(Referral::ad_id),
            ctwa_clid: None,
            text,
            recipient: self
                .recipient
                .as_ref()
                .and_then(|r| r.id.as_deref())
                .filter(|id| !id.is_empty())
                .or(entry_id)
                .map(str::to_owned),
        }))
    }

    fn recipient_id(&self) -> Result<&str, String> {
        self.recipient
            .as_ref()
            .and_then(|r| r.id.as_deref())
            .ok_or_else(|| "no `recipient.id`".to_owned())
    }
}

/// Signing and fixture helpers for the three Meta adapters' tests.
#[cfg(test)]
pub(crate) mod test_support {
    use hmac::{Hmac, Mac};
    use http::{HeaderMap, HeaderValue};
    use sha2::Sha256;

    use super::SIGNATURE_HEADER;
    use crate::platforms::webhook::{Handshake, WebhookAdapter, WebhookError, WebhookRequest};
    use crate::{accounts::AccountSecrets, secret::Secret};

    pub const APP_SECRET: &str = "f3b1c0ffee5ec4e7a9d2";
    pub const VERIFY_TOKEN: &str = "meatyhamhock";

    /// An account configured with both Meta secrets.
    pub fn secrets() -> AccountSecrets {
        AccountSecrets::from([
            ("app_secret".to_owned(), Secret::new(APP_SECRET)),
            ("verify_token".to_owned(), Secret::new(VERIFY_TOKEN)),
        ])
    }

    /// The header value Meta would send for `body` signed with `secret`.
    pub fn signature(secret: &str, body: &[u8]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(body);
        format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
    }

    pub fn headers_with(signature: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(SIGNATURE_HEADER, HeaderValue::from_str(signature).unwrap());
        headers
    }

    /// Replaces `__NAME__` placeholders in a fixture; every placeholder must be given.
    pub fn fill(template: &str, values: &[(&str, &str)]) -> String {
        let body = values
            .iter()
            .fold(template.to_owned(), |body, (name, value)| {
                body.replace(name, value)
            });
        assert!(!body.contains("__"), "unfilled placeholder in {body}");
        body
    }

    /// Checks an adapter applies Meta's signature and handshake rules to `body`.
    pub fn assert_meta_auth(adapter: &dyn WebhookAdapter, body: &[u8]) {
        let verify = |headers: &HeaderMap, body: &[u8], secrets: &AccountSecrets| {
            let request = WebhookRequest {
                headers,
                query: "",
                body,
            };
            adapter.verify(&request, secrets)
        };
        let signed = headers_with(&signature(APP_SECRET, body));
        assert_eq!(verify(&signed, body, &secrets()), Ok(()));

        let forged = headers_with(&signature("not-the-app-secret", body));
        let mut altered = body.to_vec();
        altered.push(b' ');
        for (headers, body) in [
            (&forged, body),
            (&signed, altered.as_slice()),
            (&HeaderMap::new(), body),
        ] {
            assert!(matches!(
                verify(headers, body, &secrets()),
                Err(WebhookError::Unauthorized(_))
            ));
        }
        let mut no_app_secret = secrets();
        no_app_secret.remove("app_secret");
        assert!(matches!(
            verify(&signed, body, &no_app_secret),
            Err(WebhookError::NotConfigured(_))
        ));

        let query =
            format!("hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token={VERIFY_TOKEN}");
        assert_eq!(
            adapter.handshake(&query, &secrets()),
            Ok(Handshake::Echo("1158201444".into()))
        );
        let wrong = "hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=guess";
        assert!(matches!(
            adapter.handshake(wrong, &secrets()),
            Err(WebhookError::Unauthorized(_))
        ));
    }
}

#[cfg(test)]
mod tests {
    use http::HeaderMap;

    use super::test_support::{APP_SECRET, VERIFY_TOKEN, headers_with, secrets, signature};
    use super::*;
    use crate::secret::Secret;

    fn verify(
        headers: &HeaderMap,
        body: &[u8],
        secrets: &AccountSecrets,
    ) -> Result<(), WebhookError> {
        verify_signature(
            &WebhookRequest {
                headers,
                query: "",
                body,
            },
            secrets,
        )
    }

    const BODY: &[u8] = br#"{"object":"page","entry":[{"id":"1","messaging":[]}]}"#;

    #[test]
    fn a_body_signed_with_the_app_secret_verifies() {
        let headers = headers_with(&signature(APP_SECRET, BODY));
        assert_eq!(verify(&headers, BODY, &secrets()), Ok(()));
    }

    #[test]
    fn upper_case_hex_is_accepted() {
        let upper = signature(APP_SECRET, BODY)
            .replace("sha256=", "")
            .to_uppercase();
        let headers = headers_with(&format!("sha256={upper}"));
        assert_eq!(verify(&headers, BODY, &secrets()), Ok(()));
    }

    #[test]
    fn a_wrong_or_garbled_signature_is_refused() {
        let good = signature(APP_SECRET, BODY);
        let digest = good.trim_start_matches("sha256=");
        for bad in [
            signature("another-secret", BODY),
            format!("sha1={digest}"),
            digest.to_owned(),
            "sha256=not-hex".to_owned(),
            format!("sha256={}", &digest[..32]),
            "sha256=".to_owned(),
        ] {
            let result = verify(&headers_with(&bad), BODY, &secrets());
            assert!(
                matches!(result, Err(WebhookError::Unauthorized(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn a_missing_signature_is_refused() {
        let result = verify(&HeaderMap::new(), BODY, &secrets());
        assert!(matches!(result, Err(WebhookError::Unauthorized(_))));
    }

    #[test]
    fn an_account_without_an_app_secret_is_not_configured() {
        let headers = headers_with(&signature(APP_SECRET, BODY));
        let result = verify(&headers, BODY, &AccountSecrets::new());
        assert!(matches!(result, Err(WebhookError::NotConfigured(m)) if m.contains("app_secret")));
    }

    #[test]
    fn the_handshake_echoes_the_challenge_for_the_right_token() {
        let query =
            format!("hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token={VERIFY_TOKEN}");
        assert_eq!(
            handshake(&query, &secrets()),
            Ok(Handshake::Echo("1158201444".into()))
        );
    }

    #[test]
    fn the_handshake_is_refused_without_the_right_token_or_mode() {
        for query in [
            "hub.mode=subscribe&hub.challenge=1&hub.verify_token=meatyhamhoc",
            "hub.mode=subscribe&hub.challenge=1",
            "hub.mode=unsubscribe&hub.challenge=1&hub.verify_token=meatyhamhock",
            "hub_mode=subscribe&hub_challenge=1&hub_verify_token=meatyhamhock",
        ] {
            let result = handshake(query, &secrets());
            assert!(
                matches!(result, Err(WebhookError::Unauthorized(_))),
                "{query}"
            );
        }
        let no_challenge = "hub.mode=subscribe&hub.verify_token=meatyhamhock";
        assert!(matches!(
            handshake(no_challenge, &secrets()),
            Err(WebhookError::Malformed(_))
        ));
    }

    #[test]
    fn the_handshake_needs_a_verify_token_secret() {
        let only_app_secret =
            AccountSecrets::from([("app_secret".to_owned(), Secret::new(APP_SECRET))]);
        let query = "hub.mode=subscribe&hub.challenge=1&hub.verify_token=";
        assert!(matches!(
            handshake(query, &only_app_secret),
            Err(WebhookError::NotConfigured(_))
        ));
    }

    #[test]
    fn timestamps_are_read_from_numbers_or_strings() {
        let at = |json: &str| serde_json::from_str::<Timestamp>(json).unwrap();
        let expected =
            OffsetDateTime::from_unix_timestamp_nanos(1_458_692_752_478_000_000).unwrap();
        assert_eq!(at("1458692752478").read_millis(), Ok(expected));
        assert_eq!(at(r#""1458692752478""#).read_millis(), Ok(expected));
        // The postbacks reference's string example is in seconds.
        assert_eq!(
            at(r#""1527459824""#)
                .read_millis()
                .unwrap()
                .unix_timestamp(),
            1_527_459_824
        );
        assert_eq!(
            at(r#""1750275992""#)
                .read_seconds()
                .unwrap()
                .unix_timestamp(),
            1_750_275_992
        );
        assert_eq!(at(r#""1750275992""#).raw(), "1750275992");
        assert!(matches!(
            at(r#""soon""#).read_seconds(),
            Err(WebhookError::Malformed(_))
        ));
        assert!(matches!(
            at("9223372036854775807").read_seconds(),
            Err(WebhookError::Malformed(_))
        ));
    }
}
