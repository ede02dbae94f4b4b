//! What every platform adapter turns a webhook call into. Adapters verify the request on the
//! raw bytes before parsing anything, answer the platform's handshake, and parse the body into
//! [`InboundEvent`]s: one shape for seven platforms.

use std::borrow::Cow;

use http::HeaderMap;
use time::{Duration, OffsetDateTime};

use crate::accounts::AccountSecrets;

/// One customer event that may start a conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundEvent {
    /// The platform's id for the customer on this account (PSID, IGSID, wa_id, Telegram user
    /// id, Viber user id, LINE userId, WeChat openid).
    pub contact_id: String,
    /// What makes this delivery unique on the platform (message id, update_id, webhookEventId,
    /// WeChat `FromUserName:CreateTime`, or a synthetic key for id-less referrals); a
    /// redelivery carries the same key.
    pub dedupe_key: String,
    /// When the platform says it happened.
    pub at: OffsetDateTime,
    pub kind: EventKind,
    /// A ref value exactly as received: Messenger/Instagram `referral.ref`, Telegram start
    /// payload, Viber `context`, WeChat scene (without `qrscene_`). Checked later; may be
    /// forged or foreign.
    pub ref_value: Option<String>,
    /// Ad referral: Meta `ad_id` or Click-to-WhatsApp `source_id`.
    pub ad_id: Option<String>,
    /// Click-to-WhatsApp click id, kept for the record.
    pub ctwa_clid: Option<String>,
    /// Message text, where the event has one (WhatsApp and LINE carry the tag inside it).
    pub text: Option<String>,
    /// The platform's id of the business the event was sent to: Messenger Page id, Instagram
    /// professional account id, WhatsApp `phone_number_id`, LINE `destination`. One Meta app
    /// sends every Page's and number's events to one callback URL, so this, not the URL,
    /// says which account an event belongs to (see [`crate::accounts::Routes`]). `None` where
    /// the URL alone tells (Telegram, Viber, WeChat).
    pub recipient: Option<String>,
}

/// What kind of event started or continued the conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    /// A message the customer sent.
    Message,
    /// A button tap (Get Started, Icebreaker) carrying a referral.
    Postback,
    /// An open-thread referral without a message (m.me in an existing thread, ig.me).
    Referral,
    /// Opening the chat: Telegram `/start`, Viber `conversation_started`, LINE/WeChat follow
    /// or scan.
    Open,
}

impl EventKind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Message => "message",
            EventKind::Postback => "postback",
            EventKind::Referral => "referral",
            EventKind::Open => "open",
        }
    }
}

/// Why a webhook call was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    /// Signature, token or secret missing or wrong: 401, nothing stored.
    #[error("{0}")]
    Unauthorized(String),
    /// The account lacks the secret needed to verify this platform's calls: 403.
    #[error("{0}")]
    NotConfigured(String),
    /// The body is not what this platform sends: 400, nothing stored.
    #[error("{0}")]
    Malformed(String),
}

/// The answer to a platform's verification handshake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Handshake {
    /// 200 with this body (Meta's `hub.challenge`, WeChat's `echostr`).
    Echo(String),
}

/// A parsed webhook body: the events worth attributing. Kinds we do not use (delivery
/// receipts, reads, echoes, statuses, Viber's `webhook` check, LINE's empty verify call)
/// are simply absent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Parsed {
    pub events: Vec<InboundEvent>,
    /// Why each unreadable entry of a batch was left out (`entry[1].messaging[0]: no
    /// timestamp`). Meta retries a refused batch for hours and then disables the webhook, so
    /// one bad entry must not refuse the good ones: it is skipped, logged and counted, and
    /// stays in the stored raw body for a later `chatref attribution rebuild`.
    pub skipped: Vec<String>,
}

/// A request as the adapters see it: headers, raw query string and raw body bytes.
pub struct WebhookRequest<'a> {
    pub headers: &'a HeaderMap,
    pub query: &'a str,
    pub body: &'a [u8],
}

/// The one-time values of a request whose signature does not cover its body (WeChat's plain
/// mode signs only token, `timestamp` and `nonce`). A captured URL stays valid for the whole
/// clock window, so the handler remembers each pair with the body it came with and refuses
/// the pair with another body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplayNonce {
    /// The signed `timestamp`, Unix seconds.
    pub timestamp: i64,
    pub nonce: String,
    /// How far `timestamp` may be from our clock: once it is further, the request no longer
    /// verifies and the pair need not be remembered.
    pub window: Duration,
}

/// One platform's webhook rules.
pub trait WebhookAdapter: Send + Sync {
    /// Answers a GET handshake, or refuses it (wrong verify token or signature).
    fn handshake(&self, query: &str, secrets: &AccountSecrets) -> Result<Handshake, WebhookError>;

    /// Checks a POST came from the platform, on the raw bytes, in constant time.
    fn verify(
        &self,
        request: &WebhookRequest<'_>,
        secrets: &AccountSecrets,
    ) -> Result<(), WebhookError>;

    /// The body [`WebhookAdapter::parse`] reads and the store keeps, from a verified request:
    /// the body itself, or the plaintext of an encrypted push (WeChat safe mode), so stored
    /// payloads can be re-parsed without secrets.
    fn open<'a>(
        &self,
        request: &WebhookRequest<'a>,
        _secrets: &AccountSecrets,
    ) -> Result<Cow<'a, [u8]>, WebhookError> {
        Ok(Cow::Borrowed(request.body))
    }

    /// The request's one-time values, when its signature does not cover the body and replays
    /// must be refused by remembering them (see [`ReplayNonce`]); `None` when the signature
    /// covers the body.
    fn replay_nonce(
        &self,
        _request: &WebhookRequest<'_>,
        _secrets: &AccountSecrets,
    ) -> Option<ReplayNonce> {
        None
    }

    /// Parses a verified (and opened) body into events.
    fn parse(&self, body: &[u8]) -> Result<Parsed, WebhookError>;
}

/// Reads a named secret of the account, or says which one is missing.
pub fn require_secret<'a>(
    secrets: &'a AccountSecrets,
    name: &str,
) -> Result<&'a crate::secret::Secret, WebhookError> {
    secrets.get(name).ok_or_else(|| {
        WebhookError::NotConfigured(format!(
            "this account has no `{name}` secret; add it to verify webhooks"
        ))
    })
}

/// The value of `name` in a raw query string (decoded), as platforms send it.
pub fn query_param(query: &str, name: &str) -> Option<String> {
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}
